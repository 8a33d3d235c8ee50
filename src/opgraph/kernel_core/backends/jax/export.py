"""``to_jax(outputs, inputs)``: an opgraph graph as a plain JAX function (``opgraph.link.jax``)."""

from __future__ import annotations

__all__ = ["to_jax"]


def to_jax(outputs, inputs, mode="JAX"):
    """The plain JAX function computing ``outputs`` from ``inputs`` (un-jitted, jittable).

    The graph is rewritten as mode ``"JAX"`` rewrites it; the function takes one
    array per input, positionally, and returns one array (``outputs`` a variable)
    or a tuple (a list of outputs).  Shared variables the graph uses enter with
    their current values, as constants of the function; updates are not applied
    (the function is pure).  float64 graphs need ``jax_enable_x64`` (or a
    ``jax.enable_x64(True)`` scope) where the function is traced, as any JAX
    code does; without it JAX computes in 32 bits.
    """
    from opgraph.kernel_core.compile.function import function

    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    fn = function(list(inputs), outs, mode=mode, no_default_updates=True, on_unused_input="ignore")
    maker = fn.maker
    graph_fn = getattr(maker.thunk, "graph_function", None)
    if graph_fn is None:
        raise TypeError(f"to_jax: mode {mode!r} does not link with the JAX linker")
    n_explicit, n_out = maker.n_explicit, len(outs)
    shared_values = [c.value for c in fn._shared_containers]

    def jax_function(*args):
        if len(args) != n_explicit:
            raise TypeError(f"the exported JAX function takes {n_explicit} inputs, got {len(args)}")
        res = graph_fn(*args, *shared_values)[:n_out]
        return res[0] if single else tuple(res)

    jax_function.__doc__ = f"JAX function of the opgraph graph {outs} from inputs {list(inputs)}."
    return jax_function
