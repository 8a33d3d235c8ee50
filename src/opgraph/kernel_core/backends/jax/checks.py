"""Run-time checks inside a jitted function: raise after the call, as the other modes raise.

A traced function cannot raise on a value, so an implementation that checks a
value (a random variable's parameter domain, ``CheckParameterValue``) calls
``jax_check(condition, ErrorClass, message)``: a ``jax.experimental.checkify``
check.  The JAX linker wraps a graph containing such ops with ``with_checks``
(``checkify.checkify``: the compiled function returns an error value next to its
outputs) and ``raise_failed`` raises the first failed check's own error class
and message (``ParameterValueError("sigma > 0")``, ``ValueError("normal: scale
must be >= 0")``) -- after the computation, never silently.

Outside ``with_checks`` (the plain function ``to_jax`` exports, traced by the
user's ``jax.jit``), ``jax_check`` adds nothing: checkify's checks cannot run
in an un-checkified function, and there the user owns error handling (wrap the
exported function with ``checkify.checkify`` to get them back).

Which ops check: the classes given to ``register_checking_op``;
``needs_checks(fgraph)`` looks for them, inner graphs included, so graphs
without any pay nothing (checkify costs a few microseconds per call, and reading
the error waits for the computation: with ``jax_arrays=True`` a checked function
synchronises once per call).  The linker calls ``checked_jit``.
"""

from __future__ import annotations

import contextvars
import re

from jax.experimental import checkify

__all__ = ["jax_check", "with_checks", "raise_failed", "needs_checks", "register_checking_op", "checked_jit"]

# (error class, message) of each distinct check; the checkify message carries the index.
_CHECKS = []
_INDEX = {}
_TOKEN = re.compile(r"\[opgraph-check (\d+)\]")
_ACTIVE = contextvars.ContextVar("opgraph_jax_checks_active", default=False)
_CHECKING_OPS = {}


def register_checking_op(cls, when=None, per_node=False):
    """Mark an Op class whose JAX implementation calls ``jax_check`` (``when(op)``: only
    the instances for which it is true; ``per_node=True``: ``when(node)``, for checks that
    depend on the node's inputs, e.g. whether an index is a constant)."""
    _CHECKING_OPS[cls] = (when, per_node)
    return cls


def _checks(node):
    op = node.op
    for cls, (when, per_node) in _CHECKING_OPS.items():
        if isinstance(op, cls) and (when is None or when(node if per_node else op)):
            return True
    core_op = getattr(op, "core_op", None)   # Blockwise: its core op's checks run under vmap
    if core_op is not None:
        for cls, (when, per_node) in _CHECKING_OPS.items():
            if isinstance(core_op, cls) and (when is None or (not per_node and when(core_op))):
                return True
    return False


def jax_check(condition, error_class, message):
    """Fail the call with ``error_class(message)`` when the traced boolean ``condition`` is false."""
    if not _ACTIVE.get():
        return
    key = (error_class, message)
    index = _INDEX.get(key)
    if index is None:
        index = _INDEX[key] = len(_CHECKS)
        _CHECKS.append(key)
    checkify.check(condition, f"[opgraph-check {index}]")


def with_checks(fn):
    """``fn`` returning ``(error, outputs)``: its ``jax_check`` calls become checkify checks."""
    def checked(*args):
        token = _ACTIVE.set(True)
        try:
            return fn(*args)
        finally:
            _ACTIVE.reset(token)

    checked.__name__ = getattr(fn, "__name__", "graph_fn")
    result = checkify.checkify(checked)
    result.returns_error = True     # (error, outputs): sharding.py constrains the outputs only
    return result


def checked_jit(fgraph, fn, jit):
    """``jit(fn)``, or when ``fgraph`` checks values, a function calling ``jit(with_checks(fn))``
    that raises the failed check's error after the call and else returns the outputs."""
    if not needs_checks(fgraph):
        return jit(fn)
    jitted = jit(with_checks(fn))

    def call(*args):
        error, outputs = jitted(*args)
        raise_failed(error)
        return outputs

    call.jitted = jitted
    return call


def raise_failed(error):
    """Raise the failed check of a checkify ``error`` as its opgraph error (or nothing)."""
    text = error.get()
    if text is None:
        return
    match = _TOKEN.search(text)
    if match is None:
        raise RuntimeError(f"a JAX check failed: {text}")
    error_class, message = _CHECKS[int(match.group(1))]
    raise error_class(message)


def needs_checks(fgraph):
    """Whether ``fgraph`` (inner graphs included) has a node whose op checks values."""
    if not _CHECKING_OPS:
        return False
    from opgraph.kernel_core.graph.traversal import io_toposort

    stack = [list(fgraph.apply_nodes)]
    seen_ops = set()
    while stack:
        for node in stack.pop():
            op = node.op
            if _checks(node):
                return True
            if id(op) in seen_ops:
                continue
            seen_ops.add(id(op))
            inner = op.inner_graphs()
            if inner is not None:
                stack.append(io_toposort(*inner))
    return False
