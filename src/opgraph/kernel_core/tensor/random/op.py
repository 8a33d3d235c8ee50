"""``RandomVariable``: the op of every distribution.

A node is ``rv(rng, size, *params) -> [next_rng, draw]``:

* ``rng``: a generator variable (``RandomGeneratorType``); ``next_rng`` is the
  same generator advanced past this draw.
* ``size``: an int64 vector, the batch shape of the draw (empty: no size --
  the parameters' broadcast batch shape, as NumPy's ``size=None``; ``size=()``
  means the same here).
* ``params``: tensors, each with the core rank the gufunc ``signature`` gives
  (``"(),()->()"`` for normal, ``"(n),(n,n)->(n)"`` for multivariate_normal)
  and leading batch dims that broadcast like NumPy's Generator methods.  The
  op inserts the ``ExpandDims`` that make every parameter's batch rank equal,
  so the broadcasting is explicit in the graph (seed 002's dprint).

``perform`` draws with NumPy's Generator on a *copy* of the generator unless
the node may destroy it (``inplace``: the ``random_make_inplace`` rewrite,
``d={0: [0]}``), so evaluating a graph never advances a generator anybody
holds.  Each distribution (``basic.py``) declares its parameters' names and
domains; the checks run at build time on constants and at call time on
values, with the same one-line message in every backend.
"""

from __future__ import annotations

import copy

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.type import TensorType, broadcast_static_shapes, resolve_dtype
from opgraph.kernel_core.tensor.random.type import RandomGeneratorVariable, random_generator_type

__all__ = ["RandomVariable", "parse_signature", "normalize_size", "static_size"]


def parse_signature(signature):
    """``"(),(p)->(p)"`` -> ([(), ("p",)], [("p",)])."""
    ins, arrow, outs = signature.partition("->")
    if not arrow:
        raise ValueError(f"gufunc signature {signature!r} has no '->'")

    def groups(text):
        text = text.strip()
        if not text:
            return []
        result = []
        for g in text.replace(" ", "").split(")"):
            g = g.lstrip(",")
            if not g:
                continue
            if not g.startswith("("):
                raise ValueError(f"bad gufunc signature {signature!r}")
            inner = g[1:]
            result.append(tuple(d for d in inner.split(",") if d))
        return result

    return groups(ins), groups(outs)


# How each domain is checked: (test on a NumPy array -> bool array, what the message says).
_DOMAINS = {
    "nonneg": (lambda v: v >= 0, "must be >= 0"),
    "positive": (lambda v: v > 0, "must be > 0"),
    "prob": (lambda v: (v >= 0) & (v <= 1), "must be in [0, 1]"),
    "open_prob": (lambda v: (v > 0) & (v <= 1), "must be in (0, 1]"),
    "nonneg_int": (lambda v: (v >= 0) & (v == np.floor(v)), "must be a non-negative integer"),
}


def _domain_error(rv_name, pname, kind, bad_value):
    return ValueError(f"{rv_name}: {pname} {_DOMAINS[kind][1]}, got {bad_value!r}")


def check_domain(rv_name, pname, kind, value):
    """Raise the distribution's one-line ValueError when ``value`` leaves the domain."""
    arr = np.asarray(value)
    with np.errstate(invalid="ignore"):
        ok = _DOMAINS[kind][0](arr)
    if not np.all(ok):
        bad = arr[~np.asarray(ok, dtype=bool)] if arr.ndim else arr
        raise _domain_error(rv_name, pname, kind, np.asarray(bad).ravel()[0].item())


def _static_data(v):
    """The values a variable holds when they are known at build time (looks through
    broadcasting ExpandDims, which keeps the set of values), else None."""
    from opgraph.kernel_core.tensor.elemwise import DimShuffle

    seen = 0
    while isinstance(v, Variable) and seen < 32:
        seen += 1
        if isinstance(v, Constant):
            return np.asarray(v.data)
        if v.owner is not None and isinstance(v.owner.op, DimShuffle):
            v = v.owner.inputs[0]
            continue
        return None
    return None


