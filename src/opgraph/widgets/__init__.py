"""Notebook widgets (ipywidgets): the rewrite stepper."""

from opgraph.widgets.rewrite_stepper import RewriteStepper  # noqa: F401
