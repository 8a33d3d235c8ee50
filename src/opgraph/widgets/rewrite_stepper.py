"""``RewriteStepper``: click through every rewrite applied to a graph.

It rewrites a copy of the graph once (recording a snapshot per applied
rewrite, see ``display/rewrite_record.py``) and then only navigates the
recording: ``steps`` (rule name and tag each), ``index``, ``next()``,
``prev()``, ``goto(i)``, ``graph_at(i)``.  On screen (``.widget``): the
rule and tag, the graph before and after with removed/new nodes
highlighted, prev/next buttons, a slider, one toggle per rewrite tag (a
change re-runs the rewrite) and "run to fixed point" (jump to the end).
"""

from __future__ import annotations

import ipywidgets as w

from opgraph.display.graph_panel import graph_html
from opgraph.display.rewrite_record import record_rewrites
from opgraph.display.step_view import step_html
from opgraph.kernel_core.graph.basic import as_variable_list

DEFAULT_TAGS = ("canonicalize", "stabilize", "specialize", "fusion", "inplace")


def available_tags():
    from opgraph.magics.engine_calls import known_tags  # no IPython import in engine_calls

    known = known_tags()
    if not known:
        return DEFAULT_TAGS
    phases = [t for t in DEFAULT_TAGS if t in known]
    return tuple(phases) or tuple(sorted(known))[:8]


class RewriteStepper:
    """Step through the rewrites ``include``/``exclude`` apply to ``graph`` (Variable or list)."""

    def __init__(self, graph, include=("canonicalize",), exclude=(), format="both"):
        self.graph = as_variable_list(graph)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.format = format
        self.steps = []
        self.index = 0
        self._record()
        self._build_widget()
        self._refresh()

    # -- recording -------------------------------------------------------------
    def _record(self):
        self.steps, self.original, self.final, self.history = record_rewrites(
            self.graph, self.include, self.exclude)
        self.index = 0

    def set_tags(self, include, exclude=None):
        """Re-run the rewrite with other tags; back to the first step."""
        self.include = tuple(include)
        if exclude is not None:
            self.exclude = tuple(exclude)
        self._record()
        self._sync_controls()
        self._refresh()

    # -- navigation --------------------------------------------------------------
    @property
    def step(self):
        return self.steps[self.index] if self.steps else None

    def goto(self, i):
        if not self.steps:
            if i != 0:
                raise IndexError("no rewrite was applied: the only step index is 0")
            return self
        if not isinstance(i, int):
            raise TypeError(f"step index must be an int, got {type(i).__name__}")
        if i < 0:
            i += len(self.steps)
        if not 0 <= i < len(self.steps):
            raise IndexError(f"step {i} out of range (0..{len(self.steps) - 1})")
        self.index = i
        self._refresh()
        return self

    def next(self):
        if self.steps and self.index < len(self.steps) - 1:
            self.goto(self.index + 1)
        return self

    def prev(self):
        if self.index > 0:
            self.goto(self.index - 1)
        return self

    def run_to_fixed_point(self):
        """Show the last rewrite: the graph after it is the fixed point."""
        if self.steps:
            self.goto(len(self.steps) - 1)
        return self

    def graph_at(self, i):
        """Outputs after ``i`` rewrites (0: the original, len(steps): the final graph)."""
        if not 0 <= i <= len(self.steps):
            raise IndexError(f"graph index {i} out of range (0..{len(self.steps)})")
        if i == 0:
            return self.steps[0].before if self.steps else self.original
        return self.steps[i - 1].after

    # -- rendering ---------------------------------------------------------------
    @property
    def html(self):
        return step_html(self.step, len(self.steps), self.format)

    def _build_widget(self):
        self.prev_button = w.Button(description="◀ prev", layout=w.Layout(width="80px"))
        self.next_button = w.Button(description="next ▶", layout=w.Layout(width="80px"))
        self.fixed_point_button = w.Button(description="run to fixed point", layout=w.Layout(width="150px"))
        # 1-based like the title ("Step 3 / 10" next to 3); ``index`` stays 0-based.
        self.slider = w.IntSlider(min=1, max=max(1, len(self.steps)), value=1, description="step",
                                  continuous_update=False, disabled=not self.steps)
        tags = list(dict.fromkeys(available_tags() + self.include))
        self.tag_toggles = {t: w.ToggleButton(value=t in self.include, description=t,
                                              layout=w.Layout(width="auto")) for t in tags}
        self.view = w.HTML()
        self.final_view = w.HTML()
        self.prev_button.on_click(lambda _: self.prev())
        self.next_button.on_click(lambda _: self.next())
        self.fixed_point_button.on_click(lambda _: self._show_fixed_point())
        self.slider.observe(self._on_slider, names="value")
        for toggle in self.tag_toggles.values():
            toggle.observe(self._on_toggle, names="value")
        self.widget = w.VBox([
            w.HBox([w.Label("tags:")] + list(self.tag_toggles.values())),
            w.HBox([self.prev_button, self.next_button, self.slider, self.fixed_point_button]),
            self.view,
            self.final_view,
        ])

    def _show_fixed_point(self):
        self.run_to_fixed_point()
        final = self.steps[-1].after if self.steps else self.original
        self.final_view.value = graph_html(final, format=self.format, title="Fixed point")

    def _on_slider(self, change):
        if change["new"] - 1 != self.index and self.steps:
            self.goto(change["new"] - 1)

    def _on_toggle(self, change):
        include = tuple(t for t, b in self.tag_toggles.items() if b.value)
        self.final_view.value = ""
        self.set_tags(include)

    def _sync_controls(self):
        self.slider.max = max(1, len(self.steps))
        self.slider.value = self.index + 1
        self.slider.disabled = not self.steps

    def _refresh(self):
        if not hasattr(self, "view"):
            return
        if self.slider.value != self.index + 1:
            self.slider.value = self.index + 1
        self.prev_button.disabled = self.index == 0
        self.next_button.disabled = not self.steps or self.index >= len(self.steps) - 1
        self.view.value = self.html

    def _repr_mimebundle_(self, **kwargs):
        # Displaying the stepper displays its widget (text/plain + widget view).
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self):
        return (f"<RewriteStepper {len(self.steps)} steps, at {self.index}"
                f"{': ' + self.step.rule if self.step else ''}>")
