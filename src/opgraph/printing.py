"""``opgraph.printing``: text and graphical views of graphs."""

from opgraph.kernel_core.printing.dprint import debugprint, dprint  # noqa: F401

try:
    from opgraph.kernel_core.printing.graphviz import pydotprint  # noqa: F401
except ImportError:  # pragma: no cover - during bring-up only
    pass
