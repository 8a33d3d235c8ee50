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


# -- user-facing code imports only public paths ------------------------------------------
import ast  # noqa: E402
import importlib.util  # noqa: E402

import pytest  # noqa: E402

NOTEBOOK_BUILDER = README.parent / "notebooks" / "build_notebooks.py"


def _import_statements(code):
    """The import statements of a cell or block (IPython magics and shell lines dropped)."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _module_names(stmt):
    if isinstance(stmt, ast.ImportFrom):
        return [stmt.module or ""]
    return [alias.name for alias in stmt.names]


def _check_public_and_run(code, where):
    stmts = _import_statements(code)
    for stmt in stmts:
        for name in _module_names(stmt):
            assert "kernel_core" not in name, f"{where}: user-facing code imports the engine: {ast.unparse(stmt)}"
    exec(compile(ast.Module(body=stmts, type_ignores=[]), where, "exec"), {})
    return len(stmts)


def _notebook_code_cells():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOK_BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert len(module.NOTEBOOKS) >= 9
    for name, builder in module.NOTEBOOKS.items():
        for k, cell in enumerate(builder()):
            if cell.cell_type == "code":
                yield f"{name} cell {k}", cell.source


def test_readme_code_imports_only_public_paths():
    """Every python block of the README imports from public modules, and those imports run."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    assert sum(_check_public_and_run(b, f"README block {i}") for i, b in enumerate(blocks)) >= 10


def test_notebook_code_imports_only_public_paths():
    """The six notebooks' code cells (from their generator, the source of the .ipynb files)
    import only public modules, and those imports run."""
    count = sum(_check_public_and_run(src, where) for where, src in _notebook_code_cells())
    assert count >= 20


@pytest.fixture
def restore_rules():
    from opgraph.kernel_core.rewriting.api import load_rule_libraries
    from opgraph.kernel_core.rewriting.db import rewrite_db

    load_rule_libraries()
    before = {e.name for e in rewrite_db.entries()}
    yield
    for entry in rewrite_db.entries():
        if entry.name not in before:
            rewrite_db.remove(entry.name)


def test_readme_custom_rule_examples_run(restore_rules):
    """The 'Writing your own rewrite rule' section runs as written, and does what its comments say."""
    text = README.read_text()
    section = text[text.index("## Writing your own rewrite rule"):text.index("## Tutorials")]
    ns = {}
    out = io.StringIO()
    with redirect_stdout(out):
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", section, flags=re.S)):
            exec(compile(block, f"README rules block {i}", "exec"), ns)
    printed = out.getvalue()
    assert printed.startswith("y [id A]\n")                      # sqrt(y) ** 2 -> y
    assert "Cos [id A]\n └─ z [id B]\n" in printed                # cos(-z) -> cos(z)
    assert "['constant_folding', 'log1p', 'softplus']" in printed
