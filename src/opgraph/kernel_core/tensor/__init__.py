"""The tensor vocabulary of the engine (``opgraph.tensor`` re-exports it)."""

from opgraph.kernel_core.tensor.type import TensorType
from opgraph.kernel_core.tensor.variable import TensorConstant, TensorVariable
from opgraph.kernel_core.tensor.basic import as_tensor, as_tensor_variable, constant
from opgraph.kernel_core.tensor.constructors import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise, dimshuffle, expand_dims
from opgraph.kernel_core.tensor.math import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.reduction import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.shape import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.subtensor import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.join import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.construction import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.extra_ops import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.complex import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.dot import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.blockwise import *  # noqa: F401,F403
from opgraph.kernel_core.tensor import linalg  # noqa: F401
from opgraph.kernel_core.tensor.linalg import diag, kron, trace  # noqa: F401  (top-level pt.diag, pt.trace, pt.kron)
from opgraph.kernel_core.tensor.vectorize_fn import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.special_functions import *  # noqa: F401,F403

import types as _types  # noqa: E402

# Every name above but the submodules (``opgraph.tensor`` has public modules of its own).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and not isinstance(_v, _types.ModuleType)]
