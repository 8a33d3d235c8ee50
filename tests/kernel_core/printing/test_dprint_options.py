"""dprint's keywords as PyTensor's debugprint documents them: ids, depth, shapes, names, shared ids, op info."""

import io
import re
import textwrap

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.printing.dprint import op_debug_information


def golden(text):
    return textwrap.dedent(text).lstrip("\n")


def log1p_graph():
    x = pt.vector("x")
    return x, pt.log(1 + x)


def test_id_type_empty_hides_ids():
    _, y = log1p_graph()
    assert y.dprint(id_type="", file="str") == golden("""
        Log
         └─ Add
            ├─ ExpandDims{axis=0}
            │  └─ 1
            └─ x
        """)


def test_id_type_int_counts_in_printing_order():
    x, y = log1p_graph()
    e = pt.exp(x)
    text = opgraph.dprint([y * e, e], id_type="int", file="str")
    assert text == golden("""
        Mul [id 0]
         ├─ Log [id 1]
         │  └─ Add [id 2]
         │     ├─ ExpandDims{axis=0} [id 3]
         │     │  └─ 1 [id 4]
         │     └─ x [id 5]
         └─ Exp [id 6]
            └─ x [id 5]
        Exp [id 6]
         └─ ···
        """)


def test_id_type_id_prints_python_ids():
    x, y = log1p_graph()
    text = y.dprint(id_type="id", file="str")
    assert text.splitlines()[0] == f"Log [id {id(y.owner)}]"
    assert text.splitlines()[-1].endswith(f"x [id {id(x)}]")


def test_bad_id_type_and_depth_are_clear_errors():
    _, y = log1p_graph()
    with pytest.raises(ValueError, match="id_type must be one of"):
        y.dprint(id_type="letters", file="str")
    with pytest.raises(ValueError, match="depth must be"):
        y.dprint(depth=1.5, file="str")
    with pytest.raises(TypeError, match="unexpected keyword"):
        y.dprint(nonsense=True, file="str")


def test_depth_limits_levels_and_a_cut_node_is_expanded_where_shallower():
    x = pt.vector("x")
    e = pt.exp(x)
    assert opgraph.dprint(pt.log(e), depth=1, file="str") == "Log [id A]\n"
    # Exp is cut at depth 2 under Mul's first input, then printed in full as the second root.
    text = opgraph.dprint([pt.sin(e) * 2, e], depth=3, file="str")
    assert text == golden("""
        Mul [id A]
         ├─ Sin [id B]
         │  └─ Exp [id C]
         └─ ExpandDims{axis=0} [id D]
            └─ 2 [id E]
        Exp [id C]
         └─ x [id F]
        """)


def test_print_shape():
    x = pt.matrix("x", shape=(None, 3))
    y = pt.exp(x).sum(axis=0)
    assert y.dprint(print_shape=True, file="str") == golden("""
        Sum{axis=0} [id A] shape=(3,)
         └─ Exp [id B] shape=(?, 3)
            └─ x [id C] shape=(?, 3)
        """)


def test_stop_on_name():
    x = pt.vector("x")
    h = pt.exp(pt.sin(x))
    h.name = "h"
    y = pt.log(h)
    assert y.dprint(stop_on_name=True, file="str") == golden("""
        Log [id A]
         └─ Exp [id B] 'h'
        """)
    assert "Sin" in y.dprint(file="str")


def test_done_and_used_ids_share_ids_across_calls():
    x = pt.vector("x")
    e = pt.exp(x)
    done, used = {}, {}
    first = opgraph.dprint(pt.log(e), done=done, used_ids=used, file="str")
    second = opgraph.dprint(pt.sin(e), done=done, used_ids=used, file="str")
    assert first == golden("""
        Log [id A]
         └─ Exp [id B]
            └─ x [id C]
        """)
    # Exp keeps its id and is not printed again; the new node gets the next free id.
    assert second == golden("""
        Sin [id D]
         └─ Exp [id B]
            └─ ···
        """)
    assert done[e.owner] == "[id B]" and used[x] == "[id C]"
    assert len(set(used.values())) == len(used) == 4


def test_file_object_is_written_and_returned():
    _, y = log1p_graph()
    buf = io.StringIO()
    assert y.dprint(file=buf) is buf
    assert buf.getvalue() == y.dprint(file="str")
    with pytest.raises(TypeError, match="file must be"):
        y.dprint(file=3)


def test_print_storage_is_rejected_not_ignored():
    _, y = log1p_graph()
    with pytest.raises(ValueError, match="print_storage is not supported"):
        y.dprint(print_storage=True, file="str")


def test_print_fgraph_inputs():
    x, y = pt.vector("x"), pt.vector("y")
    fg = FunctionGraph([x, y], [x + y], clone=False)
    assert fg.dprint(print_fgraph_inputs=True, file="str") == golden("""
        → x [id A]
        → y [id B]
        Add [id C]
         ├─ x [id A]
         └─ y [id B]
        """)
    assert not fg.dprint(file="str").startswith("→")


def test_memory_maps_of_a_compiled_function():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x) * 2 + x[::-1], mode="PYTHON")
    full = f.dprint(print_memory_map=True, file="str")
    assert full == f.dprint(print_destroy_map=True, print_view_map=True, file="str")
    assert "v={0: [0]}" in full  # the reversed slice is a view of x
    assert "v={" not in f.dprint(file="str")
    lines = f.dprint(print_fgraph_inputs=True, file="str").splitlines()
    assert lines[0] == "→ x [id A]"
    # toposort positions follow each node, as without the inputs
    assert re.search(r"\] \d+$", lines[1])
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), np.exp([1.0, 2.0]) * 2 + [2.0, 1.0])


class Tagged(Op):
    """A test op whose debug information names its input's role."""

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]


@op_debug_information.register(Tagged)
def _tagged_info(op, node):
    return {node: {node.inputs[0]: "role=data", node.outputs[0]: "role=result"}}


def test_print_op_info_uses_op_debug_information():
    x = pt.vector("x")
    y = pt.exp(Tagged()(x))
    assert y.dprint(print_op_info=True, file="str") == golden("""
        Exp [id A]
         └─ Tagged [id B] (role=result)
            └─ x [id C] (role=data)
        """)
    assert "role" not in y.dprint(file="str")
