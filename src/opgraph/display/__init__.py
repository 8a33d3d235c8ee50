"""HTML renderings of graphs, compiled functions and profiles (used by the IPython extension)."""

from opgraph.display.function_panel import function_html  # noqa: F401
from opgraph.display.graph_panel import graph_html, graph_body, graph_text  # noqa: F401
from opgraph.display.profile_panel import profile_html  # noqa: F401
