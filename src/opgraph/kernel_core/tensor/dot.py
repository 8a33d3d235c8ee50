"""Products: the core ``Dot`` op (vectors / matrices), ``dot``, ``matmul``
(``@``), ``outer`` and ``tensordot``.

Following PyTensor, ``a @ b`` is ``Blockwise{dot, (m,k),(k,n)->(m,n)}``:
vectors are first promoted to matrices with ExpandDims and the added axes are
squeezed away afterwards, so ``X @ beta`` (matrix @ vector) prints

    Squeeze{axis=1}
     └─ Blockwise{dot, (m,k),(k,n)->(m,n)}
        ├─ X
        └─ ExpandDims{axis=1}
           └─ beta
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.type import upcast
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.elemwise import DimShuffle
from opgraph.kernel_core.tensor.type import TensorType

__all__ = ["Dot", "dot", "matmul", "outer", "tensordot", "matrix_dot", "MATMUL_SIGNATURE"]

MATMUL_SIGNATURE = "(m,k),(k,n)->(m,n)"


def _fmt(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _transpose(x):
    return DimShuffle(2, (1, 0))(x)


class Dot(Op):
    """NumPy ``dot`` of vectors and matrices (inputs of 1 or 2 dimensions)."""

    __props__ = ()

    def __str__(self):
        return "dot"

    def signature_for(self, node):
        """The gufunc signature of this application: ``(m,k),(k,n)->(m,n)`` for matrices."""
        nx, ny = (i.type.ndim for i in node.inputs)
        left = "(m,k)" if nx == 2 else "(k)"
        right = "(k,n)" if ny == 2 else "(k)"
        out = ",".join(d for d, keep in (("m", nx == 2), ("n", ny == 2)) if keep)
        return f"{left},{right}->({out})"

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        for name, v in (("first", x), ("second", y)):
            if v.type.ndim not in (1, 2):
                raise TypeError(f"dot: the {name} input {v} must be a vector or a matrix, got {v.type.short_str()} "
                                f"(use pt.dot / pt.tensordot for other ranks)")
        kx = x.type.shape[-1]
        ky = y.type.shape[0]
        if kx is not None and ky is not None and kx != ky:
            raise ValueError(f"dot: shapes {_fmt(x.type.shape)} of {x} and {_fmt(y.type.shape)} of {y} are not "
                             f"aligned: inner dimensions {kx} != {ky}")
        shape = x.type.shape[:-1] + y.type.shape[1:]
        dtype = upcast(x.type.dtype, y.type.dtype)
        return Apply(self, [x, y], [TensorType(dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} are not aligned: "
                             f"inner dimensions {x.shape[-1]} != {y.shape[0]}")
        output_storage[0][0] = np.asarray(np.dot(x, y), dtype=node.outputs[0].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        x, y = inputs
        # Promote vectors to matrices so matmul broadcasts the batch dims, then squeeze back.
        if core_ndims[0] == 1:
            x = x[..., None, :]
        if core_ndims[1] == 1:
            y = y[..., None]
        if x.shape[-1] != y.shape[-2]:
            raise ValueError(f"dot: core shapes {x.shape[-2:]} and {y.shape[-2:]} are not aligned: "
                             f"inner dimensions {x.shape[-1]} != {y.shape[-2]}")
        z = np.matmul(x, y)
        if core_ndims[1] == 1:
            z = z[..., 0]
        if core_ndims[0] == 1:
            z = z[..., 0] if core_ndims[1] == 1 else z[..., 0, :]
        return [z]

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import mul

        x, y = inputs
        (gz,) = output_grads
        gz = as_tensor_variable(gz)
        nx, ny = x.type.ndim, y.type.ndim
        if nx == 2 and ny == 2:
            gx, gy = self(gz, _transpose(y)), self(_transpose(x), gz)
        elif nx == 2 and ny == 1:
            gx, gy = outer(gz, y), self(_transpose(x), gz)
        elif nx == 1 and ny == 2:
            gx, gy = self(y, gz), outer(x, gz)
        else:
            gx, gy = mul(gz, y), mul(gz, x)
        return [_cast_grad(gx, x), _cast_grad(gy, y)]


def _cast_grad(g, x):
    if g.type.dtype != x.type.dtype and x.type.dtype.startswith(("float", "complex")):
        from opgraph.kernel_core.tensor.math import cast

        return cast(g, x.type.dtype)
    return g


_dot = Dot()


def dot(a, b):
    """NumPy ``dot``: scalars multiply, vectors / matrices use Dot, higher ranks contract
    the last axis of ``a`` with the second-to-last of ``b`` (tensordot)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.type.ndim == 0 or b.type.ndim == 0:
        from opgraph.kernel_core.tensor.math import mul

        return mul(a, b)
    if a.type.ndim <= 2 and b.type.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.type.ndim - 1], [max(0, b.type.ndim - 2)]])


