"""PyTensor's rewriting API (opgraph.graph.rewriting.basic / .db / .utils,
opgraph.tensor.rewriting.basic, opgraph.compile.mode.optdb), run on PyTensor's own
documented examples with ``pytensor`` replaced by ``opgraph``: the gallery notebook
"PyTensor graph rewrites from scratch" and the "Graph Rewriting" extending guide.
"""

import warnings

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import Constant, FunctionGraph
from opgraph.graph.rewriting.basic import (
    EquilibriumGraphRewriter, GraphRewriter, MergeOptimizer, NodeRewriter, PatternNodeRewriter,
    WalkingGraphRewriter, copy_stack_trace, in2out, node_rewriter, out2in,
)
from opgraph.graph.rewriting.db import EquilibriumDB, RewriteDatabaseQuery, SequenceDB
from opgraph.graph.rewriting.utils import rewrite_graph
from opgraph.compile.mode import Mode, get_default_mode, get_mode, optdb
from opgraph.kernel_core.rewriting.db import rewrite_db
from opgraph.tensor.rewriting.basic import register_canonicalize, register_specialize, register_stabilize

REGISTERED = ("local_log1p_node_rewriter", "local_useless_abs_exp", "local_useless_abs_square", "simplify",
              "exp_log_stab", "exp_log_spec", "bare_registered", "my_eq_db")


@pytest.fixture(autouse=True)
def clean_database():
    yield
    for name in REGISTERED:
        rewrite_db.remove(name)


# -- the gallery notebook's rewriters -------------------------------------------------
def local_log1p(node):
    if node.op != pt.log:
        return None
    add_node = node.inputs[0].owner
    if add_node is None:
        return None
    if add_node.op != pt.add or len(add_node.inputs) != 2:
        return None
    [x, y] = add_node.inputs
    if isinstance(x, Constant) and x.data == 1:
        return [pt.log1p(y)]
    if isinstance(y, Constant) and y.data == 1:
        return [pt.log1p(x)]
    return None


class LocalLog1pNodeRewriter(NodeRewriter):
    def tracks(self):
        return [pt.log]

    def transform(self, fgraph, node):
        return local_log1p(node)

    def __str__(self):
        return "local_log1p"


local_log1p_node_rewriter = LocalLog1pNodeRewriter()


def make_useless_abs_exp():
    @node_rewriter(tracks=[pt.abs])
    def local_useless_abs_exp(fgraph, node):
        exp_node = node.inputs[0].owner
        if exp_node is None or exp_node.op != pt.exp:
            return None
        return exp_node.outputs

    return local_useless_abs_exp


local_useless_abs_square = PatternNodeRewriter(
    (pt.abs, (pt.pow, "x", 2)),
    (pt.pow, "x", 2),
    name="local_useless_abs_square",
)


def notebook_graph():
    x = pt.scalar("x")
    y = pt.exp(x)
    z = pt.abs(y)
    w = pt.log(1.0 + z)
    return x, pt.abs(w ** 2)


def ops(var):
    """The chain of ops from ``var`` down through first inputs."""
    found = []
    while var.owner is not None:
        found.append(var.owner.op)
        var = var.owner.inputs[0]
    return found


def test_node_rewriter_subclass_with_in2out():
    x = pt.scalar("x")
    out = pt.exp(pt.log(1 + x))
    fg = FunctionGraph([x], [out])
    in2out(local_log1p_node_rewriter, name="local_log1p").rewrite(fg)
    assert ops(fg.outputs[0]) == [pt.exp, pt.log1p]
    assert fg.outputs[0].owner.inputs[0].owner.inputs == [fg.inputs[0]]


