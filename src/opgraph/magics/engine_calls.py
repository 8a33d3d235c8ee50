"""The engine operations the magic runs (grad, compile, profile), with errors in the user's terms.

Every failure that is the user's input (unknown tag, unknown name, non-scalar
cost, missing input value) raises MagicOptionError with one sentence.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.traversal import graph_inputs
from opgraph.magics.options import MagicOptionError


def resolve_names(names, namespace, option):
    out = []
    for name in names:
        try:
            v = eval(name, namespace)
        except Exception as exc:
            raise MagicOptionError(f"{option} {name}: {type(exc).__name__}: {exc}") from None
        if not isinstance(v, Variable):
            raise MagicOptionError(f"{option} {name}: a {type(v).__name__}, not a graph variable")
        out.append(v)
    return out


def gradients(outputs, wrt):
    from opgraph.kernel_core.gradient import grad

    if len(outputs) != 1:
        raise MagicOptionError(f"-g needs exactly one (scalar) output, the cell has {len(outputs)}; "
                               "pick it with --show")
    cost = outputs[0]
    if getattr(cost.type, "ndim", 0) != 0:
        raise MagicOptionError(f"-g: the output {cost} is a {cost.type.short_str()}, not a scalar; "
                               "take its sum() first")
    try:
        return list(grad(cost, wrt))
    except (TypeError, ValueError) as exc:
        raise MagicOptionError(f"-g: {exc}") from None


def rewrite(outputs, tags, exclude):
    from opgraph.display.rewrite_record import rewrite_with_history

    check_tags(tags + list(exclude))
    try:
        return rewrite_with_history(outputs, include=tuple(tags), exclude=tuple(exclude))
    except (KeyError, ValueError) as exc:
        raise MagicOptionError(f"-r: {exc.args[0] if exc.args else exc}") from None


def known_tags():
    """The tags the rewrite database knows (phases, meta tags, rule names).

    A rule library that fails to import raises here, as everywhere (no quiet
    fallback that would turn tag checking off)."""
    from opgraph.kernel_core.rewriting.api import known_tags as _known

    return set(_known())


def check_tags(tags):
    known = known_tags()
    if known is None:
        return
    unknown = [t for t in tags if t not in known]
    if unknown:
        from opgraph.display.rewrite_record import PHASE_TAGS

        raise MagicOptionError(f"unknown rewrite tag {unknown[0]!r} (use {', '.join(PHASE_TAGS)}, "
                               "fast_run, fast_compile or a rule name)")


def free_inputs(outputs):
    """Root variables a compiled function must take: not constants, not shared."""
    return [v for v in graph_inputs(outputs)
            if not isinstance(v, Constant) and not hasattr(v, "get_value")]


def compile_outputs(outputs, mode, profile):
    from opgraph.kernel_core.compile import function

    inputs = free_inputs(outputs)
    mode = None if mode in (None, "default") else mode
    try:
        fn = function(inputs, outputs if len(outputs) != 1 else outputs[0], mode=mode, profile=profile)
        return fn, inputs
    except (KeyError, ValueError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        if "mode" in str(msg).lower():
            raise MagicOptionError(f"-c: {msg}") from None
        raise


def input_values(fn_inputs, given):
    """Order the ``-i`` values like the function's inputs, converting to their dtypes."""
    by_name = {}
    for v in fn_inputs:
        if v.name:
            by_name.setdefault(v.name, v)
    unknown = [k for k in given if k not in by_name]
    if unknown:
        names = ", ".join(sorted(by_name)) or "none"
        raise MagicOptionError(f"-i: {unknown[0]!r} is not an input of the graph (inputs: {names})")
    values = []
    for v in fn_inputs:
        if v.name not in given:
            raise MagicOptionError(f"-p needs a value for input {v.name or v} (give it with -i \"{v.name}=...\")")
        value = given[v.name]
        dtype = getattr(v.type, "dtype", None)
        try:
            values.append(np.asarray(value, dtype=dtype) if dtype is not None else value)
        except (TypeError, ValueError) as exc:
            raise MagicOptionError(f"-i {v.name}: cannot convert to {dtype}: {exc}") from None
    return values


def run_profiled(fn, values):
    """Warm up once (jit), forget that call, then time one call.

    The values come from ``-i``: a value the function rejects (wrong rank,
    dtype, shapes that do not match) is the user's option, so it becomes one
    usage line, not a traceback through the compiled function.
    """
    try:
        fn(*values)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise MagicOptionError(f"-i: the compiled function rejected these values: {type(exc).__name__}: "
                               f"{msg}") from None
    prof = getattr(fn, "profile", None)
    if prof is not None and hasattr(prof, "reset_calls"):
        prof.reset_calls()
    return fn(*values)
