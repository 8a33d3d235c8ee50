"""``%load_ext opgraph``: the magics and the rich (``text/html``) displays.

Plain-text reprs are untouched (``Log.0``): only ``text/html`` formatters are
added, so a terminal IPython looks exactly as before.
"""

from opgraph.extension.loader import load_ipython_extension, unload_ipython_extension  # noqa: F401