def test_in2out_with_decorated_and_pattern_rewriters():
    x, out = notebook_graph()
    fg = FunctionGraph([x], [out])
    rewrite = in2out(local_log1p_node_rewriter, make_useless_abs_exp(), local_useless_abs_square,
                     name="custom_rewrites")
    rewrite.rewrite(fg)
    # Pow(Log1p(Exp(x)), 2), as in the notebook
    result = fg.outputs[0]
    assert ops(result) == [pt.pow, pt.log1p, pt.exp]
    assert result.owner.inputs[1].data == 2


def test_optdb_registration_and_optimizer_verbose(capsys):
    x, out = notebook_graph()
    optdb["canonicalize"].register("local_log1p_node_rewriter", local_log1p_node_rewriter,
                                   "fast_compile", "fast_run", "custom")
    assert "local_log1p_node_rewriter" in optdb["canonicalize"]
    with opgraph.config.change_flags(optimizer_verbose=True):
        fn = opgraph.function([x], out, mode="FAST_COMPILE")
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["rewriting: rewrite local_log1p replaces Log.0 of Log(Add.0) with Log1p.0 of Log1p(Abs.0)"]
    assert ops(fn.maker.fgraph.outputs[0]) == [pt.abs, pt.pow, pt.log1p, pt.abs, pt.exp]

    # register_canonicalize as a decorator with a tag, and called directly
    register_canonicalize("custom")(make_useless_abs_exp())
    assert register_canonicalize(local_useless_abs_square, "custom") is local_useless_abs_square
    with opgraph.config.change_flags(optimizer_verbose=True):
        fn = opgraph.function([x], out, mode="FAST_COMPILE")
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[2] for line in printed) == [
        "local_log1p", "local_useless_abs_exp", "local_useless_abs_square"]
    assert ops(fn.maker.fgraph.outputs[0]) == [pt.pow, pt.log1p, pt.exp]
    assert fn(0.5) == pytest.approx(np.log1p(np.exp(0.5)) ** 2)

    # ... and excluded again by their tag
    fn = opgraph.function([x], out, mode=get_mode("FAST_COMPILE").excluding("custom"))
    assert ops(fn.maker.fgraph.outputs[0]) == [pt.abs, pt.pow, pt.log, pt.add]


def test_register_decorators_bare_named_and_phases():
    @register_canonicalize
    @node_rewriter([pt.exp])
    def bare_registered(fgraph, node):
        return None

    entry = rewrite_db["bare_registered"]
    assert {"canonicalize", "fast_run", "fast_compile"} <= entry.tags
    assert isinstance(bare_registered, NodeRewriter)

    rule = PatternNodeRewriter((pt.exp, (pt.log, "x")), "x")
    register_stabilize(rule, "mine", name="exp_log_stab")
    register_specialize(name="exp_log_spec")(PatternNodeRewriter((pt.exp, (pt.log, "x")), "x"))
    assert rewrite_db["exp_log_stab"].position == 2.0  # the stabilize phase
    assert {"stabilize", "fast_run", "mine"} <= rewrite_db["exp_log_stab"].tags
    assert "fast_compile" not in rewrite_db["exp_log_stab"].tags
    assert rewrite_db["exp_log_spec"].position == 3.0

    x = pt.vector("x")
    y = pt.exp(pt.log(x))
    assert rewrite_graph(y, include=("mine",)).owner is None  # exp(log(x)) -> x
    assert rewrite_graph(y, include=("mine",), exclude=("exp_log_stab",)).owner.op == pt.exp


# -- the extending guide's scalar examples ------------------------------------------
def scalar_graph():
    from opgraph.scalar import add, float64, mul, true_div

    x, y, z = float64("x"), float64("y"), float64("z")
    a = add(z, mul(true_div(mul(y, x), y), true_div(z, x)))
    return FunctionGraph([x, y, z], [a])


