"""%%pytensor / %pytensor in a real IPython shell: displays, options, stored results, usage errors."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from opgraph.magics.options import CELL_USAGE, LINE_USAGE

CELL = "x = pt.vector('x')\ny = pt.log(1 + x)\n"


def run_magic(ip, line, cell=None):
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        if cell is None:
            ip.run_line_magic("pytensor", line)
        else:
            ip.run_cell_magic("pytensor", line, cell)
    return cap


def htmls(cap):
    return [o.data["text/html"] for o in cap.outputs if "text/html" in o.data]


def test_new_sink_variables_are_displayed(shell):
    cap = run_magic(shell, "", CELL)
    assert cap.stderr == ""
    [html] = htmls(cap)
    assert "Log [id A]" in html and "ExpandDims{axis=0}" in html
    res = shell.user_ns["_pytensor"]
    assert [str(v) for v in res.outputs] == ["Log.0"]
    assert res.names == ["y"]
    assert res.rewritten is None and res.history is None and res.function is None and res.profile is None
    if shutil.which("dot"):
        svg = html[html.index("<svg"): html.index("</svg>") + 6]
        assert ET.fromstring(svg).tag.endswith("svg")


def test_namespace_has_pt_np_opgraph(shell):
    run_magic(shell, "", "z = pt.exp(pt.as_tensor(np.ones(2)))\n")
    import opgraph

    assert shell.user_ns["opgraph"] is opgraph
    assert "grad" in shell.user_ns and "function" in shell.user_ns and "rewrite_graph" in shell.user_ns


def test_last_expression_wins_over_sinks(shell):
    cap = run_magic(shell, "", "x = pt.vector('x')\ny = pt.exp(x)\nz = pt.sin(x)\nz\n")
    [html] = htmls(cap)
    assert "Sin [id A]" in html and "Exp" not in html


def test_two_sinks_shown_together(shell):
    cap = run_magic(shell, "", "x = pt.vector('x')\ny = pt.exp(x)\nz = pt.sin(x)\n")
    [html] = htmls(cap)
    assert "Exp [id A]" in html and "Sin [id C]" in html
    assert shell.user_ns["_pytensor"].names == ["y", "z"]


def test_show_option(shell):
    cap = run_magic(shell, "--show y", "x = pt.vector('x')\ny = pt.exp(x)\nz = pt.sin(y)\n")
    [html] = htmls(cap)
    assert "Exp [id A]" in html and "Sin" not in html


def test_type_and_text_format(shell):
    cap = run_magic(shell, "--type --format text", CELL)
    [html] = htmls(cap)
    assert "Log [id A] &lt;Vector(float64, shape=(?,))&gt;" in html
    assert "<svg" not in html


def test_svg_format_without_dot_falls_back_to_text(shell, no_dot):
    cap = run_magic(shell, "--format svg", CELL)
    [html] = htmls(cap)
    assert "Log [id A]" in html and "apt-get install graphviz" in html and "<svg" not in html
    assert cap.stderr == ""


def test_rewrite_shows_before_after_and_rules(shell):
    cap = run_magic(shell, "-r canonicalize,stabilize", "x = pt.vector('x')\ny = pt.log(1 + x) * 1\n")
    [html] = htmls(cap)
    assert "Before" in html and "After" in html
    assert "Rules that fired" in html and "mul_canonical" in html
    res = shell.user_ns["_pytensor"]
    assert res.rewritten is not None and len(res.history) >= 1
    assert {r.rule for r in res.history} >= {"mul_canonical"}
    # the rewritten graph no longer multiplies by one
    assert str(res.rewritten[0].owner.op) != "Mul"


def test_unknown_tag_prints_one_usage_line(shell):
    cap = run_magic(shell, "-r nonsense", CELL)
    lines = cap.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown rewrite tag 'nonsense'" in lines[0] and CELL_USAGE in lines[0]
    assert "Traceback" not in cap.stdout + cap.stderr
    assert shell.run_cell("1 + 1").result == 2  # the shell carries on


@pytest.mark.parametrize("line", ["--bogus", "--format pdf", "-o 1abc", "-i 'x=(' -p", "-g"])
def test_bad_options_print_one_usage_line(shell, line):
    cap = run_magic(shell, line, CELL)
    lines = cap.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("%%pytensor:") and CELL_USAGE in lines[0]
    assert "Traceback" not in cap.stdout


def test_grad_option(shell):
    cap = run_magic(shell, "-g x", "x = pt.vector('x')\ny = pt.log(1 + x).sum()\n")
    assert cap.stderr == ""
    [html] = htmls(cap)
    assert "∂y/∂x" in html
    grads = shell.user_ns["_pytensor"].grads
    assert len(grads) == 1
    np.testing.assert_allclose(grads[0].eval({shell.user_ns["x"]: np.array([0.0, 1.0])}), [1.0, 0.5])


def test_grad_of_non_scalar_is_one_line(shell):
    cap = run_magic(shell, "-g x", CELL)
    assert "not a scalar" in cap.stderr and len(cap.stderr.strip().splitlines()) == 1


def test_grad_unknown_name_is_one_line(shell):
    cap = run_magic(shell, "-g nope", "x = pt.vector('x')\ny = x.sum()\n")
    assert "-g nope: NameError" in cap.stderr


def test_compile_option(shell):
    cap = run_magic(shell, "-c PYTHON", "x = pt.vector('x')\ny = pt.log(1 + x).sum()\n")
    html = htmls(cap)[-1]
    assert "Compiled function" in html and "Compile time" in html and "rewrite" in html
    f = shell.user_ns["_pytensor"].function
    assert f is not None
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.log(2.0))


def test_compile_bad_mode_is_one_line(shell):
    cap = run_magic(shell, "-c NOPE", "x = pt.vector('x')\ny = x.sum()\n")
    assert len(cap.stderr.strip().splitlines()) == 1 and "NOPE" in cap.stderr


def test_profile_option_shows_table(shell):
    cap = run_magic(shell, "-c PYTHON -p -i 'x=np.arange(4.0)' -o res",
                    "x = pt.vector('x')\ny = pt.exp(x).sum()\n")
    assert cap.stderr == ""
    html = htmls(cap)[-1]
    assert "Time per Op class" in html and "Time per node" in html and 'class="opg-bar"' in html
    res = shell.user_ns["_pytensor"]
    assert shell.user_ns["res"] is res
    assert res.profile is not None and res.profile.fct_callcount == 1
    np.testing.assert_allclose(res.values, np.exp(np.arange(4.0)).sum())


def test_profile_missing_input_is_one_line(shell):
    cap = run_magic(shell, "-c PYTHON -p", "x = pt.vector('x')\ny = pt.exp(x).sum()\n")
    assert "needs a value for input x" in cap.stderr
    assert len(cap.stderr.strip().splitlines()) == 1


def test_step_option_opens_stepper(shell):
    cap = run_magic(shell, "-s -r canonicalize", "x = pt.vector('x')\ny = pt.log(1 + x) * 1\n")
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in cap.outputs)
    stepper = shell.user_ns["_pytensor"].stepper
    assert stepper is not None and len(stepper.steps) >= 1


def test_user_code_error_shows_its_traceback_and_keeps_going(shell):
    cap = run_magic(shell, "", "x = pt.vector('x')\nraise ValueError('mine')\n")
    assert "ValueError" in cap.stdout + cap.stderr and "mine" in cap.stdout + cap.stderr
    assert shell.run_cell("2 * 3").result == 6


def test_line_magic(shell):
    run_magic(shell, "", CELL)
    cap = run_magic(shell, "pt.exp(y)")
    [html] = htmls(cap)
    assert "Exp [id A]" in html and "Log [id B]" in html
    assert shell.user_ns["_pytensor"].names == ["pt.exp(y)"]


def test_line_magic_with_rewrite(shell):
    run_magic(shell, "", "x = pt.vector('x')\ny = x * 1\n")
    cap = run_magic(shell, "-r canonicalize y")
    assert "Rules that fired" in htmls(cap)[0]


def test_line_magic_errors_are_one_line(shell):
    cap = run_magic(shell, "1 +")
    assert cap.stderr.startswith("%pytensor: not an expression") and LINE_USAGE in cap.stderr
    cap = run_magic(shell, "3")
    assert "is a int, not a graph" in cap.stderr
    cap = run_magic(shell, "")
    assert "no expression" in cap.stderr


def test_large_graph_cell_shows_a_summary(shell):
    cell = "x = pt.vector('x')\ny = x\nfor _ in range(10_000):\n    y = pt.exp(y)\n"
    cap = run_magic(shell, "", cell)
    assert cap.stderr == ""
    [out] = [o.data for o in cap.outputs if "text/html" in o.data]
    assert "Large graph: 10,000 nodes" in out["text/html"] and "Large graph: 10,000 nodes" in out["text/plain"]
    # the whole tree would be ~1 MB of text (450 M characters before dprint was linear)
    assert len(out["text/html"]) + len(out["text/plain"]) < 50_000


def plain(cap):
    """Captured output without the terminal colour codes of IPython's tracebacks."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", cap.stdout + cap.stderr)


