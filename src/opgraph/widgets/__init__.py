"""Notebook widgets: the rewrite stepper (ipywidgets) and the profile view (anywidget)."""

from opgraph.widgets.profile_view import ProfileView  # noqa: F401
from opgraph.widgets.rewrite_stepper import RewriteStepper  # noqa: F401