def test_graph_rewriter_subclass_and_walking_node_rewriter():
    from opgraph.scalar import add, mul, true_div

    class Simplify(GraphRewriter):
        def add_requirements(self, fgraph):
            self.required = fgraph

        def apply(self, fgraph):
            for node in fgraph.toposort():
                if node.op == true_div:
                    x, y = node.inputs
                    z = node.outputs[0]
                    if x.owner and x.owner.op == mul:
                        a, b = x.owner.inputs
                        if y == a:
                            fgraph.replace_validate(z, b)
                        elif y == b:
                            fgraph.replace_validate(z, a)

    class LocalSimplify(NodeRewriter):
        def transform(self, fgraph, node):
            if node.op == true_div:
                x, y = node.inputs
                if x.owner and x.owner.op == mul:
                    a, b = x.owner.inputs
                    if y == a:
                        return [b]
                    elif y == b:
                        return [a]
            return False

        def tracks(self):
            return [true_div]

    def check(fg):
        # add(z, mul(x, true_div(z, x)))
        out = fg.outputs[0]
        x, _, z = fg.inputs
        assert out.owner.op == add and out.owner.inputs[0] is z
        m = out.owner.inputs[1].owner
        assert m.op == mul and m.inputs[0] is x and m.inputs[1].owner.op == true_div

    simplify = Simplify()
    fg = scalar_graph()
    simplify.rewrite(fg)
    assert simplify.required is fg
    check(fg)

    fg = scalar_graph()
    assert WalkingGraphRewriter(LocalSimplify()).rewrite(fg) == 1
    check(fg)

    # The guide's pattern version: two patterns for the two orders of mul's inputs
    local_simplify_1 = PatternNodeRewriter((true_div, (mul, "x", "y"), "y"), "x")
    local_simplify_2 = PatternNodeRewriter((true_div, (mul, "x", "y"), "x"), "y")
    fg = scalar_graph()
    in2out(local_simplify_1).rewrite(fg)
    assert fg.outputs[0].owner.inputs[1].owner.inputs[0].owner.op == true_div  # not this order
    in2out(local_simplify_1, local_simplify_2).rewrite(fg)
    check(fg)


def test_merge_optimizer_then_simplify():
    from opgraph.scalar import add, float64, mul, true_div

    x, y, z = float64("x"), float64("y"), float64("z")
    fg = FunctionGraph([x, y, z], [true_div(mul(add(y, z), x), add(y, z))])
    simplify = in2out(PatternNodeRewriter((true_div, (mul, "x", "y"), "x"), "y"))
    simplify.rewrite(fg)
    assert fg.outputs[0].owner.op == true_div  # the two add(y, z) are different variables
    MergeOptimizer().rewrite(fg)
    simplify.rewrite(fg)
    assert fg.outputs[0] is fg.inputs[0]


def test_tracks_filter_which_nodes_a_rewriter_sees():
    seen = []

    @node_rewriter([pt.exp])
    def spy(fgraph, node):
        seen.append(node.op)
        return None

    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.log(pt.exp(x) + pt.sin(x))])
    in2out(spy).rewrite(fg)
    assert seen == [pt.exp]


def test_out2in_and_equilibrium():
    @node_rewriter([pt.neg])
    def neg_neg(fgraph, node):
        inner = node.inputs[0].owner
        if inner is not None and inner.op == pt.neg:
            return [inner.inputs[0]]
        return None

    x = pt.vector("x")
    y = -(-(-(-x)))
    fg = FunctionGraph([x], [pt.exp(y)])
    out2in(neg_neg).rewrite(fg)
    assert ops(fg.outputs[0]) == [pt.exp]

    # a rule that only fires once its input was rewritten needs the equilibrium
    @node_rewriter([pt.exp])
    def exp_log(fgraph, node):
        inner = node.inputs[0].owner
        if inner is not None and inner.op == pt.log:
            return [inner.inputs[0]]
        return None

    fg = FunctionGraph([x], [pt.exp(pt.log(pt.exp(pt.log(x))))])
    n = EquilibriumGraphRewriter([exp_log, neg_neg], max_use_ratio=10).rewrite(fg)
    assert fg.outputs[0] is fg.inputs[0] and n == 2


