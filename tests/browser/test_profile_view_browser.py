"""The ProfileView widget (anywidget, plain JavaScript) rendered and clicked in JupyterLab.

A small notebook written into the server's root profiles one graph compiled twice
(PYTHON and NUMBA) and shows the two profiles side by side.  Checked in the browser:
both columns with their compile-phase bar and one table row per node, the op-class
comparison, sorting by clicking a column header (the sort runs in the kernel and comes
back), switching to the per-op-class table; no error output, no console error.
"""

from __future__ import annotations

import pytest

from jupyterlab_driver import ARTIFACTS_DIR, NotebookPage, element_screenshot

CELLS = [
    """\
import numpy as np
import opgraph
import opgraph.tensor as pt
from opgraph.widgets import ProfileView

x = pt.vector("x")
y = pt.exp(x).sum() + pt.log1p(x * x).sum()
f_python = opgraph.function([x], y, profile=True, mode="PYTHON")
f_numba = opgraph.function([x], y, profile=True, mode="NUMBA")
f_numba.wait_compiled()  # profile the Numba tier (the kernel compiles "on_wait", conftest.py)
v = np.linspace(0.0, 1.0, 1000)
for _ in range(5):
    f_python(v)
    f_numba(v)
rows = {which: len(p["nodes"]) for which, p in enumerate(ProfileView(f_python, f_numba).profiles)}
rows""",
    """ProfileView(f_python, f_numba, labels=["PYTHON", "NUMBA"])""",
]


@pytest.fixture(scope="module")
def profile_notebook(lab_pages, lab_server):  # the browser first: no chromium, no server
    name = lab_server.write_notebook("profile_view_check.ipynb", CELLS)
    lab_pages.close_notebooks()   # the page-wide selectors below see this notebook only
    nb = NotebookPage.open(lab_pages.page(0), lab_server, name)
    nb.run_all()
    nb.wait_finished()
    yield nb
    lab_pages.close_notebooks()


def _column_rows(view, which):
    """Names in the node column of profile ``which``'s table, top to bottom."""
    table = view.locator(".opg-pv-column").nth(which).locator("table.opg-pv-table")
    return table.locator("tr td.l[title]").all_inner_texts()


def test_profile_view_renders_two_profiles_and_sorts_on_click(profile_notebook):
    nb = profile_notebook
    page = nb.page
    errors = nb.error_outputs()
    assert not errors, "\n".join(errors)
    # The kernel-side node counts (first cell's result), to compare with what is drawn.
    counts = nb.state(outputs=True)["cells"][0]["outputs"][0]["data"]["text/plain"]
    n_python, n_numba = (int(part.split(":")[1]) for part in counts.strip("{}").split(","))

    # Every redraw replaces the .opg-pv element (locators re-query it; element handles would go
    # stale): the waits below pass anywidget's host element, the view's stable parent.
    view = page.locator(".opg-pv").first
    view.wait_for(timeout=20_000)
    host = view.locator("xpath=..").element_handle()
    columns = view.locator(".opg-pv-column")
    assert columns.count() == 2
    # Titles: the labels (the mode is not repeated when the label already says it).
    assert [t.strip() for t in columns.locator(".opg-pv-title").all_inner_texts()] == ["PYTHON", "NUMBA"]
    # Compile-phase bar: a stacked bar with at least one phase, a legend naming Numba jit.
    assert columns.nth(1).locator(".opg-pv-stack > span").count() >= 1
    assert "Numba jit" in columns.nth(1).locator(".opg-pv-legend").inner_text()
    assert len(_column_rows(view, 0)) == n_python
    assert len(_column_rows(view, 1)) == n_numba
    # Bars drawn with a width (percent of the run time): at least one visible bar per table.
    widths = view.locator(".opg-pv-column").nth(0).locator(".opg-pv-bar").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().width)")
    assert max(widths) > 0
    # Each table fits its column (no content cut off at the column's edge).
    overflow = columns.evaluate_all("cols => cols.map(c => c.scrollWidth - c.clientWidth)")
    assert max(overflow) <= 1, f"a profile table is wider than its column by {max(overflow)} px"
    assert view.locator(".opg-pv-comparison tr").count() >= 2  # header + at least one op class
    element_screenshot(view, ARTIFACTS_DIR / "profile_view-time.png")

    # Click the "node" header: sorted by name, ascending (the kernel re-sorts and sends rows).
    view.locator(".opg-pv-column").nth(0).locator("th", has_text="node").click()
    # The header shows the new order at once (set in the browser); the rows follow when the
    # kernel's re-sorted profiles arrive: wait for both tables to be in name order.
    page.wait_for_function(
        """host => [...host.querySelectorAll('.opg-pv-column table.opg-pv-table')].every(t => {
             const names = [...t.querySelectorAll('tr td.l[title]')].map(td => td.innerText.split(' (')[0]);
             return names.length > 1 && names.every((n, i) => i === 0 || names[i - 1] <= n);
           })""",
        arg=host, timeout=20_000)
    assert "▲" in view.locator(".opg-pv-column").nth(0).locator("th", has_text="node").inner_text()
    for which in (0, 1):
        names = [n.split(" (")[0] for n in _column_rows(view, which)]
        assert names == sorted(names), names
    element_screenshot(view, ARTIFACTS_DIR / "profile_view-by-name.png")

    # The per-op-class table.
    view.locator("button.opg-pv-tab", has_text="per op class").click()
    page.wait_for_function("el => [...el.querySelectorAll('th')].some(th => th.innerText.startsWith('op class'))",
                           arg=host, timeout=20_000)
    assert "opg-pv-active" in view.locator("button.opg-pv-tab", has_text="per op class").get_attribute("class")
    element_screenshot(view, ARTIFACTS_DIR / "profile_view-op-classes.png")
    assert not nb.console_errors, "console errors:\n" + "\n".join(nb.console_errors)