def matmul(a, b, dtype=None):
    """``a @ b`` with NumPy's matmul semantics, as ``Blockwise{dot, (m,k),(k,n)->(m,n)}``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.type.ndim == 0 or b.type.ndim == 0:
        raise ValueError(f"matmul: operands cannot be scalars ({a}: {a.type.short_str()}, "
                         f"{b}: {b.type.short_str()}); use * for scalar products")
    a_vec, b_vec = a.type.ndim == 1, b.type.ndim == 1
    if a_vec:
        a = DimShuffle(1, ("x", 0))(a)
    if b_vec:
        b = DimShuffle(1, (0, "x"))(b)
    ka, kb = a.type.shape[-1], b.type.shape[-2]
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"matmul: shapes {_fmt(a.type.shape)} of {a} and {_fmt(b.type.shape)} of {b} are not "
                         f"aligned: inner dimensions {ka} != {kb}")
    out = Blockwise(_dot, MATMUL_SIGNATURE)(a, b)
    nd = out.type.ndim
    # Squeeze away the axes the vector promotion added (NumPy's matmul result rank).
    squeeze_axes = ([nd - 2] if a_vec else []) + ([nd - 1] if b_vec else [])
    if squeeze_axes:
        out = DimShuffle(nd, [d for d in range(nd) if d not in squeeze_axes])(out)
    if dtype is not None:
        from opgraph.kernel_core.tensor.math import cast

        out = cast(out, dtype)
    return out


def outer(x, y):
    """Outer product of two vectors (other ranks are flattened first)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.type.ndim != 1:
        x = x.flatten()
    if y.type.ndim != 1:
        y = y.flatten()
    return _dot(DimShuffle(1, (0, "x"))(x), DimShuffle(1, ("x", 0))(y))


def _normalize_axes(a, b, axes):
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > a.type.ndim or n > b.type.ndim:
            raise ValueError(f"tensordot: axes={n} is invalid for inputs of ranks {a.type.ndim} and {b.type.ndim}")
        return list(range(a.type.ndim - n, a.type.ndim)), list(range(n))
    try:
        ax_a, ax_b = axes
    except (TypeError, ValueError):
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") from None
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: {len(ax_a)} axes of the first input but {len(ax_b)} of the second")
    for ax, v in ((ax_a, a), (ax_b, b)):
        for i, d in enumerate(ax):
            if not -v.type.ndim <= d < v.type.ndim:
                raise ValueError(f"tensordot: axis {d} is out of bounds for {v} ({v.type.short_str()})")
            ax[i] = int(d) % v.type.ndim
    return ax_a, ax_b


def tensordot(a, b, axes=2):
    """Sum products over ``axes`` (NumPy semantics), via transpose, reshape and Dot."""
    from opgraph.kernel_core.tensor.shape import reshape, shape_i

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ax_a, ax_b = _normalize_axes(a, b, axes)
    for da, db in zip(ax_a, ax_b):
        sa, sb = a.type.shape[da], b.type.shape[db]
        if sa is not None and sb is not None and sa != sb:
            raise ValueError(f"tensordot: axis {da} of {a} has length {sa} but axis {db} of {b} has length {sb}")
    free_a = [d for d in range(a.type.ndim) if d not in ax_a]
    free_b = [d for d in range(b.type.ndim) if d not in ax_b]

    def dim(x, d):
        s = x.type.shape[d]
        return s if s is not None else shape_i(x, d)

    def size(x, dims):
        if all(x.type.shape[d] is not None for d in dims):
            return int(np.prod([x.type.shape[d] for d in dims], dtype=np.int64))
        from opgraph.kernel_core.tensor.math import mul

        out = as_tensor_variable(np.int64(1))
        for d in dims:
            out = mul(out, dim(x, d))
        return out

    at = a if free_a + ax_a == list(range(a.type.ndim)) else DimShuffle(a.type.ndim, free_a + ax_a)(a)
    bt = b if ax_b + free_b == list(range(b.type.ndim)) else DimShuffle(b.type.ndim, ax_b + free_b)(b)
    a2 = reshape(at, [size(a, free_a), size(a, ax_a)])
    b2 = reshape(bt, [size(b, ax_b), size(b, free_b)])
    out = _dot(a2, b2)
    out_shape = [dim(a, d) for d in free_a] + [dim(b, d) for d in free_b]
    return reshape(out, out_shape)


def matrix_dot(*args):
    """``dot(dot(a, b), c)...`` of several matrices."""
    out = args[0]
    for a in args[1:]:
        out = dot(out, a)
    return out