def test_pattern_syntax_errors_are_clear():
    with pytest.raises(TypeError, match="must be an Op"):
        PatternNodeRewriter(("log", "x"), "x")
    with pytest.raises(TypeError, match="in_pattern must be an operation"):
        PatternNodeRewriter("x", "x")
    with pytest.raises(TypeError, match="unknown dict pattern key"):
        PatternNodeRewriter((pt.exp, {"pattern": "x", "when": None}), "x")


def test_pattern_constraint():
    rule = PatternNodeRewriter((pt.exp, (pt.log, {"pattern": "x", "constraint": lambda v: v.name == "pos"})), "x")
    pos, other = pt.vector("pos"), pt.vector("other")
    assert rewrite_graph(pt.exp(pt.log(pos)), include=(), custom_rewrite=rule) is pos
    assert rewrite_graph(pt.exp(pt.log(other)), include=(), custom_rewrite=rule).owner.op == pt.exp


# -- databases, queries, modes ----------------------------------------------------------
def test_rewrite_database_query_on_optdb():
    q = RewriteDatabaseQuery(include=["fast_run"], exclude=["inplace"])
    assert q.including("x").include == ("fast_run", "x") and q.excluding("y").exclude == ("inplace", "y")
    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.log(1 + pt.exp(x))])
    optdb.query(q).rewrite(fg)
    assert fg.outputs[0].owner.op == pt.softplus
    fg = FunctionGraph([x], [pt.log(1 + x)])
    optdb["canonicalize"].query(RewriteDatabaseQuery(include=["fast_run"])).rewrite(fg)
    assert fg.outputs[0].owner.op == pt.log  # log1p is a stabilization, not a canonicalization


def test_graph_rewriter_registered_in_optdb_runs_in_fast_run():
    calls = []

    class Simplify(GraphRewriter):
        def apply(self, fgraph):
            calls.append(len(fgraph.apply_nodes))

    optdb.register("simplify", Simplify(), "fast_run", position=0.5)
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x), mode=Mode(linker="py", optimizer="fast_run"))
    assert calls and f([0.0]) == [1.0]
    calls.clear()
    opgraph.function([x], pt.exp(x), mode=Mode(linker="py", optimizer="fast_compile"))
    assert calls == []
    with pytest.raises(TypeError, match="needs a position"):
        optdb.register("simplify", Simplify(), "fast_run")


def test_stand_alone_databases():
    @node_rewriter([pt.exp])
    def exp_log(fgraph, node):
        inner = node.inputs[0].owner
        if inner is not None and inner.op == pt.log:
            return [inner.inputs[0]]
        return None

    db = EquilibriumDB()
    db.register("exp_log", exp_log, "mine")
    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.exp(pt.log(x))])
    db.query("mine").rewrite(fg)
    assert fg.outputs[0] is fg.inputs[0]
    assert EquilibriumDB().query("mine").rewrite(fg) == []  # an empty database: a rewriter doing nothing
    seq = SequenceDB()
    seq.register("eq", db, "mine", position=1)
    fg = FunctionGraph([x], [pt.exp(pt.log(x))])
    seq.query("mine").rewrite(fg)
    assert fg.outputs[0] is fg.inputs[0]
    optdb.register("my_eq_db", db, "fast_run", position=1.5)
    fg = FunctionGraph([x], [pt.exp(pt.log(x))])
    rewrite_graph(fg, include=("fast_run",), clone=False)
    assert fg.outputs[0] is fg.inputs[0]


