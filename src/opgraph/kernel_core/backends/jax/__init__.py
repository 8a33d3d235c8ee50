"""The JAX backend: each Op as a ``jax.numpy``/``jax.lax`` callable (``dispatch.py``), the
whole graph one ``jax.jit``-compiled function (``linker.py``; mode ``"JAX"``).

Importing this package imports jax and registers every family's implementations.
Nothing outside this folder (and ``opgraph.link.jax``) imports it at opgraph import.
"""

import importlib

try:
    import jax  # noqa: F401
except ImportError as exc:   # an optional dependency: say how to get it
    raise ImportError('the JAX backend needs JAX, which is not installed: pip install "opgraph[jax]"') from exc

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify, jax_funcify_fgraph  # noqa: F401

# Every family is part of opgraph: one that fails to import is a bug to see.
_FAMILIES = ("scalar", "elemwise", "reduction", "shape", "subtensor", "join", "construction", "extra_ops", "dot",
             "blockwise", "linalg", "gradient_markers", "optimize", "random", "scan", "ifelse", "logprob", "nnet",
             "special", "signal", "op_from_graph", "sharding")

for _family in _FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
