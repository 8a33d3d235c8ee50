"""The JAX backend: each Op as a ``jax.numpy``/``jax.lax`` callable (``dispatch.py``), the
whole graph one ``jax.jit``-compiled function (``linker.py``; mode ``"JAX"``).

Importing this package imports jax and registers every family's implementations.
Nothing outside this folder (and ``opgraph.link.jax``) imports it at opgraph import.
"""

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify, jax_funcify_fgraph  # noqa: F401
