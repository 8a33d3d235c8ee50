"""The GraphExplorer on a 10^4-node graph in JupyterLab (headless chromium): first paint, a
cluster expanded by a click on the canvas, a search, a node's details, the path between two nodes,
then every node drawn ("expand all") and repainted by a zoom; the times to first paint, per expand,
to expand all and of one full repaint are measured and printed (no thresholds), screenshots are kept
in browser-artifacts/.

The notebook is written on the fly into the server's root (``LabServer.write_notebook``)."""

from __future__ import annotations

import time

from jupyterlab_driver import ARTIFACTS_DIR, NotebookPage

BUILD = '''\
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.widgets import GraphExplorer

def hierarchical_gradient(groups):
    """A W5-like hierarchical model, one name scope per group, and its gradient."""
    mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
    tau = pt.exp(log_tau)
    logp = -0.5 * mu ** 2 / 25 + log_tau
    params = [mu, log_tau]
    for k in range(groups):
        theta, y, sigma = (pt.vector(f"group_{k}/{v}") for v in ("theta", "y", "sigma"))
        lp = (-0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
              - 0.5 * ((y - theta) / sigma) ** 2).sum()
        lp.name = f"group_{k}/logp"
        logp = logp + lp
        params.append(theta)
    return [logp, *grad(logp, params)]

outs = hierarchical_gradient(170)
'''
SHOW = "explorer = GraphExplorer(outs)\nassert len(explorer.model) > 10_000\nexplorer\n"

WIDGET = ".opg-gx"


def _paints(page):
    return int(page.locator(WIDGET).evaluate("el => el.parentElement.dataset.paints || '0'"))


def _visible(page):
    return int(page.locator(WIDGET).evaluate("el => el.parentElement.dataset.visible || '0'"))


def _wait_paint_after(page, paints, timeout=60_000):
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('{WIDGET}'); "
        f"return el && Number(el.parentElement.dataset.paints || 0) > {paints}; }}", timeout=timeout)


def test_graph_explorer_on_ten_thousand_nodes(lab_server, lab_page):
    page = lab_page
    name = lab_server.write_notebook("graph_explorer_browser.ipynb", [BUILD, SHOW])
    nb = NotebookPage.open(page, lab_server, name)
    nb.run_all()
    page.wait_for_selector(f"{WIDGET}.opg-gx-painted", timeout=180_000)
    first_paint = time.monotonic() - nb.started
    nb.wait_finished()
    assert nb.error_outputs() == []
    widget = page.locator(WIDGET)
    render_to_paint = widget.evaluate("el => el.parentElement.dataset.firstPaintMs")
    widget.scroll_into_view_if_needed()
    before = _visible(page)
    status_before = page.locator(".opg-gx-status").inner_text()
    assert "10," in status_before or "11," in status_before        # "… 10,xxx nodes" in the summary
    assert before > 0

    # Expand clusters by clicking on the canvas: the number of drawn boxes changes each time.
    expand_ms = []
    for _ in range(3):
        boxes = widget.evaluate("el => el.opgExplorer.boxes()")
        clusters = [i for i, s in zip(boxes["ids"], boxes["sizes"]) if s]
        assert clusters, "no cluster left to expand"
        point = widget.evaluate("(el, id) => el.opgExplorer.screenPoint(id)", clusters[0])
        paints, shown = _paints(page), _visible(page)
        t = time.monotonic()
        page.mouse.click(point["x"], point["y"])
        page.wait_for_function(
            f"() => {{ const el = document.querySelector('{WIDGET}').parentElement; "
            f"return Number(el.dataset.visible) !== {shown} && Number(el.dataset.paints) > {paints}; }}",
            timeout=60_000)
        expand_ms.append(1000 * (time.monotonic() - t))
    assert _visible(page) != before

    # Search a variable name: the match is reported, its clusters open and it is drawn.
    search = page.locator(".opg-gx-search")
    search.fill("group_150/theta")
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.opg-gx-status').textContent.includes('1 match')", timeout=60_000)
    side = page.locator(".opg-gx-side")
    assert "group_150/theta" in side.inner_text()
    drawn = widget.evaluate("el => el.opgExplorer.boxes().ids")
    assert any(widget.evaluate("(el, id) => el.opgExplorer.screenPoint(id) !== null", b) for b in drawn[:1])

    # Click a node from the search results: its details (type, static shape, source line, clients).
    page.locator(".opg-gx-side .opg-gx-link", has_text="group_150/theta").first.click()
    page.wait_for_function("() => document.querySelector('.opg-gx-side').textContent.includes('static shape')",
                           timeout=60_000)
    details = side.inner_text()
    assert "Vector(float64" in details and "clients" in details and "source" in details

    # A second node by shift-click: the path between the two is highlighted and listed.
    [theta] = widget.evaluate("el => el.opgExplorer.selected()")
    page.locator(".opg-gx-side .opg-gx-link", has_text="Sub").first.click()      # a client of theta
    page.wait_for_function(f"() => document.querySelector('{WIDGET}').opgExplorer.selected()[0] !== '{theta}'",
                           timeout=60_000)
    # theta is among the Sub's inputs: shift-click adds it as the second node.
    page.locator(".opg-gx-side .opg-gx-link", has_text="group_150/theta").first.click(modifiers=["Shift"])
    page.wait_for_function("() => document.querySelector('.opg-gx-status').textContent.includes('path: 2 nodes')",
                           timeout=60_000)
    assert "path (2 nodes)" in side.inner_text()

    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "graph-explorer-10k.png"))

    # Every node drawn: "expand all", then a zoom (wheel) repaints all 10^4 boxes on screen.
    t = time.monotonic()
    page.locator(".opg-gx-button", has_text="expand all").click()
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('{WIDGET}').parentElement; "
        f"return Number(el.dataset.visible) > 10000; }}", timeout=120_000)
    expand_all_ms = 1000 * (time.monotonic() - t)
    box = page.locator(".opg-gx-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    paints = _paints(page)
    page.mouse.wheel(0, 120)
    _wait_paint_after(page, paints)
    repaint_ms = widget.evaluate("el => el.parentElement.dataset.lastPaintMs")
    page.screenshot(path=str(ARTIFACTS_DIR / "graph-explorer-10k-all.png"))
    print(f"\nGraphExplorer, {status_before}: time to first paint {first_paint:.1f} s from Run All "
          f"(graph built, model, layout, sent, drawn; widget render -> paint {render_to_paint} ms); "
          f"per expand (click -> repaint): {', '.join(f'{t:.0f} ms' for t in expand_ms)}; "
          f"expand all ({_visible(page):,} boxes) {expand_all_ms:.0f} ms; one repaint of them all "
          f"(zoom) {repaint_ms} ms")
    assert nb.console_errors == []
