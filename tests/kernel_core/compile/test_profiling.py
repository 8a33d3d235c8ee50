"""profile=True: per-node and per-Op timings, compile phases, text summary."""

import io

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile import ProfileStats


@pytest.fixture
def profiled():
    x = pt.vector("x")
    y = pt.exp(x) + pt.sin(x)
    f = opgraph.function([x], y.sum(), mode="PYTHON", profile=True, name="prof")
    for _ in range(3):
        f(np.arange(5.0))
    return f


def test_profile_is_collected(profiled):
    p = profiled.profile
    assert isinstance(p, ProfileStats)
    assert p.fct_callcount == 3
    assert p.fct_call_time > 0 and p.vm_call_time > 0
    assert p.compile_time >= p.rewrite_time + p.link_time > 0
    order = profiled.maker.order
    assert set(p.apply_time) == set(order)
    assert all(p.apply_callcount[n] == 3 for n in order)


def test_node_and_op_tables(profiled):
    p = profiled.profile
    nodes = p.node_table()
    assert len(nodes) == len(profiled.maker.order)
    assert [r.time for r in nodes] == sorted((r.time for r in nodes), reverse=True)
    assert abs(sum(r.percent for r in nodes) - 100.0) < 1e-6
    exp_row = next(r for r in nodes if r.op == "Exp")
    assert exp_row.input_shapes == ((5,),) and exp_row.calls == 3
    classes = {s.name: s for s in p.op_class_table()}
    assert "Elemwise{Exp}" in classes and classes["Elemwise{Exp}"].n_nodes == 1
    ops = {s.name for s in p.op_table()}
    assert {"Exp", "Sin", "Add"} <= ops
    d = p.as_dict()
    assert d["calls"] == 3 and d["name"] == "prof" and d["compile"]["total"] == p.compile_time
    assert all("node" not in row for row in d["nodes"])


def test_summary_text(profiled):
    buf = io.StringIO()
    profiled.profile.summary(file=buf)
    text = buf.getvalue()
    assert text.startswith("Function profile: prof")
    assert "compile time" in text and "calls: 3" in text
    for section in ("Op classes", "Ops", "Apply nodes"):
        assert section in text
    assert "Exp((5,))" in text
    assert profiled.profile.summary(file="str") == text


def test_profile_without_calls_summary():
    x = pt.vector("x")
    f = opgraph.function([x], x * 2, mode="PYTHON", profile=True)
    text = f.profile.summary(file="str")
    assert "calls: 0" in text and "no per-node timings" in text


def test_no_profile_by_default_and_explicit_object():
    x = pt.vector("x")
    assert opgraph.function([x], x * 2).profile is None
    stats = ProfileStats(name="mine")
    f = opgraph.function([x], x * 2, profile=stats, mode="PYTHON")
    f([1.0])
    assert f.profile is stats and stats.fct_callcount == 1
    stats.reset_calls()
    assert stats.fct_callcount == 0 and not stats.apply_time
    with pytest.raises(TypeError, match="profile"):
        opgraph.function([x], x, profile="yes")
