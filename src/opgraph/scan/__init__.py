"""``opgraph.scan``: loops (PyTensor's ``pytensor.scan``).

PyTensor users call ``pytensor.scan(fn, ...)`` and import
``pytensor.scan.utils.until``: the same name is the function and the package.
This module is callable (``opgraph.scan(fn, ...)`` is ``scan``) and has the
submodules (``opgraph.scan.utils``, ``opgraph.scan.basic``, ``opgraph.scan.op``).
"""

import sys

from opgraph.kernel_core.scan import Scan, scan, until  # noqa: F401
from opgraph.kernel_core.scan.callable_module import CallableModule
from opgraph.kernel_core.scan.views import foldl, foldr, map, reduce  # noqa: F401
from opgraph.scan import basic, op, utils, views  # noqa: F401,E402

__all__ = ["Scan", "scan", "until", "map", "reduce", "foldl", "foldr"]

sys.modules[__name__].__class__ = CallableModule