def test_mode_including_unknown_tag_warns_once_and_is_ignored():
    x = pt.vector("x")
    mode = get_mode("FAST_COMPILE").including("no_such_tag_zz").excluding("custm_zz")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = opgraph.function([x], x + 1, mode=mode)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert messages[0].startswith("Mode.including: Unknown rewrite tag 'no_such_tag_zz'")
    assert messages[0].endswith("ignored (as PyTensor does)")
    assert messages[1].startswith("Mode.excluding: Unknown rewrite tag 'custm_zz'")
    assert f([1.0]) == [2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opgraph.function([x], x + 2, mode=mode)  # once: no second warning


def test_unknown_tag_message_is_short_and_names_the_closest():
    x = pt.vector("x")
    with pytest.raises(ValueError) as info:
        rewrite_graph(x + 1, include=("stabilise",))
    msg = str(info.value)
    assert "'stabilise' (closest known tags: 'stabilize'" in msg
    assert len(msg) < 200 and "softplus" not in msg


def test_get_default_mode_and_mode_keywords():
    from opgraph.compile import get_default_mode as from_compile, optdb as optdb_from_compile

    assert from_compile is get_default_mode and optdb_from_compile is optdb
    assert get_default_mode() is get_mode(opgraph.config.mode)
    with opgraph.config.change_flags(mode="PYTHON"):
        assert get_default_mode().linker_name == "py"
    m = Mode(linker="py", optimizer=RewriteDatabaseQuery(include=["canonicalize"], exclude=["fill"]))
    assert m.rewrite_tags() == (("canonicalize",), ("fill",))
    assert Mode(optimizer="None").optimizer is None
    with pytest.raises(ValueError, match="unknown optimizer"):
        Mode(optimizer="o3")


def test_rewrite_graph_custom_rewrite_after_the_query():
    x = pt.scalar("x")
    out = pt.exp(pt.log(1 + x))
    result = rewrite_graph(out, include=("canonicalize",), custom_rewrite=in2out(local_log1p_node_rewriter))
    assert ops(result) == [pt.exp, pt.log1p]
    assert ops(out) == [pt.exp, pt.log, pt.add]  # the argument is untouched
    with pytest.raises(TypeError, match="custom_rewrite must be"):
        rewrite_graph(out, custom_rewrite="log1p")


def test_copy_stack_trace():
    x = pt.vector("x")
    y = pt.exp(x)
    z = pt.log(x)
    assert y.tag.trace != z.tag.trace
    copy_stack_trace(y, [z])
    assert z.tag.trace == y.tag.trace


def test_pattern_inner_nodes_need_a_single_client_unless_allowed():
    x = pt.vector("x")
    sq = x ** 2
    out = [pt.abs(sq), sq + 1]  # the Pow has a second client
    strict = PatternNodeRewriter((pt.abs, (pt.pow, "x", 2)), (pt.pow, "x", 2))
    loose = PatternNodeRewriter((pt.abs, (pt.pow, "x", 2)), (pt.pow, "x", 2), allow_multiple_clients=True)
    assert rewrite_graph(out, include=(), custom_rewrite=strict)[0].owner.op == pt.abs
    assert rewrite_graph(out, include=(), custom_rewrite=loose)[0].owner.op == pt.pow
    assert rewrite_graph(pt.abs(x ** 2), include=(), custom_rewrite=strict).owner.op == pt.pow


def test_requirements_run_and_unsupported_arguments_are_refused():
    seen = []

    @node_rewriter([pt.exp], requirements=(seen.append,))
    def noop(fgraph, node):
        return None

    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.exp(x)])
    in2out(noop).rewrite(fg)
    assert seen == [fg]
    with pytest.raises(NotImplementedError, match="inplace=True"):
        node_rewriter([pt.exp], inplace=True)
    with pytest.raises(NotImplementedError, match="failure_callback"):
        in2out(noop, failure_callback=print)
    with pytest.raises(NotImplementedError, match="values_eq_approx"):
        PatternNodeRewriter((pt.exp, "x"), "x", values_eq_approx=lambda a, b: True)
    with pytest.raises(NotImplementedError, match="subquery"):
        RewriteDatabaseQuery(include=["fast_run"], subquery={"canonicalize": None})
    with pytest.raises(TypeError, match="unexpected keyword"):
        EquilibriumGraphRewriter([noop], max_uses=3)


