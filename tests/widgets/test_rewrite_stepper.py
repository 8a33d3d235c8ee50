"""RewriteStepper: navigation through the recorded rewrites, buttons, tag toggles, rendered HTML."""

import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.printing.dprint import dprint
from opgraph.widgets import RewriteStepper


def make_graph():
    x = pt.vector("x")
    return x, pt.log(1 + x) * 1


def test_steps_have_rule_and_tag_and_graphs():
    x, y = make_graph()
    s = RewriteStepper(y, include=("canonicalize",))
    assert len(s.steps) >= 1
    assert all(st.rule and st.tag == "canonicalize" for st in s.steps)
    assert "mul_canonical" in [st.rule for st in s.steps]
    # the graph at 0 is the original, at the end the rewritten one; the input graph is untouched
    assert dprint(s.graph_at(0), file="str") == dprint(y, file="str")
    assert str(s.graph_at(len(s.steps))[0].owner.op) == "Log"
    assert str(y.owner.op) == "Mul"
    for i, st in enumerate(s.steps):
        assert st.after is s.graph_at(i + 1)


def test_navigation_and_bounds():
    _, y = make_graph()
    s = RewriteStepper(y)
    n = len(s.steps)
    assert s.index == 0
    s.prev()
    assert s.index == 0
    s.next()
    assert s.index == 1
    s.goto(-1)
    assert s.index == n - 1
    s.next()
    assert s.index == n - 1
    with pytest.raises(IndexError, match="out of range"):
        s.goto(n)
    with pytest.raises(TypeError):
        s.goto("1")


def test_buttons_and_slider_drive_the_view():
    _, y = make_graph()
    s = RewriteStepper(y)
    first = s.view.value
    assert f"Step 1 / {len(s.steps)}" in first and s.prev_button.disabled
    assert s.slider.value == 1 and (s.slider.min, s.slider.max) == (1, len(s.steps))
    s.next_button.click()
    # the slider is 1-based like the title: "Step 2 / n" next to 2
    assert s.index == 1 and s.slider.value == 2
    assert f"Step 2 / {len(s.steps)}" in s.view.value
    s.prev_button.click()
    assert s.index == 0 and s.view.value == first and s.slider.value == 1
    s.slider.value = len(s.steps)
    assert s.index == len(s.steps) - 1 and s.next_button.disabled
    assert f"Step {len(s.steps)} / {len(s.steps)}" in s.view.value
    s.slider.value = 3
    assert s.index == 2 and f"Step 3 / {len(s.steps)}" in s.view.value
    s.goto(0)
    s.fixed_point_button.click()
    assert s.index == len(s.steps) - 1
    assert "Fixed point" in s.final_view.value and "Log [id A]" in s.final_view.value


def test_changed_nodes_are_highlighted():
    _, y = make_graph()
    s = RewriteStepper(y, format="text")
    s.goto([st.rule for st in s.steps].index("mul_canonical"))
    html = s.view.value
    assert "mul_canonical" in html and "[canonicalize]" in html
    assert '<span class="opg-removed">' in html and "Mul [id A]" in html
    assert '<span class="opg-new">' in html
    assert "→" in html  # the sentence saying what replaced what


def test_svg_highlight_when_dot_available():
    import shutil

    if not shutil.which("dot"):
        pytest.skip("graphviz `dot` not installed (apt-get install graphviz)")
    _, y = make_graph()
    s = RewriteStepper(y)
    s.goto([st.rule for st in s.steps].index("mul_canonical"))
    assert "<svg" in s.view.value and "#d62728" in s.view.value and "#2ca02c" in s.view.value
    s.goto([st.rule for st in s.steps].index("constant_folding"))
    assert "#2ca02c" in s.view.value  # the folded constant is marked as new


def test_without_dot_text_and_hint(no_dot):
    _, y = make_graph()
    s = RewriteStepper(y)
    assert "<svg" not in s.view.value and "apt-get install graphviz" in s.view.value


def test_tag_toggles_rerun_the_rewrite():
    x = pt.vector("x")
    y = pt.log(1 + x)
    s = RewriteStepper(y, include=("canonicalize",))
    n_canon = len(s.steps)
    assert s.tag_toggles["canonicalize"].value and not s.tag_toggles["stabilize"].value
    s.tag_toggles["stabilize"].value = True
    assert s.include == ("canonicalize", "stabilize")
    assert s.index == 0
    final = s.graph_at(len(s.steps))[0]
    assert str(final.owner.op) == "Log1p"
    assert len(s.steps) > n_canon
    assert s.slider.max == len(s.steps) and s.slider.value == 1
    s.tag_toggles["stabilize"].value = False
    assert len(s.steps) == n_canon


def test_no_rewrite_applied():
    x = pt.vector("x")
    s = RewriteStepper(pt.exp(x))
    assert s.steps == [] and s.step is None
    assert "No rewrite applied" in s.view.value
    s.next()
    s.prev()
    s.run_to_fixed_point()
    assert s.index == 0
    assert s.graph_at(0)[0].owner is not None


def test_widget_is_a_box_and_displays(shell):
    import ipywidgets as w
    from IPython.utils.capture import capture_output
    from IPython.display import display

    _, y = make_graph()
    s = RewriteStepper(y)
    assert isinstance(s.widget, w.VBox)
    with capture_output() as cap:
        display(s)
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in cap.outputs)


def test_notebook_03_leaves_its_displayed_stepper_at_the_first_step():
    """Later cells navigated the displayed stepper to its last step, so Next did nothing."""
    import importlib.util
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "notebooks" / "build_notebooks.py"
    spec = importlib.util.spec_from_file_location("build_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sources = [c.source for c in module.NOTEBOOKS["03_rewrites"]() if c.cell_type == "code"]
    displayed = []
    for k, src in enumerate(sources):
        m = re.search(r"^(\w+) = RewriteStepper\(", src, re.M)
        if m and src.strip().splitlines()[-1].strip() == m.group(1):
            displayed.append((k, m.group(1)))
    assert displayed, "notebook 03 displays a RewriteStepper"
    k, name = displayed[0]
    for later in sources[k + 1:]:
        assert not re.search(rf"\b{name}\.(goto|next|prev|run_to_fixed_point)\(", later), later
