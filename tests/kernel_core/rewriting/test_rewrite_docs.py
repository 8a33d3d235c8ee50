"""The README section on custom rules runs and does what it says."""

import io
import pathlib
import re
from contextlib import redirect_stdout

from opgraph.kernel_core.rewriting.db import rewrite_db

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


def _section():
    text = README.read_text()
    start = text.index("## Writing your own rewrite rule")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_custom_rules_snippet_runs():
    blocks = re.findall(r"```python\n(.*?)```", _section(), flags=re.S)
    assert len(blocks) >= 3
    ns = {}
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            for block in blocks:
                exec(compile(block, str(README), "exec"), ns)
        text = out.getvalue()
        # pattern rule: sqrt(y) ** 2 -> y
        assert text.splitlines()[0] == "y [id A]"
        # function rule registered under canonicalize: cos(-z) -> cos(z)
        assert "Cos [id A]\n └─ z [id B]" in text
        assert "['constant_folding', 'log1p', 'softplus']" in text
        # the exclude-by-name form mentioned in the text works
        rw = ns["rewrite_graph"](ns["pt"].cos(-ns["z"]), exclude=("cos_of_neg",))
        assert str(rw.owner.inputs[0].owner.op) == "Neg"
    finally:
        for name in ("sqrt_sqr", "exp_log_positive", "cos_of_neg"):
            rewrite_db.remove(name)
