"""Loops: ``scan`` builds a ``Scan`` node (op.py) whose step is an inner graph.

builder.py   the user-facing ``scan`` (PyTensor's signature)
op.py        the Scan op: layout, Python implementation, infer_shape
gradient.py  the pullback: backpropagation through time, itself a Scan
rewrites.py  save only the last state when only ``[-1]`` is read, drop unused outputs, merge scans,
             sums of outer products out of the step, the step rewritten
utils.py     ``until`` (while loops)
"""

from opgraph.kernel_core.scan.op import Scan  # noqa: F401
from opgraph.kernel_core.scan.utils import until  # noqa: F401
from opgraph.kernel_core.scan.builder import scan  # noqa: F401
from opgraph.kernel_core.scan import vectorize as _vectorize  # noqa: F401  (registers the rule)
from opgraph.kernel_core.scan import rewrites as _rewrites  # noqa: F401  (registers the rewrites)

__all__ = ["Scan", "scan", "until"]
