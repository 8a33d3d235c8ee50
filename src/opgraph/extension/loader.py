"""Entry points IPython calls for ``%load_ext opgraph`` / ``%unload_ext opgraph``."""

from __future__ import annotations

from opgraph.extension.formatters import register_formatters, unregister_formatters

# Per-shell record of what we installed, so unloading restores the shell exactly.
_INSTALLED = {}


def load_ipython_extension(ipython):
    """Register the ``%%pytensor`` / ``%pytensor`` magics and the HTML formatters."""
    from opgraph.magics import PytensorMagics

    key = id(ipython)
    if key in _INSTALLED:  # loading twice is harmless
        return
    ipython.register_magics(PytensorMagics)
    _INSTALLED[key] = register_formatters(ipython)


def unload_ipython_extension(ipython):
    """Remove the formatters and the magics."""
    installed = _INSTALLED.pop(id(ipython), None)
    if installed is None:
        return
    unregister_formatters(ipython, installed)
    mm = ipython.magics_manager
    for kind in ("line", "cell"):
        mm.magics[kind].pop("pytensor", None)
    mm.registry.pop("PytensorMagics", None)