def normalize_size(size, who):
    """``size`` as an int64 vector variable of static length (empty for None / ())."""
    from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
    from opgraph.kernel_core.tensor.math import cast

    if size is None:
        return constant(np.zeros(0, dtype="int64"))
    if isinstance(size, (int, np.integer)) and not isinstance(size, (bool, np.bool_)):
        size = (int(size),)
    if isinstance(size, (list, tuple)) and not any(isinstance(s, Variable) for s in size):
        for s in size:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 0:
                raise TypeError(f"{who}: size must be a tuple of non-negative ints (or an int vector), got {size!r}")
        return constant(np.asarray(size, dtype="int64").reshape(len(size)))
    try:
        var = as_tensor_variable(size)
    except TypeError:
        raise TypeError(f"{who}: size must be None, an int, a tuple or an int vector, got {type(size).__name__}") from None
    if var.type.ndim == 0:
        var = as_tensor_variable([var])
    if var.type.ndim != 1 or var.type.dtype[0] not in "iu":
        raise TypeError(f"{who}: size must be an integer vector, got {var.type.short_str()}")
    if var.type.shape[0] is None:
        raise TypeError(f"{who}: size must have a known length (a tuple of scalars, or a vector of static shape)")
    if var.type.dtype != "int64":
        var = cast(var, "int64")
    return var


def static_size(size):
    """Per entry of the size vector, its value when known at build time, else None."""
    n = size.type.shape[0]
    data = _static_data(size)
    if data is not None:
        return tuple(int(s) for s in data)
    owner = size.owner
    if owner is not None and type(owner.op).__name__ == "MakeVector":
        from opgraph.kernel_core.tensor.shape import static_int

        return tuple(static_int(e) for e in owner.inputs)
    return (None,) * n


