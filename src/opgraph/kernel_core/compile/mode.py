"""Compilation modes: which rewrites run and which linker turns the graph into code.

=============== ================================================ ==========================
mode            rewrites                                          linker
=============== ================================================ ==========================
``FAST_RUN``    canonicalize, stabilize, specialize, fusion,      Numba (Python VM until the
 = ``NUMBA``    inplace (merge and constant folding always run)   Numba backend is installed)
``FAST_COMPILE`` merge, constant folding, rules tagged             Python VM
                ``fast_compile``
``PYTHON``      same as FAST_COMPILE                              generated Python (backends/python)
``JAX``         FAST_RUN's, without inplace (JAX is functional)   ``jax.jit`` (backends/jax)
=============== ================================================ ==========================

Mode JAX keeps fusion: XLA fuses loops itself, but a Composite hands the JAX backend
a whole expression, where softplus / sigmoid of ``t`` and ``-t`` share one
``exp(-|t|)`` (backends/jax/scalar.py; XLA's CSE does not see it).

``opgraph.config.mode`` names the default.  The linker choice lives only here
(``Mode.get_linker``); backends are imported lazily so importing opgraph never
imports numba.
"""

from __future__ import annotations

__all__ = ["Mode", "get_mode", "get_default_mode", "predefined_modes", "FAST_RUN_TAGS", "FAST_COMPILE_TAGS",
           "registered_tags"]

import warnings

# "fast_run" also selects user rewriters registered under that tag alone
# (``optdb.register("simplify", simplify, "fast_run", position=0.5)``).
FAST_RUN_TAGS = ("fast_run", "canonicalize", "stabilize", "specialize", "fusion", "inplace")
FAST_COMPILE_TAGS = ("fast_compile",)

_OPTIMIZERS = {"fast_run": FAST_RUN_TAGS, "fast_compile": FAST_COMPILE_TAGS, "merge": (), None: ()}
_LINKERS = ("vm", "py", "numba", "jax")
_MODE_NAMES = ("FAST_RUN", "NUMBA", "FAST_COMPILE", "PYTHON", "JAX")   # predefined_modes' keys
_UNSET = object()   # Mode(optimizer=...) not given (None is a value: no rewrites but merge)


def registered_tags():
    """Tags the rewrite database knows (loading every rule library)."""
    from opgraph.kernel_core.rewriting.api import known_tags

    return set(known_tags())


# Tags already warned about: PyTensor ignores an unknown tag in
# Mode.including/excluding; opgraph says so, once per tag.
_warned_tags = set()


def _drop_unknown(tags, known, what):
    kept = []
    for t in tags:
        if t in known:
            kept.append(t)
            continue
        if t not in _warned_tags:
            _warned_tags.add(t)
            from opgraph.kernel_core.rewriting.db import unknown_tags_message

            warnings.warn(f"Mode.{what}: {unknown_tags_message([t], known)}; ignored (as PyTensor does)",
                          stacklevel=4)
    return tuple(kept)


def _numba_linker():
    # The Numba backend is part of opgraph: if it cannot be imported that is a bug to
    # see, not a reason to run mode="NUMBA" on the Python VM without a word.
    from opgraph.kernel_core.backends.numba.linker import NumbaLinker

    return NumbaLinker()


def _jax_linker(**options):
    # jax is an optional extra: say how to get it (the import error itself names only "jax").
    try:
        import jax  # noqa: F401
    except ImportError as exc:
        raise ImportError('mode="JAX" needs JAX, which is not installed: pip install "opgraph[jax]"') from exc
    from opgraph.kernel_core.backends.jax.linker import JaxLinker

    return JaxLinker(**options)


