"""``opgraph.config``: change_flags as context manager and decorator, validation, optimizer_verbose."""

import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import rewrite_graph

config = opgraph.config


def test_change_flags_context_manager_restores_values():
    before = config.floatX
    with config.change_flags(floatX="float32") as cfg:
        assert cfg is config
        assert config.floatX == "float32"
        assert pt.vector("v").dtype == "float32"
    assert config.floatX == before


def test_change_flags_restores_on_exception():
    before = (config.floatX, config.optimizer_verbose)
    with pytest.raises(KeyError):
        with config.change_flags(floatX="float32", optimizer_verbose=True):
            raise KeyError("boom")
    assert (config.floatX, config.optimizer_verbose) == before


def test_change_flags_as_decorator_including_recursion_and_exceptions():
    seen = []

    @config.change_flags(optimizer_verbose=True)
    def inner(depth):
        seen.append(config.optimizer_verbose)
        if depth:
            inner(depth - 1)  # the same change_flags object is re-entered
        if depth == 0:
            raise ValueError("inside")

    assert config.optimizer_verbose is False
    with pytest.raises(ValueError, match="inside"):
        inner(2)
    assert seen == [True, True, True]
    assert config.optimizer_verbose is False


def test_change_flags_accepts_a_dict_and_nests():
    with config.change_flags({"floatX": "float32"}):
        with config.change_flags(floatX="float64"):
            assert config.floatX == "float64"
        assert config.floatX == "float32"
    assert config.floatX == "float64"


def test_a_bad_value_inside_change_flags_leaves_everything_unchanged():
    before = (config.floatX, config.mode)
    with pytest.raises(ValueError, match="config.mode must be one of"):
        with config.change_flags(floatX="float32", mode="O3"):
            pass  # pragma: no cover - never entered
    assert (config.floatX, config.mode) == before


def test_unknown_flags_name_the_flag():
    with pytest.raises(AttributeError, match=r"no option 'floatx' \(did you mean 'floatX'\?\)"):
        config.change_flags(floatx="float32")
    with pytest.raises(AttributeError, match="no option 'cxx'"):
        config.cxx = ""
    with pytest.raises(AttributeError, match="no option 'optimizer_verbos'"):
        config.optimizer_verbos


def test_compute_test_value_is_not_implemented_and_says_so():
    assert config.compute_test_value == "off"
    with pytest.raises(ValueError, match="test values are not implemented in opgraph"):
        config.compute_test_value = "raise"
    assert config.compute_test_value == "off"


def test_optimizer_verbose_is_a_boolean():
    with pytest.raises(ValueError, match="optimizer_verbose must be True or False"):
        config.optimizer_verbose = "yes please"
    with config.change_flags(optimizer_verbose="True"):  # as OPGRAPH_FLAGS spells it
        assert config.optimizer_verbose is True


def test_optimizer_verbose_prints_one_line_per_rewrite(capsys):
    x = pt.scalar("x")
    y = pt.log(1 + pt.exp(x))
    rewrite_graph(y, include=("canonicalize", "stabilize"))
    assert capsys.readouterr().out == ""  # off by default
    with config.change_flags(optimizer_verbose=True):
        rewrite_graph(y, include=("canonicalize", "stabilize"))
    lines = capsys.readouterr().out.splitlines()
    assert "rewriting: rewrite log1p replaces Log.0 of Log(Add.0) with Log1p.0 of Log1p(Exp.0)" in lines
    assert lines[-1] == "rewriting: rewrite softplus replaces Log1p.0 of Log1p(Exp.0) with Softplus.0 of Softplus(x)"
    assert all(line.startswith("rewriting: rewrite ") and " replaces " in line and " with " in line
               for line in lines)


def test_optimizer_excluding_and_including_apply_to_every_mode():
    x = pt.vector("x")
    y = pt.log(1 + x)
    f = opgraph.function([x], y, mode=opgraph.Mode(linker="py", optimizer="fast_run"))
    assert f.maker.fgraph.outputs[0].owner.op == pt.log1p
    with config.change_flags(optimizer_excluding="log1p:fusion:inplace"):
        f = opgraph.function([x], y, mode=opgraph.Mode(linker="py", optimizer="fast_run"))
        assert opgraph.Mode(optimizer="fast_run").rewrite_tags()[1] == ("log1p", "fusion", "inplace")
    assert f.maker.fgraph.outputs[0].owner.op == pt.log
    with config.change_flags(optimizer_including="log1p"):
        f = opgraph.function([x], y, mode="FAST_COMPILE")  # FAST_COMPILE alone keeps log(1 + x)
    assert f.maker.fgraph.outputs[0].owner.op == pt.log1p
    with pytest.raises(ValueError, match="separated by ':'"):
        config.optimizer_excluding = ["fusion"]


def test_optimizer_verbose_prints_whole_graph_passes_too(capsys):
    from opgraph.graph import FunctionGraph
    from opgraph.graph.rewriting.basic import GraphRewriter

    class ExpToSin(GraphRewriter):  # a user's pass replacing through the graph directly
        def apply(self, fgraph):
            for node in fgraph.toposort():
                if node.op == pt.exp:
                    fgraph.replace(node.outputs[0], pt.sin(node.inputs[0]))

    x = pt.vector("x")
    e = pt.exp(x)
    fg = FunctionGraph([x], [e + 1, e * 2])  # two clients: still one line
    with config.change_flags(optimizer_verbose=True):
        ExpToSin().rewrite(fg)
        out = capsys.readouterr().out
        # fusion, a whole-graph pass of opgraph's own, prints its replacements
        rewrite_graph(pt.exp(x) + pt.sin(x) * 2, include=("fast_run",), exclude=("inplace",))
    assert out == "rewriting: rewrite ExpToSin replaces Exp.0 of Exp(x) with Sin.0 of Sin(x)\n"
    assert any(line.startswith("rewriting: rewrite elemwise_fusion replaces Add.0 of Add(")
               for line in capsys.readouterr().out.splitlines())
