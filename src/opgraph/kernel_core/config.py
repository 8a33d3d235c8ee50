"""Global settings (``opgraph.config``), read from OPGRAPH_FLAGS at import."""

from __future__ import annotations

import contextlib
import difflib
import os

_DEFAULTS = {
    "floatX": "float64",
    "mode": "FAST_RUN",
    "compute_test_value": "off",
    "optimizer_verbose": False,
    # Rewrite tags every mode adds / removes, colon-separated as in PyTensor
    # ("optimizer_excluding=fusion:inplace" in OPGRAPH_FLAGS).
    "optimizer_including": "",
    "optimizer_excluding": "",
    # Mode NUMBA's tiers (compile/tiered.py): "background" runs generated Python while
    # Numba compiles off the caller's thread, "on_wait" compiles at f.wait_compiled(),
    # "off" compiles before function() returns.
    "tiered_compile": "background",
}

_CHOICES = {
    "floatX": ("float64", "float32"),
    "mode": ("FAST_RUN", "NUMBA", "PYTHON", "FAST_COMPILE", "JAX"),
    # Test values are not implemented: only PyTensor's "off" (and "ignore") mean anything.
    "compute_test_value": ("off", "ignore"),
    "tiered_compile": ("background", "on_wait", "off"),
}
_BOOLEANS = {"optimizer_verbose"}
_BOOL_STRINGS = {"true": True, "1": True, "false": False, "0": False}


def _unknown_option(name):
    close = difflib.get_close_matches(name, sorted(_DEFAULTS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return AttributeError(f"opgraph.config has no option {name!r}{hint}; options: {', '.join(sorted(_DEFAULTS))}")


class _ChangeFlags(contextlib.ContextDecorator):
    """``config.change_flags(...)``: a context manager and a decorator; the old
    values come back on exit, also when the body raises."""

    def __init__(self, config, values):
        for name in values:
            if name not in _DEFAULTS:
                raise _unknown_option(name)
        self._config = config
        self._values = values
        self._saved = []  # a stack: the same object may be re-entered (a recursive decorated function)

    def __enter__(self):
        store = object.__getattribute__(self._config, "_values")
        old = {k: store[k] for k in self._values}
        self._saved.append(old)
        try:
            for k, v in self._values.items():
                setattr(self._config, k, v)
        except BaseException:
            store.update(self._saved.pop())
            raise
        return self._config

    def __exit__(self, *exc):
        object.__getattribute__(self._config, "_values").update(self._saved.pop())
        return False


class Config:
    """Attribute-style settings with validation; ``config.change(k=v)`` as a context manager."""

    def __init__(self):
        object.__setattr__(self, "_values", dict(_DEFAULTS))
        flags = os.environ.get("OPGRAPH_FLAGS", "")
        for item in filter(None, (f.strip() for f in flags.split(","))):
            key, _, value = item.partition("=")
            setattr(self, key.strip(), value.strip())

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise _unknown_option(name) from None

    def __setattr__(self, name, value):
        if name not in self._values:
            raise _unknown_option(name)
        if name in _BOOLEANS:
            if isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS:
                value = _BOOL_STRINGS[value.strip().lower()]
            if not isinstance(value, bool):
                raise ValueError(f"config.{name} must be True or False, got {value!r}")
        if name == "compute_test_value" and value not in _CHOICES[name]:
            raise ValueError(f"config.compute_test_value={value!r}: test values are not implemented in opgraph "
                             "(only 'off' is supported); evaluate with var.eval({...}) instead")
        if name in ("optimizer_including", "optimizer_excluding") and not isinstance(value, str):
            raise ValueError(f"config.{name} must be a string of tags separated by ':', got {value!r}")
        choices = _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise ValueError(f"config.{name} must be one of {', '.join(choices)}, got {value!r}")
        self._values[name] = value

    def change_flags(self, args=(), **kwargs):
        """Set options for a block or a function, restoring them after (PyTensor's ``change_flags``).

        ``with config.change_flags(floatX="float32"): ...`` or
        ``@config.change_flags(optimizer_verbose=True)``; a dict may be passed
        positionally.
        """
        values = dict(args)
        values.update(kwargs)
        return _ChangeFlags(self, values)

    change = change_flags

    def __repr__(self):
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


config = Config()


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]
