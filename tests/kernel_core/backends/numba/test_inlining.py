"""inline_call: generated kernels pasted into their caller as source, helpers included.

The inlined statements are plain Python, so most checks run them with NumPy alone
(no numba compile); the last ones check the generated module of real graphs."""

import re

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import codegen
from opgraph.kernel_core.backends.numba.inlining import inline_call

ADD_INTO = ("def add_into_1(dst, src):\n"
            "    for j in range(dst.shape[0]):\n"
            "        dst[j] += src[j]\n")
INC = ("def inc_2(x, y):\n"
       "    out = x.copy()\n"
       "    add_into_1(out[1:], y)\n"
       "    add_into_1(out[:2], y[:2])\n"
       "    return out\n")
CALLEES = {"add_into_1": ADD_INTO, "inc_2": INC}


def _run(lines, **values):
    scope = dict(np=np, **values)
    exec("\n".join(lines), scope)
    return scope


def test_helper_procedures_are_pasted_into_the_caller():
    lines = inline_call(INC, ["a", "b"], "r", "_7_", CALLEES)
    assert lines is not None
    text = "\n".join(lines)
    assert "add_into_1(" not in text            # both sites inlined: no call left
    a, b = np.arange(4.0), np.array([10.0, 20.0, 30.0])
    got = _run(lines, a=a, b=b)["r"]
    np.testing.assert_array_equal(got, [10.0, 31.0, 22.0, 33.0])
    np.testing.assert_array_equal(a, np.arange(4.0))   # the copy, not the input, was written


def test_without_callees_the_helper_stays_a_call():
    lines = inline_call(INC, ["a", "b"], "r", "_7_")
    assert sum("add_into_1(" in line for line in lines) == 2


def test_two_sites_of_one_helper_get_distinct_locals():
    helper = ("def scale_3(x):\n"
              "    t = x * 2.0\n"
              "    return t + 1.0\n")
    caller = ("def f_4(x):\n"
              "    u = scale_3(x)\n"
              "    v = scale_3(u)\n"
              "    return u + v\n")
    lines = inline_call(caller, ["z"], "r", "_0_", {"scale_3": helper})
    text = "\n".join(lines)
    assert "scale_3(" not in text
    assert _run(lines, z=1.0)["r"] == 3.0 + 7.0


def test_helper_with_an_early_return_stays_a_call():
    helper = ("def pick_5(x, c):\n"
              "    if c:\n"
              "        return x\n"
              "    raise ValueError('no')\n")
    caller = ("def g_6(x, c):\n"
              "    y = pick_5(x, c)\n"
              "    return y\n")
    lines = inline_call(caller, ["a", "k"], "r", "_1_", {"pick_5": helper})
    assert any("pick_5(a, k)" in line for line in lines)


def test_procedure_is_not_inlined_where_its_value_is_used():
    assert inline_call(ADD_INTO, ["a", "b"], "r", "_2_") is None
    assert inline_call(ADD_INTO, ["a", "b"], None, "_2_") is not None


def test_a_helper_calling_itself_stops_at_the_nesting_limit():
    loop = ("def rec_8(x):\n"
            "    y = rec_8(x)\n"
            "    return y\n")
    lines = inline_call(loop, ["a"], "r", "_3_", {"rec_8": loop})
    assert lines is not None and sum("rec_8(" in line for line in lines) == 1


def _graph_function_source(inputs, outputs):
    f = opgraph.function(inputs, outputs, mode="NUMBA")
    src = codegen.generate_module(f.maker.fgraph, cache_flag=False).source
    return src[src.index(f"def {codegen.GRAPH_FUNCTION}("):]


def test_graph_function_calls_no_assign_or_check_helpers():
    from opgraph.logprob import logp

    x, y = pt.vector("x"), pt.vector("y")
    inc = pt.inc_subtensor(x[1:], y)
    sigma = pt.scalar("sigma")
    z = pt.random.normal(0.0, sigma, size=(3,))
    lp = logp(z, x)
    body = _graph_function_source([x, y, sigma], [inc, lp])
    assert not re.search(r"\b(add_into|check_parameter)_\d+\(", body)


def test_large_or_often_called_helpers_stay_calls():
    # (Numba's compile grows faster than linearly with one function's size: the wide
    # Join's chunk kernels stay functions of their own.)
    big = "def big_9(dst):\n" + "".join(f"    dst[{k}] = {k}.0\n" for k in range(40))
    caller = "def h_10(x):\n    big_9(x)\n    return x\n"
    lines = inline_call(caller, ["a"], "r", "_5_", {"big_9": big})
    assert any(line.startswith("big_9(") for line in lines)
    many = "def m_11(x):\n" + "    add_into_1(x, x)\n" * 12 + "    return x\n"
    lines = inline_call(many, ["a"], "r", "_6_", CALLEES)
    assert sum(line.startswith("add_into_1(") for line in lines) == 12
