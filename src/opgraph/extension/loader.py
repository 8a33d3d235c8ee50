"""Entry points IPython calls for ``%load_ext opgraph`` / ``%unload_ext opgraph``."""

from __future__ import annotations

from opgraph.extension.explorer_display import register_explorer, unregister_explorer
from opgraph.extension.formatters import register_formatters, unregister_formatters

# Per-shell record of what we installed, so unloading restores the shell exactly.
_INSTALLED = {}


def load_ipython_extension(ipython):
    """Register the ``%%pytensor`` / ``%pytensor`` magics, the HTML formatters and, for large
    graphs, the GraphExplorer view."""
    from opgraph.magics import PytensorMagics

    key = id(ipython)
    if key in _INSTALLED:  # loading twice is harmless
        return
    ipython.register_magics(PytensorMagics)
    _INSTALLED[key] = (register_formatters(ipython), register_explorer(ipython))


def unload_ipython_extension(ipython):
    """Remove the formatters and the magics."""
    installed = _INSTALLED.pop(id(ipython), None)
    if installed is None:
        return
    formatters, explorer = installed
    unregister_formatters(ipython, formatters)
    unregister_explorer(ipython, explorer)
    mm = ipython.magics_manager
    for kind in ("line", "cell"):
        mm.magics[kind].pop("pytensor", None)
    mm.registry.pop("PytensorMagics", None)