class Mode:
    """A rewrite selection (include / exclude tags) plus a linker.

    ``linker``: "vm" (Python VM), "py" (generated Python), "numba", or any object with
    ``make_thunk(fgraph, profile=None)``.  ``optimizer``: "fast_run",
    "fast_compile", "merge" or None (only merge and constant folding).
    ``Mode("NUMBA")`` (a predefined mode's name as linker) takes that mode's linker
    and rewrites.  ``tiered``: for the Numba linker, False compiles before
    ``function()`` returns, True / None run generated Python first while Numba
    compiles (None: as ``config.tiered_compile`` says; see compile/tiered.py).
    ``jax_arrays``, ``shardings``, ``mesh``, ``static_inputs``: options of the JAX linker
    (backends/jax/linker.py; ``static_inputs``: input names or positions compiled as
    ``jax.jit`` static arguments).
    """

    def __init__(self, linker="vm", optimizer=_UNSET, include=(), exclude=(), name=None, tiered=None,
                 jax_arrays=False, shardings=None, mesh=None, static_inputs=()):
        if isinstance(linker, str) and linker not in _LINKERS and linker.upper() in _MODE_NAMES:
            # Mode("NUMBA", tiered=False): a predefined mode's linker and rewrites.
            base = predefined_modes[linker.upper()]
            linker = base.linker
            if optimizer is _UNSET:
                optimizer = base.optimizer
            exclude = tuple(base.exclude) + tuple(exclude)   # JAX's: no inplace rewrites
        if optimizer is _UNSET:   # not given
            optimizer = "fast_compile"
        if tiered not in (None, True, False):
            raise TypeError(f"Mode: tiered must be True, False or None (config.tiered_compile), got {tiered!r}")
        self.tiered = tiered
        if isinstance(linker, str):
            if linker not in _LINKERS:
                raise ValueError(f"Mode: unknown linker {linker!r}; use one of {', '.join(_LINKERS)} "
                                 "or a linker object with make_thunk(fgraph, profile=None)")
        elif not hasattr(linker, "make_thunk"):
            raise TypeError(f"Mode: linker must be a name or have make_thunk(fgraph, profile=None), got {linker!r}")
        from opgraph.kernel_core.rewriting.optdb import RewriteDatabaseQuery

        if optimizer == "None":  # PyTensor's spelling of no rewrites
            optimizer = None
        if isinstance(optimizer, RewriteDatabaseQuery):
            # A query is the tags it names (PyTensor: Mode(optimizer=RewriteDatabaseQuery(...))).
            if optimizer.require:
                raise NotImplementedError("Mode(optimizer=RewriteDatabaseQuery(require=...)) is not implemented "
                                          "in opgraph; use include/exclude tags")
            include = tuple(optimizer.include) + tuple(include)
            exclude = tuple(optimizer.exclude) + tuple(exclude)
            optimizer = None
        elif not isinstance(optimizer, (str, type(None))) or optimizer not in _OPTIMIZERS:
            raise ValueError(f"Mode: unknown optimizer {optimizer!r}; use one of "
                             f"{', '.join(repr(k) for k in _OPTIMIZERS)} or a RewriteDatabaseQuery")
        self.linker = linker
        self.optimizer = optimizer
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        for t in self.include + self.exclude:
            if not isinstance(t, str):
                raise TypeError(f"Mode: rewrite tags must be strings, got {t!r}")
        self.name = name
        self.jax_arrays = bool(jax_arrays)
        self.shardings = shardings
        self.mesh = mesh
        self.static_inputs = (() if static_inputs is None else tuple(static_inputs)
                              if isinstance(static_inputs, (tuple, list)) else (static_inputs,))
        if (jax_arrays or shardings is not None or mesh is not None or self.static_inputs) \
                and self.linker != "jax":
            raise ValueError(f"Mode: jax_arrays, shardings, mesh and static_inputs are options of the JAX linker, "
                             f"not of {self.linker!r}")

    # -- derived modes --------------------------------------------------------
    def _derive(self, include=(), exclude=(), linker=None):
        return Mode(linker=self.linker if linker is None else linker, optimizer=self.optimizer,
                    include=self.include + tuple(include), exclude=self.exclude + tuple(exclude),
                    tiered=self.tiered, **self._jax_options(linker))

    def _jax_options(self, linker=None):
        if (self.linker if linker is None else linker) != "jax":
            return {}
        return dict(jax_arrays=self.jax_arrays, shardings=self.shardings, mesh=self.mesh,
                    static_inputs=self.static_inputs)

    def including(self, *tags):
        return self._derive(include=tags)

    def excluding(self, *tags):
        return self._derive(exclude=tags)

    def requiring(self, *tags):
        return self._derive(include=tags)

    def clone(self, linker=None):
        return self._derive(linker=linker)

    # -- what the pipeline asks ------------------------------------------------
    def rewrite_tags(self):
        """(include, exclude) for the rewrite database.

        A tag added with ``including`` / ``excluding`` that the database does
        not know (yet) is dropped with a warning, once per tag: PyTensor
        ignores such tags, and a rule registered later under that tag is then
        picked up by the next compilation.
        """
        from opgraph.kernel_core.config import config

        known = registered_tags()
        base = _OPTIMIZERS[self.optimizer]
        # config.optimizer_including / _excluding apply to every mode, as in PyTensor.
        extra_in = tuple(t for t in config.optimizer_including.split(":") if t)
        extra_ex = tuple(t for t in config.optimizer_excluding.split(":") if t)
        include = tuple(dict.fromkeys(base + _drop_unknown(self.include + extra_in, known, "including")))
        exclude = tuple(dict.fromkeys(_drop_unknown(self.exclude + extra_ex, known, "excluding")))
        return include, exclude

    def get_linker(self):
        """A fresh linker instance."""
        from opgraph.kernel_core.compile.vm import VMLinker

        if not isinstance(self.linker, str):
            return self.linker
        if self.linker == "numba":
            strategy = self.tiered_strategy()
            if strategy != "off":
                from opgraph.kernel_core.compile.tiered import TieredLinker

                return TieredLinker(strategy)
            return _numba_linker()
        if self.linker == "jax":
            return _jax_linker(**self._jax_options())
        if self.linker == "py":
            # One generated Python function per graph (backends/python/): the VM's
            # results, 2.5-4x faster per call on W4/W5; profiles still run the VM.
            from opgraph.kernel_core.backends.python.linker import PythonLinker

            return PythonLinker()
        return VMLinker()

    def tiered_strategy(self):
        """How the Numba linker compiles: "background", "on_wait" or "off" (compile/tiered.py)."""
        from opgraph.kernel_core.config import config

        if self.tiered is False:
            return "off"
        if self.tiered is True and config.tiered_compile == "off":
            return "background"
        return config.tiered_compile

    @property
    def linker_name(self):
        if isinstance(self.linker, str):
            return self.linker
        return getattr(self.linker, "name", type(self.linker).__name__)

    def __eq__(self, other):
        return (isinstance(other, Mode) and self.linker == other.linker and self.optimizer == other.optimizer
                and self.include == other.include and self.exclude == other.exclude
                and self.tiered == other.tiered and self._jax_key() == other._jax_key())

    def _jax_key(self):
        # Shardings map variables to specs: compared by identity of the dict's content.
        shardings = None if self.shardings is None else tuple((id(k), repr(v)) for k, v in self.shardings.items())
        return (self.jax_arrays, shardings, id(self.mesh) if self.mesh is not None else None, self.static_inputs)

    def __hash__(self):
        return hash((str(self.linker), self.optimizer, self.include, self.exclude, self.tiered, self._jax_key()))

    def __str__(self):
        if self.name is not None:
            return self.name
        parts = [f"linker={self.linker_name!r}", f"optimizer={self.optimizer!r}"]
        if self.include:
            parts.append(f"include={self.include}")
        if self.exclude:
            parts.append(f"exclude={self.exclude}")
        if self.tiered is not None:
            parts.append(f"tiered={self.tiered}")
        if self.jax_arrays:
            parts.append("jax_arrays=True")
        if self.shardings is not None or self.mesh is not None:
            parts.append("shardings=...")
        if self.static_inputs:
            parts.append(f"static_inputs={self.static_inputs}")
        return f"Mode({', '.join(parts)})"

    __repr__ = __str__


predefined_modes = {
    "FAST_RUN": Mode(linker="numba", optimizer="fast_run", name="FAST_RUN"),
    "NUMBA": Mode(linker="numba", optimizer="fast_run", name="NUMBA"),
    "FAST_COMPILE": Mode(linker="vm", optimizer="fast_compile", name="FAST_COMPILE"),
    "PYTHON": Mode(linker="py", optimizer="fast_compile", name="PYTHON"),
    # JAX arrays are immutable: the inplace rewrites would only add copies back.
    "JAX": Mode(linker="jax", optimizer="fast_run", exclude=("inplace",), name="JAX"),
}


def get_default_mode():
    """The Mode ``opgraph.config.mode`` names."""
    return get_mode(None)


def get_mode(mode=None):
    """A Mode from None (``opgraph.config.mode``), a predefined name, or a Mode."""
    if mode is None:
        from opgraph.kernel_core.config import config

        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        try:
            return predefined_modes[mode.upper()]
        except KeyError:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(predefined_modes)} "
                             "or a Mode object") from None
    raise TypeError(f"mode must be a name ({', '.join(predefined_modes)}) or a Mode, got {type(mode).__name__}")
