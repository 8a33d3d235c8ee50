"""The class of the public ``opgraph.scan`` module: calling the module calls ``scan``.

PyTensor users write ``pytensor.scan(fn, ...)`` and ``from pytensor.scan.utils import
until``: one name is both the function and the package.
"""

from __future__ import annotations

import types

__all__ = ["CallableModule"]


class CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from opgraph.kernel_core.scan.builder import scan

        return scan(*args, **kwargs)
