"""The README's 30-second example runs and prints what it says."""

import io
import pathlib
import re
from contextlib import redirect_stdout

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_thirty_second_example_runs():
    text = README.read_text()
    section = text[text.index("## 30 seconds"):text.index("## Performance")]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    out = io.StringIO()
    ns = {}
    with redirect_stdout(out):
        exec(compile(code, str(README), "exec"), ns)
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ") and "[id" in line]
    assert out.getvalue().splitlines() == expected
    value, gradient = ns["f"](ns["np"].array([0.0, 1.0, ns["np"].e]))
    ns["np"].testing.assert_allclose(gradient, 1 / (1 + ns["np"].array([0.0, 1.0, ns["np"].e])))


def test_readme_has_exactly_two_setup_commands():
    text = README.read_text()
    setup = text[text.index("## Set up"):text.index("## 30 seconds")]
    commands = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    assert len(commands) == 2
    assert "jupyter lab notebooks/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    """.ci/run spells out the README's test command (and runs exactly it)."""
    text = README.read_text()
    readme_cmd = text.split("<!-- test-command -->", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]
    ci = (README.parent / ".ci" / "run").read_text()
    assert f"test_command='{readme_cmd}'" in ci
    install, run = (part.strip() for part in readme_cmd.split("&&"))
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert install in ci_lines and run in ci_lines
