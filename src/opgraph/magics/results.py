"""The object stored as ``_pytensor`` after each ``%%pytensor`` run."""

from __future__ import annotations


class PytensorResult:
    """What the last ``%%pytensor`` run produced; None where not asked for.

    ``outputs``   the cell's output variables
    ``rewritten`` the outputs after ``-r`` rewrites
    ``history``   the rewrite history (records with rule, tags, replaced, new)
    ``function``  the compiled function (``-c`` / ``-p``)
    ``profile``   its ProfileStats (``-p``)
    ``grads``     gradient graphs (``-g``), ``values`` the outputs of the profiled call,
    ``stepper``   the RewriteStepper (``-s``), ``names`` the display names of the outputs,
    ``explorer``  the GraphExplorer shown for a large graph, ``profile_view`` the ProfileView (``-p``).
    """

    def __init__(self, outputs=None, names=None):
        self.outputs = outputs
        self.names = names
        self.rewritten = None
        self.history = None
        self.function = None
        self.profile = None
        self.grads = None
        self.values = None
        self.stepper = None
        self.explorer = None
        self.profile_view = None

    def __repr__(self):
        parts = [f"outputs={self.outputs!r}"]
        for field in ("rewritten", "history", "function", "profile", "grads", "stepper", "explorer",
                      "profile_view"):
            if getattr(self, field) is not None:
                parts.append(f"{field}=…")
        return f"PytensorResult({', '.join(parts)})"
