"""Global settings (``opgraph.config``), read from OPGRAPH_FLAGS at import."""

from __future__ import annotations

import os

_DEFAULTS = {
    "floatX": "float64",
    "mode": "FAST_RUN",
    "compute_test_value": "off",
    "optimizer_verbose": False,
}

_CHOICES = {
    "floatX": ("float64", "float32"),
    "mode": ("FAST_RUN", "NUMBA", "PYTHON", "FAST_COMPILE"),
}


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
            raise AttributeError(f"opgraph.config has no option {name!r}; options: {', '.join(sorted(_DEFAULTS))}") from None

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(f"opgraph.config has no option {name!r}; options: {', '.join(sorted(_DEFAULTS))}")
        choices = _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise ValueError(f"config.{name} must be one of {', '.join(choices)}, got {value!r}")
        self._values[name] = value

    def change(self, **kwargs):
        import contextlib

        @contextlib.contextmanager
        def _ctx():
            old = {k: getattr(self, k) for k in kwargs}
            try:
                for k, v in kwargs.items():
                    setattr(self, k, v)
                yield self
            finally:
                for k, v in old.items():
                    self._values[k] = v

        return _ctx()

    def __repr__(self):
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


config = Config()


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]