def test_bad_input_value_is_one_usage_line(shell):
    cap = run_magic(shell, "-c PYTHON -p -i 'x=np.ones((2, 2))'", "x = pt.vector('x')\ny = pt.exp(x).sum()\n")
    lines = cap.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("%%pytensor: -i:") and CELL_USAGE in lines[0]
    assert "expected 1 dimensions" in lines[0] and "'x'" in lines[0]
    assert "Traceback" not in plain(cap)


def test_syntax_error_points_at_the_cells_line(shell):
    out = plain(run_magic(shell, "", "x = pt.vector('x')\ny = (x +\n"))
    assert "<unknown>" not in out
    assert "line 2" in out and "y = (x +" in out and "'(' was never closed" in out
    assert len(out.strip().splitlines()) <= 5


def test_user_error_traceback_starts_at_the_cell_and_shows_its_line(shell):
    out = plain(run_magic(shell, "", "x = pt.vector('x')\ny = 1 / 0\n"))
    assert "----> 2 y = 1 / 0" in out and "ZeroDivisionError" in out
    assert "outputs.py" not in out and "pytensor_magic.py" not in out
    assert "Could not get source" not in out


def test_cells_get_ipython_syntax_like_normal_cells(shell):
    import os

    run_magic(shell, "", "x = pt.vector('x')\nhere = %pwd\ny = pt.exp(x)\n")
    assert shell.user_ns["here"] == os.getcwd()
    assert [str(v) for v in shell.user_ns["_pytensor"].outputs] == ["Exp.0"]


def test_line_magic_user_error_shows_the_expression(shell):
    out = plain(run_magic(shell, "pt.exp(1 / 0)"))
    assert "ZeroDivisionError" in out and "pt.exp(1 / 0)" in out
    assert "pytensor_magic.py" not in out


def _help_text(shell, query):
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        shell.run_cell(query)
    return " ".join(plain(cap).split())


@pytest.mark.parametrize("query, parser", [("%%pytensor?", "cell_parser"), ("%pytensor?", "line_parser")])
def test_question_mark_help_lists_every_option(shell, query, parser):
    from opgraph.magics import options

    text = _help_text(shell, query)
    assert "CELL_USAGE" not in text
    actions = getattr(options, parser)()._actions
    assert len(actions) >= 6
    for action in actions:
        for flag in action.option_strings:
            assert flag in text, flag
        # the help sentence too, not just the flag
        assert " ".join(action.help.split()) in text, action.dest
    if query.startswith("%%"):
        for flag in ("-r", "-x", "-g", "-c", "-p", "-i", "-s", "-o", "--show", "--type", "--format"):
            assert f"{flag} " in text or f"{flag}," in text
