"""Notebook widgets: the rewrite stepper (ipywidgets), the profile view and the graph explorer (anywidget)."""

from opgraph.widgets.graph_explorer import GraphExplorer  # noqa: F401
from opgraph.widgets.profile_view import ProfileView  # noqa: F401
from opgraph.widgets.rewrite_stepper import RewriteStepper  # noqa: F401
