"""``opgraph.function``: compile symbolic inputs -> outputs into a callable.

    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x).sum())
    f([1.0, 2.0])                      # array(10.10...)

Inputs are Variables or ``In`` objects, outputs a Variable (the call returns
one value), a list (the call returns a list), or ``Out`` objects.  ``updates``
(dict or pairs ``shared -> expression``) are written back after each call;
``givens`` substitute variables before compiling.  ``mode`` picks rewrites and
backend (see ``mode.py``); ``profile=True`` (or a ``ProfileStats``) collects
timings in ``f.profile``.  ``trust_input=True`` skips argument checks (a call
that then fails names the argument of the wrong type).  Shared variables with
a ``default_update`` are updated too (``no_default_updates`` turns that off);
``accept_inplace=True`` admits graphs that already contain inplace ops.

Calling conventions follow PyTensor: inputs that may be overwritten
(``In(x, mutable=True)``) are copied when they share memory with another
argument; a node failing at run time raises its own exception type (also a
``NodeRuntimeError`` naming the node); masked arrays are refused.  A compiled
``Function`` can be copied (``f.copy(...)``) and pickled.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.compile.function_type import Function, FunctionMaker
from opgraph.kernel_core.compile.io import In, Out
from opgraph.kernel_core.compile.profiling import ProfileStats

__all__ = ["function"]


def _as_in(item, pos):
    if isinstance(item, In):
        return item
    if isinstance(item, Variable):
        return In(item)
    raise TypeError(f"function: input {pos} must be a symbolic Variable or In(...), got {type(item).__name__}"
                    + (" (inputs are placeholders like pt.vector('x'), not values)"
                       if not isinstance(item, (list, tuple)) else ""))


def _as_out(item, pos):
    if isinstance(item, Out):
        return item
    if isinstance(item, Variable):
        return Out(item)
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    try:
        return Out(as_tensor_variable(item))
    except Exception:
        raise TypeError(f"function: output {pos} must be a symbolic Variable or Out(...), "
                        f"got {type(item).__name__}") from None


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, allow_input_downcast=None, profile=False,
             on_unused_input="raise", trust_input=False):
    """Compile a function from ``inputs`` to ``outputs`` (PyTensor's ``function``).

    ``no_default_updates``: shared variables with a ``default_update`` (a random
    generator's next state) are updated after each call unless True, or unless
    listed here.  ``accept_inplace``: allow a graph that already contains inplace
    operations (they must not overwrite inputs that are not mutable).
    """
    if isinstance(inputs, (Variable, In)):
        raise TypeError("function: inputs must be a list, e.g. function([x], y)")
    try:
        inputs = list(inputs)
    except TypeError:
        raise TypeError(f"function: inputs must be a list of Variables, got {type(inputs).__name__}") from None
    ins = [_as_in(item, pos) for pos, item in enumerate(inputs)]
    if allow_input_downcast is not None:
        for i in ins:
            if i.allow_downcast is None:
                i.allow_downcast = allow_input_downcast

    if outputs is None:
        outs, return_list = [], True
    elif isinstance(outputs, (list, tuple)):
        outs, return_list = [_as_out(o, pos) for pos, o in enumerate(outputs)], True
    else:
        outs, return_list = [_as_out(outputs, 0)], False

    if profile is True:
        profile = ProfileStats(name=name)
    elif profile is False or profile is None:
        profile = None
    elif not isinstance(profile, ProfileStats):
        raise TypeError(f"function: profile must be True/False or a ProfileStats, got {type(profile).__name__}")

    maker = FunctionMaker(ins, outs, mode=mode, updates=updates, givens=givens, profile=profile,
                          on_unused_input=on_unused_input, name=name, no_default_updates=no_default_updates,
                          accept_inplace=accept_inplace)
    return Function(maker, return_list=return_list, trust_input=trust_input, name=name)
