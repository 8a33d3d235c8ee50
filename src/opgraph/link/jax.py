"""``opgraph.link.jax``: PyTensor's ``pytensor.link.jax``: the JAX backend.

``JAXLinker`` (the linker of mode ``"JAX"``), ``jax_funcify`` (the per-Op
dispatch table) and ``to_jax(outputs, inputs)``: a graph as a plain JAX
function, for the JAX ecosystem (``jax.grad``, optax, blackjax, numpyro).

Importing this module imports jax (``pip install "opgraph[jax]"``).
"""

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify, jax_funcify_fgraph  # noqa: F401
from opgraph.kernel_core.backends.jax.export import to_jax  # noqa: F401
from opgraph.kernel_core.backends.jax.linker import JaxLinker

JAXLinker = JaxLinker   # PyTensor's spelling

__all__ = ["JAXLinker", "JaxLinker", "jax_funcify", "jax_funcify_fgraph", "to_jax"]