class RandomVariable(Op):
    """Base class of the distributions.  Subclasses set ``name``, ``signature``,
    ``dtype`` ("floatX", "int64", ...), ``param_names`` and ``domains``
    ({param name: kind of _DOMAINS}), and override ``rng_fn`` when the NumPy
    Generator method of the same name is not the sampler."""

    __props__ = ("name", "signature", "dtype", "inplace")
    default_output = 1
    name = None
    signature = None
    dtype = "floatX"
    param_names = ()
    domains = {}
    integer_params = ()          # parameters that must hold integers (n of binomial)

    def __init__(self, name=None, signature=None, dtype=None, inplace=False):
        if name is not None:
            self.name = name
        if signature is not None:
            self.signature = signature
        self.dtype = resolve_dtype(self.dtype if dtype is None else dtype)
        self.inplace = bool(inplace)
        if self.name is None or self.signature is None:
            raise TypeError(f"{type(self).__name__} needs a name and a gufunc signature")
        self.core_inputs, core_out = parse_signature(self.signature)
        if len(core_out) != 1:
            raise ValueError(f"{self.name}: a random variable has one draw output, signature {self.signature!r}")
        self.core_output = core_out[0]
        self.ndims_params = tuple(len(c) for c in self.core_inputs)
        self.ndim_supp = len(self.core_output)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        return f'{self.name}_rv{{"{self.signature}"}}'

    def clone(self, **changes):
        props = self._props_dict()
        props.update(changes)
        return type(self)(**props)

    # -- building -------------------------------------------------------------
    def _param_label(self, i):
        return self.param_names[i] if i < len(self.param_names) else f"parameter {i}"

    def prepare_params(self, params):
        """Hook: convert the user's parameters (dtype casts); default as_tensor_variable."""
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        out = []
        for i, p in enumerate(params):
            try:
                out.append(as_tensor_variable(p))
            except TypeError as exc:
                raise TypeError(f"{self.name}: {self._param_label(i)}: {exc}") from None
        return out

    def make_node(self, rng, size, *params):
        from opgraph.kernel_core.tensor.elemwise import expand_dims
        from opgraph.kernel_core.tensor.math import cast

        who = self.name
        if not isinstance(rng, Variable) or rng.type != random_generator_type:
            got = rng.type.short_str() if isinstance(rng, Variable) else type(rng).__name__
            raise TypeError(f"{who}: rng must be a random generator variable "
                            f"(e.g. shared(np.random.default_rng(seed))), got {got}")
        if len(params) != len(self.core_inputs):
            raise TypeError(f"{who} takes {len(self.core_inputs)} parameters "
                            f"({', '.join(self.param_names)}), got {len(params)}")
        if not (isinstance(size, Variable) and isinstance(size.type, TensorType) and size.type.ndim == 1
                and size.type.dtype == "int64" and size.type.shape[0] is not None):
            size = normalize_size(size, who)
        params = self.prepare_params(params)
        for i, p in enumerate(params):
            label = self._param_label(i)
            if p.type.ndim < self.ndims_params[i]:
                raise ValueError(f"{who}: {label} must have at least {self.ndims_params[i]} dimension(s) "
                                 f"(signature {self.signature}), got {p.type.short_str()}")
            if label in self.integer_params and p.type.dtype[0] not in "iub":
                data = _static_data(p)
                if data is None or not np.all(data == np.floor(data)):
                    if data is not None:
                        flat = data.ravel()
                        got = repr(flat[flat != np.floor(flat)][0].item())
                    else:
                        got = p.type.short_str()
                    raise TypeError(f"{who}: {label} must be an integer, got {got}")
                params[i] = cast(p, "int64")
            kind = self.domains.get(label)
            data = _static_data(params[i])
            if kind is not None and data is not None and data.size:
                check_domain(who, label, kind, data)
        batch_shapes = [p.type.shape[:p.type.ndim - nd] for p, nd in zip(params, self.ndims_params)]
        k = size.type.shape[0]
        if k:
            batch = static_size(size)
            for p, bs, i in zip(params, batch_shapes, range(len(params))):
                if len(bs) > k:
                    raise ValueError(f"{who}: size has {k} dimension(s) but {self._param_label(i)} has batch shape "
                                     f"{_shape_str(bs)}; size must be at least as long as the parameters' batch shapes")
                for s, d in zip(batch[k - len(bs):], bs):
                    if s is not None and d is not None and d != 1 and d != s:
                        raise ValueError(f"{who}: size {_shape_str(batch)} disagrees with the batch shape "
                                         f"{_shape_str(bs)} of {self._param_label(i)}")
            batch = tuple(batch)
        else:
            names = [self._param_label(i) for i in range(len(params))]
            try:
                batch = broadcast_static_shapes(batch_shapes, names=names)
            except ValueError as exc:
                raise ValueError(f"{who}: the parameters do not broadcast: {exc}") from None
        bnd = len(batch)
        # Explicit broadcasting: every parameter gets the same batch rank.
        params = [expand_dims(p, tuple(range(bnd - len(bs)))) if len(bs) < bnd else p
                  for p, bs in zip(params, batch_shapes)]
        core = self._static_core_shape(params)
        draw_type = TensorType(self.dtype, batch + core)
        return Apply(self, [rng, size] + params, [random_generator_type(), draw_type()])

    def _core_dim_source(self, dim_name):
        for i, names in enumerate(self.core_inputs):
            if dim_name in names:
                return i, names.index(dim_name)
        raise ValueError(f"{self.name}: the core dimension {dim_name!r} of the draw is not a parameter's "
                         f"(override _static_core_shape / core_shape)")

    def _static_core_shape(self, params):
        out = []
        for d in self.core_output:
            i, j = self._core_dim_source(d)
            p = params[i]
            out.append(p.type.shape[p.type.ndim - self.ndims_params[i] + j])
        return tuple(out)

    def __call__(self, *params, size=None, rng=None, dtype=None, name=None, return_next_rng=False, **kwargs):
        """``rv(*params, size=None, rng=None, dtype=None)``: the draw.  Without ``rng``
        the draw gets a shared generator of its own whose ``default_update`` is
        ``next_rng``, so each call of a compiled function draws anew."""
        if kwargs:
            raise TypeError(f"{self.name}() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        op = self
        if dtype is None and type(self).dtype == "floatX":
            dtype = "floatX"   # resolved now: config.floatX may have changed since the op was made
        if dtype is not None and resolve_dtype(dtype) != self.dtype:
            op = self.clone(dtype=dtype)
        own_rng = rng is None
        if own_rng:
            from opgraph.kernel_core.tensor.random.type import shared_rng

            rng = shared_rng()
        elif isinstance(rng, np.random.Generator):
            raise TypeError(f"{self.name}: rng must be a generator variable; wrap the Generator with "
                            "opgraph.shared(rng)")
        node = op.make_node(rng, size, *params)
        next_rng, draw = node.outputs
        if own_rng:
            rng.default_update = next_rng
        if name is not None:
            draw.name = name
        if return_next_rng:
            return next_rng, draw
        return draw

    # -- running ---------------------------------------------------------------
    def rng_fn(self, rng, *params_and_size):
        """The draw: NumPy's Generator method ``self.name`` (params..., size)."""
        *params, size = params_and_size
        return getattr(rng, self.name)(*params, size=size)

    def check_values(self, params):
        for i, p in enumerate(params):
            label = self._param_label(i)
            kind = self.domains.get(label)
            if kind is not None and np.size(p):
                check_domain(self.name, label, kind, p)

    def batch_shape(self, params, size):
        """The draw's batch shape at run time (ValueError naming the disagreement)."""
        shapes = [np.shape(p)[:np.ndim(p) - nd] for p, nd in zip(params, self.ndims_params)]
        try:
            bshape = np.broadcast_shapes(*shapes) if shapes else ()
        except ValueError:
            raise ValueError(f"{self.name}: the parameters' batch shapes "
                             f"{', '.join(f'{self._param_label(i)} {s}' for i, s in enumerate(shapes))} "
                             "do not broadcast") from None
        if size is None:
            return bshape
        try:
            ok = np.broadcast_shapes(bshape, size) == tuple(size)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{self.name}: size {tuple(size)} disagrees with the parameters' batch shape {bshape}")
        return tuple(size)

    def perform(self, node, inputs, output_storage):
        rng, size, *params = inputs
        if not self.inplace:
            rng = copy.deepcopy(rng)
        size = tuple(int(s) for s in size) if len(size) else None
        self.check_values(params)
        self.batch_shape(params, size)
        draw = self.rng_fn(rng, *params, size)
        output_storage[0][0] = rng
        output_storage[1][0] = np.asarray(draw, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.basic import constant
        from opgraph.kernel_core.tensor.math import maximum

        rng, size, *params = node.inputs
        out_type = node.outputs[1].type
        k = size.type.shape[0]
        if k:
            batch = [size[i] for i in range(k)]
        else:
            batch = []
            bnd = out_type.ndim - self.ndim_supp
            for d in range(bnd):
                if out_type.shape[d] is not None:
                    batch.append(constant(out_type.shape[d], dtype="int64"))
                    continue
                dims = [shp[d] for shp, p in zip(input_shapes[2:], params)
                        if p.type.shape[d] != 1]
                if not dims:
                    batch.append(constant(1, dtype="int64"))
                    continue
                dim = dims[0]
                for other in dims[1:]:
                    dim = maximum(dim, other)
                batch.append(dim)
        core = []
        for d in self.core_output:
            i, j = self._core_dim_source(d)
            p = params[i]
            core.append(input_shapes[2 + i][p.type.ndim - self.ndims_params[i] + j])
        return [None, tuple(batch) + tuple(core)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import grad_undefined

        comment = (f"{outputs[1]} is a random draw of {self}; to use it as data, mark it constant "
                   "(grad(..., consider_constant=[draw]) or disconnected_grad(draw))")
        return [grad_undefined(self, i, x, comment) for i, x in enumerate(inputs)]

    def do_constant_folding(self, fgraph, node):
        # A draw is not a constant: folding it would freeze one sample into the graph.
        return False


def _shape_str(shape):
    parts = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# -- vectorize_graph: new leading parameter dims become batch dims of the draw.
def _vectorize_rv(op, node, rng, size, *params):
    from opgraph.kernel_core.tensor.shape import shape_i

    old_params = node.inputs[2:]
    b = max((p.type.ndim - o.type.ndim for p, o in zip(params, old_params)), default=0)
    if size.type.shape[0] and b > 0:
        # The batch dims lead the size: size' = the new params' leading dims + the old size.
        lead = None
        for p, o in zip(params, old_params):
            if p.type.ndim - o.type.ndim == b:
                lead = [p.type.shape[i] if p.type.shape[i] is not None else shape_i(p, i) for i in range(b)]
                break
        old = [s if s is not None else size[i] for i, s in enumerate(static_size(size))]
        entries = lead + old
        if all(isinstance(e, int) for e in entries):
            size = tuple(entries)
        else:
            from opgraph.kernel_core.tensor.join import make_vector
            from opgraph.kernel_core.tensor.shape import _int64

            size = make_vector(*[_int64(e) for e in entries])
    if rng.type != random_generator_type:
        raise NotImplementedError(f"vectorize_graph: cannot batch {op} over a batched rng")
    return op.make_node(rng, size, *params).outputs


def _register_vectorize():
    from opgraph.kernel_core.vectorize import vectorize_node

    vectorize_node.register(RandomVariable)(_vectorize_rv)


_register_vectorize()
