"""opgraph: define, manipulate and compile computational graphs of NumPy programs."""

__version__ = "0.1.0"

from opgraph.kernel_core.config import config  # noqa: F401
from opgraph.kernel_core.printing.dprint import dprint, debugprint  # noqa: F401
from opgraph.kernel_core.printing.pretty import pp, pprint  # noqa: F401
from opgraph import tensor  # noqa: F401
from opgraph.kernel_core.compile import function, shared, In, Out, Mode, ProfileStats, get_mode  # noqa: F401,E402
from opgraph.kernel_core.compile.builders import OpFromGraph  # noqa: F401,E402
from opgraph.kernel_core.gradient import grad, jacobian, hessian, Lop, Rop  # noqa: F401,E402
from opgraph.kernel_core.graph.basic import Variable  # noqa: F401,E402
from opgraph.kernel_core.graph.replace import graph_replace, clone_replace, vectorize_graph  # noqa: F401,E402
from opgraph._pytensor_api import missing_names as _missing_names  # noqa: E402

# ``opgraph.printing``, ``opgraph.scan`` (not implemented yet), ... load on first use;
# PyTensor names opgraph lacks say so.
__getattr__ = _missing_names(__name__)


def load_ipython_extension(ipython):
    """``%load_ext opgraph``: the magics and rich displays (IPython imported only here)."""
    from opgraph.extension import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):
    from opgraph.extension import unload_ipython_extension as _unload

    _unload(ipython)