def test_tracks_must_be_ops():
    with pytest.raises(TypeError, match="is not an Op class or Op instance"):
        node_rewriter([pt.sum])  # a function that builds Sum ops, never a node's op

    class BadTracks(NodeRewriter):
        def tracks(self):
            return ["log"]

        def transform(self, fgraph, node):
            return None

    x = pt.vector("x")
    with pytest.raises(TypeError, match="'log' is not an Op"):
        in2out(BadTracks()).rewrite(FunctionGraph([x], [pt.log(x)]))


def test_pytensor_rewriting_names_opgraph_lacks_say_so():
    from opgraph._pytensor_api import NotImplementedInOpgraph

    with pytest.raises(NotImplementedInOpgraph, match="register_useless .* not implemented in opgraph"):
        from opgraph.tensor.rewriting.basic import register_useless  # noqa: F401
    with pytest.raises(NotImplementedInOpgraph, match="OpKeyGraphRewriter"):
        from opgraph.graph.rewriting.basic import OpKeyGraphRewriter  # noqa: F401


def test_a_user_rewrite_of_the_wrong_type_raises():
    # The gallery notebook's "first achievement": replacing a vector by a scalar zero.
    x = pt.vector("x", dtype="float32")
    zero = pt.zeros(())
    y = pt.exp(x) * zero

    @node_rewriter([pt.mul])
    def mul_by_zero_scalar(fgraph, node):
        return [pt.zeros(())]

    @node_rewriter([pt.mul])
    def mul_by_zero_vector(fgraph, node):
        return [pt.zeros(x.shape)]

    with pytest.raises(TypeError, match=r"rewrite mul_by_zero_scalar replaced Mul.0 of type .*must have the "
                                        r"same dtype and rank"):
        in2out(mul_by_zero_scalar).rewrite(FunctionGraph([x], [y]))
    fg = FunctionGraph([x], [y], clone=False)
    in2out(mul_by_zero_vector).rewrite(fg)
    assert fg.outputs[0].owner.op != pt.mul

    @node_rewriter([pt.exp])
    def cyclic(fgraph, node):
        return [node.outputs[0] + 1]

    with pytest.raises(ValueError, match="cycle"):
        in2out(cyclic).rewrite(FunctionGraph([x], [pt.exp(x)]))


def test_two_unnamed_rewriters_of_one_class_both_run():
    class Replace(NodeRewriter):
        def __init__(self, op, new):
            self.op, self.new = op, new

        def transform(self, fgraph, node):  # no tracks(): sees every node
            return [self.new(node.inputs[0])] if node.op == self.op else None

    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.exp(pt.log(x))])
    in2out(Replace(pt.exp, pt.sin), Replace(pt.log, pt.cos)).rewrite(fg)
    assert ops(fg.outputs[0]) == [pt.sin, pt.cos]


PUBLIC_REWRITING_MODULES = ("opgraph.graph.rewriting", "opgraph.graph.rewriting.basic", "opgraph.graph.rewriting.db",
                            "opgraph.graph.rewriting.utils", "opgraph.tensor.rewriting",
                            "opgraph.tensor.rewriting.basic", "opgraph.tensor.rewriting.math", "opgraph.compile.mode")


@pytest.mark.parametrize("module", PUBLIC_REWRITING_MODULES)
def test_public_rewriting_modules_export_their_names_and_hold_no_logic(module):
    import ast
    import importlib
    import inspect

    mod = importlib.import_module(module)
    for name in getattr(mod, "__all__", ()):
        assert getattr(mod, name) is not None, f"{module}.{name}"
    for stmt in ast.parse(inspect.getsource(mod)).body:
        assert isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assign)) or (
            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)), \
            f"{module} line {stmt.lineno}: public modules re-export only"
