"""Definition-stage dprint goldens: the seeds' printed graphs, character for character."""

import textwrap

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt


def golden(text):
    return textwrap.dedent(text).lstrip("\n")


def test_seed_001_log_1_plus_x():
    x = pt.tensor(shape=(3,), dtype="float64")
    y = pt.log(1 + x)
    assert y.dprint(file="str") == golden("""
        Log [id A]
         └─ Add [id B]
            ├─ ExpandDims{axis=0} [id C]
            │  └─ 1 [id D]
            └─ <Vector(float64, shape=(3,))> [id E]
        """)
    assert y.owner.inputs[0].dprint(file="str") == golden("""
        Add [id A]
         ├─ ExpandDims{axis=0} [id B]
         │  └─ 1 [id C]
         └─ <Vector(float64, shape=(3,))> [id D]
        """)


def test_dprint_prints_to_stdout_and_returns_none(capsys):
    x = pt.vector("x")
    assert pt.exp(x).dprint() is None
    assert opgraph.dprint(pt.exp(x)) is None
    assert capsys.readouterr().out == "Exp [id A]\n └─ x [id B]\n" * 2


def test_seed_002_sin_graph():
    a = pt.tensor("b", shape=(None,))
    b = 2 * pt.pi * a
    c = pt.sin(b)
    d = 1 + c
    assert d.dprint(file="str") == golden("""
        Add [id A]
         ├─ ExpandDims{axis=0} [id B]
         │  └─ 1 [id C]
         └─ Sin [id D]
            └─ Mul [id E]
               ├─ ExpandDims{axis=0} [id F]
               │  └─ 6.283185307179586 [id G]
               └─ b [id H]
        """)


def test_seed_002_dscalar_print_type():
    x = pt.dscalar("x")
    y = pt.log(1 + x)
    assert y.dprint(print_type=True, file="str") == golden("""
        Log [id A] <Scalar(float64, shape=())>
         └─ Add [id B] <Scalar(float64, shape=())>
            ├─ 1 [id C] <Scalar(int8, shape=())>
            └─ x [id D] <Scalar(float64, shape=())>
        """)


def test_seed_002_vector_print_type():
    x = pt.tensor("x", shape=(None,))
    y = pt.log(1 + x)
    assert y.dprint(print_type=True, file="str") == golden("""
        Log [id A] <Vector(float64, shape=(?,))>
         └─ Add [id B] <Vector(float64, shape=(?,))>
            ├─ ExpandDims{axis=0} [id C] <Vector(int8, shape=(1,))>
            │  └─ 1 [id D] <Scalar(int8, shape=())>
            └─ x [id E] <Vector(float64, shape=(?,))>
        """)


def test_seed_002_cos_of_matmul_graph():
    x = pt.vector("x", shape=(None,))
    z = pt.exp(pt.sin(x))
    out = pt.cos((z[None, :] @ z[:, None]).squeeze())
    assert out.dprint(file="str") == golden("""
        Cos [id A]
         └─ Squeeze{axes=[0, 1]} [id B]
            └─ Blockwise{dot, (m,k),(k,n)->(m,n)} [id C]
               ├─ ExpandDims{axis=0} [id D]
               │  └─ Exp [id E]
               │     └─ Sin [id F]
               │        └─ x [id G]
               └─ ExpandDims{axis=1} [id H]
                  └─ Exp [id E]
                     └─ ···
        """)
    xv = np.random.default_rng(0).normal(size=4)
    zv = np.exp(np.sin(xv))
    np.testing.assert_allclose(out.eval({x: xv}), np.cos(zv @ zv))


def test_seed_002_logistic_regression_loss():
    X_pt = pt.tensor("X", shape=(None, None))
    y_pt = pt.tensor("y", shape=(None,))
    alpha_pt = pt.tensor("alpha", shape=())
    beta_pt = pt.tensor("beta", shape=(None,))
    p = pt.sigmoid(alpha_pt + X_pt @ beta_pt)
    p.name = "p_class_0"
    loss = -(y_pt * pt.log(p) + (1 - y_pt) * pt.log(1 - p)).mean()
    loss.name = "cross_entropy"
    assert loss.dprint(file="str") == golden("""
        Neg [id A] 'cross_entropy'
         └─ True_div [id B] 'mean'
            ├─ Sum{axes=None} [id C]
            │  └─ Add [id D]
            │     ├─ Mul [id E]
            │     │  ├─ y [id F]
            │     │  └─ Log [id G]
            │     │     └─ Sigmoid [id H] 'p_class_0'
            │     │        └─ Add [id I]
            │     │           ├─ ExpandDims{axis=0} [id J]
            │     │           │  └─ alpha [id K]
            │     │           └─ Squeeze{axis=1} [id L]
            │     │              └─ Blockwise{dot, (m,k),(k,n)->(m,n)} [id M]
            │     │                 ├─ X [id N]
            │     │                 └─ ExpandDims{axis=1} [id O]
            │     │                    └─ beta [id P]
            │     └─ Mul [id Q]
            │        ├─ Sub [id R]
            │        │  ├─ ExpandDims{axis=0} [id S]
            │        │  │  └─ 1 [id T]
            │        │  └─ y [id F]
            │        └─ Log [id U]
            │           └─ Sub [id V]
            │              ├─ ExpandDims{axis=0} [id W]
            │              │  └─ 1 [id X]
            │              └─ Sigmoid [id H] 'p_class_0'
            │                 └─ ···
            └─ Subtensor{i} [id Y]
               ├─ Cast{float64} [id Z]
               │  └─ Shape [id BA]
               │     └─ Add [id D]
               │        └─ ···
               └─ 0 [id BB]
        """)
    rng = np.random.default_rng(1)
    X, yv, a, b = rng.normal(size=(6, 3)), (rng.random(6) > 0.5).astype(float), 0.3, rng.normal(size=3)
    pv = 1 / (1 + np.exp(-(a + X @ b)))
    expected = -np.mean(yv * np.log(pv) + (1 - yv) * np.log(1 - pv))
    np.testing.assert_allclose(loss.eval({X_pt: X, y_pt: yv, alpha_pt: a, beta_pt: b}), expected)


def test_id_labels_past_z():
    from opgraph.kernel_core.printing.dprint import id_label

    assert [id_label(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "BA", "BB", "BZ", "CA"]


def test_multiple_outputs_share_ids_and_show_ellipsis():
    x = pt.vector("x")
    e = pt.exp(x)
    text = opgraph.dprint([e + 1, e * 2], file="str")
    assert text.count("Exp [id") == 2 and "└─ ···" in text


def test_dprint_rejects_non_graphs():
    with pytest.raises(TypeError, match="dprint"):
        opgraph.dprint(3)
