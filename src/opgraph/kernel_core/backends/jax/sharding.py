"""Multi-device placement for mode "JAX": ``Mode("JAX", shardings={x: ("data", None)}, mesh=...)``.

``shard_function(jitted, fgraph, shardings, mesh)`` (the JAX linker calls it)
returns the function to call instead of ``jitted``: it places each named input
with a ``jax.sharding.NamedSharding`` over the device ``mesh`` before calling,
so XLA partitions the computation (data parallelism: a batched logp, a
minibatch gradient -- each device computes its rows, reductions are combined
across devices by XLA).  Outputs are sharded as XLA decides, or as asked when a
key of ``shardings`` is an output variable.

* ``mesh``: a ``jax.sharding.Mesh``; a dict of axis sizes (``{"data": 4}``,
  ``{"data": 2, "model": 2}``: the first devices, in that shape); or None: every
  device on one axis ``"data"``.
* ``shardings``: ``{variable: spec}``; a variable is a graph input (or a shared
  variable the function reads) or an output, given as the variable the user built
  the function from (or its name); ``spec`` is a tuple of mesh axis names / None
  per dimension (``("data", None)``: rows split over ``"data"``), a
  ``PartitionSpec`` or a ``NamedSharding``.  Unnamed inputs are replicated.

The code path is the same on GPUs/TPUs; on a CPU, several devices can be
simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (set before
jax is imported).
"""

from __future__ import annotations

import numpy as np

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["shard_function", "make_mesh"]


def make_mesh(mesh=None):
    """A ``Mesh`` from ``mesh`` (a Mesh, a dict of axis sizes, or None: all devices on "data")."""
    if isinstance(mesh, Mesh):
        return mesh
    devices = jax.devices()
    if mesh is None:
        return Mesh(np.array(devices), ("data",))
    if isinstance(mesh, dict):
        names = tuple(mesh)
        sizes = tuple(int(s) for s in mesh.values())
        count = int(np.prod(sizes)) if sizes else 1
        if not names or any(s < 1 for s in sizes):
            raise ValueError(f"mesh: give axis names with sizes >= 1, got {mesh!r}")
        if count > len(devices):
            raise ValueError(f"mesh {mesh!r} needs {count} devices, JAX sees {len(devices)} "
                             "(on a CPU: XLA_FLAGS=--xla_force_host_platform_device_count=N before importing jax)")
        return Mesh(np.array(devices[:count]).reshape(sizes), names)
    raise TypeError(f"mesh must be a jax.sharding.Mesh, a dict of axis sizes or None, got {type(mesh).__name__}")


def _named_sharding(spec, mesh, what):
    if isinstance(spec, NamedSharding):
        return spec
    if isinstance(spec, PartitionSpec):
        return NamedSharding(mesh, spec)
    if spec is None:
        return NamedSharding(mesh, PartitionSpec())
    if isinstance(spec, (tuple, list)):
        for axis in spec:
            if axis is not None and not isinstance(axis, (str, tuple)):
                raise TypeError(f"shardings[{what}]: each entry is a mesh axis name or None, got {axis!r}")
            for name in (axis if isinstance(axis, tuple) else (axis,)):
                if name is not None and name not in mesh.axis_names:
                    raise ValueError(f"shardings[{what}]: {name!r} is not an axis of the mesh "
                                     f"{tuple(mesh.axis_names)}")
        return NamedSharding(mesh, PartitionSpec(*spec))
    raise TypeError(f"shardings[{what}] must be a tuple of axis names, a PartitionSpec or a NamedSharding, "
                    f"got {type(spec).__name__}")


def _find(key, candidates, user_variables):
    """Position of ``key`` (a variable or a name) among ``candidates`` (fgraph variables), or None.

    The function's graph holds clones of the user's variables: a match is the user's
    variable at that position (``fgraph.user_variables``, set by ``function``), the
    same object, the same shared container, or the same (unique) name."""
    for k, v in enumerate(user_variables):
        if v is key:
            return k
    for k, v in enumerate(candidates):
        if v is key:
            return k
    container = getattr(getattr(key, "tag", None), "shared_container", None) or getattr(key, "container", None)
    if container is not None:
        for k, v in enumerate(candidates):
            if getattr(v.tag, "shared_container", None) is container:
                return k
    name = key if isinstance(key, str) else getattr(key, "name", None)
    if name is None:
        return None
    hits = [k for k, v in enumerate(candidates) if v.name == name]
    if len(hits) > 1:
        raise ValueError(f"shardings: the name {name!r} is used by several variables of the function; "
                         "key the sharding by the variable itself")
    return hits[0] if hits else None


def _constrain_outputs(jitted, out_shardings):
    """Re-jit the function ``jitted`` wraps with the asked outputs' shardings as constraints
    (XLA then computes them sharded, instead of moving them after the call)."""
    fn = getattr(jitted, "__wrapped__", None)
    if fn is None:
        raise TypeError("shard_function: output shardings need the jax.jit-compiled graph function")
    returns_error = getattr(fn, "returns_error", False)    # checks.with_checks: (error, outputs)

    def constrained(*args):
        result = fn(*args)
        error, outs = result if returns_error else (None, result)
        outs = tuple(o if sh is None else jax.lax.with_sharding_constraint(o, sh)
                     for o, sh in zip(outs, out_shardings))
        return (error, outs) if returns_error else outs

    return jax.jit(constrained)


def shard_function(jitted, fgraph, shardings, mesh):
    """``jitted`` with its inputs placed over ``mesh`` as ``shardings`` asks (see the module docstring)."""
    mesh = make_mesh(mesh)
    shardings = dict(shardings or {})
    in_shardings = [None] * len(fgraph.inputs)
    out_shardings = [None] * len(fgraph.outputs)
    user_inputs, user_outputs = getattr(fgraph, "user_variables", ((), ()))
    for key, spec in shardings.items():
        what = key if isinstance(key, str) else str(key)
        k = _find(key, fgraph.inputs, user_inputs)
        if k is not None:
            in_shardings[k] = _named_sharding(spec, mesh, what)
            continue
        k = _find(key, fgraph.outputs, user_outputs)
        if k is not None:
            out_shardings[k] = _named_sharding(spec, mesh, what)
            continue
        raise ValueError(f"shardings: {what} is neither an input nor an output of the function "
                         f"(inputs: {', '.join(str(v) for v in fgraph.inputs)})")
    replicated = NamedSharding(mesh, PartitionSpec())
    for k, v in enumerate(fgraph.inputs):
        ndim = getattr(v.type, "ndim", None)
        if in_shardings[k] is None and ndim is not None:
            in_shardings[k] = replicated
        elif in_shardings[k] is not None and ndim is not None and len(in_shardings[k].spec) > ndim:
            raise ValueError(f"shardings[{v}]: {len(in_shardings[k].spec)} entries for a {ndim}-d input")

    if any(out_shardings):
        jitted = _constrain_outputs(jitted, out_shardings)

    def place(k, value):
        sh = in_shardings[k]
        if sh is None or not hasattr(value, "shape"):
            return value
        if isinstance(value, jax.Array) and value.sharding == sh:
            return value
        return jax.device_put(value, sh)

    def sharded(*args):
        return jitted(*[place(k, a) for k, a in enumerate(args)])

    sharded.mesh = mesh
    sharded.in_shardings = in_shardings
    sharded.out_shardings = out_shardings
    sharded.jitted = jitted
    return sharded
