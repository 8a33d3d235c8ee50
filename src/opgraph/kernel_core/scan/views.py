"""``map``, ``reduce``, ``foldl``, ``foldr``: PyTensor's shorthands for common scans."""

from __future__ import annotations

from opgraph.kernel_core.scan.builder import scan

__all__ = ["map", "reduce", "foldl", "foldr"]


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None,
        return_updates=True):
    """``fn`` applied to each step of ``sequences``; the per-step results stacked."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name,
                return_updates=return_updates)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None,
           return_updates=True):
    """The final value of the recurrence (``scan(...)[-1]``: the loop keeps no trace)."""
    outs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                         go_backwards=go_backwards, mode=mode, name=name)
    last = [o[-1] for o in outs] if isinstance(outs, list) else outs[-1]
    return (last, updates) if return_updates else last


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None, return_updates=True):
    """``reduce`` from the first step to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name,
                  return_updates=return_updates)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None, return_updates=True):
    """``reduce`` from the last step to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name,
                  return_updates=return_updates)
