"""``opgraph.tensor.rewriting.basic``: the ``register_canonicalize`` / ``register_stabilize`` /
``register_specialize`` decorators (PyTensor's path), writing into opgraph's rewrite database."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.rewriting.optdb import register_canonicalize, register_specialize, register_stabilize

__all__ = ["register_canonicalize", "register_stabilize", "register_specialize"]
__getattr__ = missing_names(__name__)
