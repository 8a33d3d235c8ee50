"""Every tutorial notebook run through JupyterLab's UI in headless chromium, and the
RewriteStepper of notebook 03 clicked through.

The notebooks run in one JupyterLab server, two at a time (each with its own kernel): on a
2-core machine that keeps both cores busy without making each kernel wait.  A notebook's
test starts its own run and the next selected notebook's, then waits for its own (see
``TutorialRuns``).  The two runs go to two lanes, one JupyterLab page each
(conftest.py's ``lab_pages``): a lane's next notebook opens as a new tab of its page once
the lane's previous notebook has finished, so each page runs one notebook at a time and a
notebook's console errors are its own.  Each test checks its notebook's outputs and
console errors.  Screenshots of every notebook go to browser-artifacts/.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyterlab_driver import ARTIFACTS_DIR, NotebookPage, element_screenshot, tutorial_notebooks

# Notebooks run at the same time: one per core.
PARALLEL_RUNS = 2

NOTEBOOKS = [nb.name for nb in tutorial_notebooks()]


@dataclass
class TutorialRun:
    notebook: NotebookPage
    lane: int
    seconds: float = 0.0  # Run All Cells until the kernel is idle with every cell executed
    finished: bool = False
    screenshots: list | None = None
    problem: str | None = None  # set when the page did not get the kernel started for it


class TutorialRuns:
    """Starts notebook runs ahead (in the order the selected tests will ask for them), in
    PARALLEL_RUNS lanes: lane k's notebooks open one after another in ``lab_pages.page(k)``."""

    def __init__(self, server, lab_pages, order):
        self.server = server
        self.lab_pages = lab_pages
        self.order = list(order)
        self.runs: dict[str, TutorialRun] = {}
        # Every kernel started up front, one at a time, before any page polls the kernel
        # list (LabServer.start_session says why); a notebook's kernel stops when it is done.
        self.kernels_before = server.running_kernels()
        self.sessions = {name: server.start_session(name) for name in self.order}

    def _free_lane(self):
        busy = {r.lane for r in self.runs.values() if not r.finished}
        return next(k for k in range(PARALLEL_RUNS) if k not in busy)

    def _start(self, name):
        lane = self._free_lane()
        nb = NotebookPage.load(self.lab_pages.page(lane), self.server, name)
        nb.ready()
        run = self.runs[name] = TutorialRun(nb, lane)
        # The page must use the kernel started for it: if that kernel is gone (it died),
        # the page has started one of its own, so say why in the notebook's own test.
        want, got = self.sessions[name]["kernel"]["id"], nb.kernel_id()
        if got != want:
            run.problem = (f"{name}: the page runs kernel {got}, not the kernel {want} started for it; "
                           "the server log about it:\n" + "\n".join(self.server.log_lines_about(want)[-12:]))
        nb.run_all()

    def _finish(self, run):
        run.notebook.wait_finished()
        run.seconds = time.monotonic() - run.notebook.started
        run.screenshots = run.notebook.screenshots()
        run.finished = True

    def get(self, name) -> TutorialRun:
        if name not in self.runs:
            unfinished = [r for r in self.runs.values() if not r.finished]
            if len(unfinished) >= PARALLEL_RUNS:   # every lane busy (tests asked out of order)
                self._finish(unfinished[0])
            self._start(name)
        # Keep PARALLEL_RUNS notebooks running: start the next ones the session will ask for.
        running = sum(not r.finished for r in self.runs.values())
        for later in self.order[self.order.index(name) + 1 if name in self.order else len(self.order):]:
            if running >= PARALLEL_RUNS:
                break
            if later not in self.runs:
                self._start(later)
                running += 1
        run = self.runs[name]
        if not run.finished:
            self._finish(run)
        return run

    def close(self):
        """At the module's end: close the module's notebooks, then shut down every kernel
        the module started, then check that none of its kernels is left running.

        The notebooks close first: a notebook whose kernel is shut down under it retries
        its connection and polls for a new session, which no test reads any more (and
        their memory is freed for the browser tests that follow, in the same pages).  A
        session already gone (DELETE answers 404: its kernel died for good, see
        KERNEL_TRANSPORT in conftest.py) is not a failure of its notebook, whose test
        checked the page's outputs with the kernel the page really had; it is reported as
        a warning with the server log's lines about it.  A kernel still running afterwards
        (a page started its own) fails the module, after it is shut down so that it does
        not outlive it."""
        self.lab_pages.close_notebooks()
        vanished = []
        for name, session in self.sessions.items():
            if not self.server.stop_session(session["id"]):
                kernel_id = session["kernel"]["id"]
                vanished.append(f"{name}: session {session['id']}, kernel {kernel_id}")
                vanished += ["    " + line for line in self.server.log_lines_about(session["id"], kernel_id)[-12:]]
        self.sessions.clear()
        left = self.server.running_kernels() - self.kernels_before
        for kernel_id in left:
            self.server.shutdown_kernel(kernel_id)
        gone = "sessions gone before the module's end:\n" + "\n".join(vanished)
        assert not left, (f"kernels left running after the tutorial notebooks: {sorted(left)}"
                          + ("\n" + gone if vanished else ""))
        if vanished:
            warnings.warn(SessionVanishedWarning(gone))


class SessionVanishedWarning(UserWarning):
    """A kernel session the tutorial module started was gone at its end (TutorialRuns.close)."""


@pytest.fixture(scope="module")
def tutorial_runs(request, lab_pages, lab_server):  # the browser first: no chromium, no server
    selected = []
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
            continue
        if hasattr(item, "callspec") and "notebook" in item.callspec.params:
            selected.append(item.callspec.params["notebook"])
        elif item.name == test_rewrite_stepper_buttons_step_through_the_drawing.__name__ and STEPPER_NOTEBOOK:
            selected.append(STEPPER_NOTEBOOK)  # run alone (-k stepper), it needs notebook 03's kernel too
    lab_pages.close_notebooks()
    runs = TutorialRuns(lab_server, lab_pages, dict.fromkeys(selected))
    yield runs
    runs.close()


def test_tutorial_notebooks_are_found():
    # The glob must see the tutorials (an empty parametrization would silently pass).
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_tutorial_notebook_runs_in_jupyterlab(tutorial_runs, notebook):
    run = tutorial_runs.get(notebook)
    nb = run.notebook
    assert run.problem is None, run.problem
    print(f"{notebook}: Run All Cells took {run.seconds:.1f} s")
    errors = nb.error_outputs()
    assert not errors, f"{notebook} has error outputs in JupyterLab:\n" + "\n".join(errors)
    assert not nb.console_errors, (
        f"{notebook}: browser console errors:\n" + "\n".join(nb.console_errors))
    # Every code cell ran, and the screenshots were written.
    cells = [c for c in nb.state()["cells"] if c["type"] == "code"]
    assert cells and all(c["count"] is not None for c in cells)
    assert run.screenshots and all(p.stat().st_size > 10_000 for p in run.screenshots)


# -- the rewrite stepper (notebook 03) -------------------------------------------------------
STEPPER_NOTEBOOK = next((n for n in NOTEBOOKS if n.startswith("03_")), None)
_TITLE = re.compile(r"Step (\d+) / (\d+)")


class StepperView:
    """The first RewriteStepper widget of a notebook, read from the DOM."""

    def __init__(self, notebook: NotebookPage):
        self.page = notebook.page
        panel = notebook.panel
        box = panel.locator(".widget-vbox").filter(has=self.page.locator("button", has_text="next ▶"))
        self.root = box.first

    def button(self, text):
        return self.root.locator("button", has_text=text).first

    def title(self):
        return self.root.locator(".opg-step .opg-title").first.inner_text()

    def position(self):
        """(step shown in the title, total steps in the title, slider value)."""
        m = _TITLE.search(self.title())
        assert m, f"stepper title without 'Step k / n': {self.title()!r}"
        slider = int(self.root.locator(".widget-readout").first.inner_text().strip())
        return int(m.group(1)), int(m.group(2)), slider

    def drawing(self):
        """The drawn graphs (SVG markup of every drawing in the step view)."""
        svgs = self.root.locator(".opg-step svg")
        assert svgs.count() >= 1, "the stepper shows no SVG drawing"
        return "\n".join(svgs.evaluate_all("els => els.map(e => e.outerHTML)"))

    def click_and_wait(self, text, expected_step):
        self.button(text).click()
        # The click goes to the kernel and the new view comes back (the HTML view replaces
        # its content, so query from the widget's root each time): wait for title and slider.
        self.page.wait_for_function(
            """([root, want]) => {
                 const title = root.querySelector(".opg-step .opg-title");
                 const readout = root.querySelector(".widget-readout");
                 const m = title && /Step (\\d+) \\//.exec(title.innerText);
                 return m && +m[1] === want && readout && +readout.innerText.trim() === want;
               }""",
            arg=[self.root.element_handle(), expected_step], timeout=20_000)


@pytest.mark.skipif(STEPPER_NOTEBOOK is None, reason="notebook 03 (rewrites) not found")
def test_rewrite_stepper_buttons_step_through_the_drawing(tutorial_runs):
    run = tutorial_runs.get(STEPPER_NOTEBOOK)
    page = run.notebook.activate().page   # other notebooks may have opened in its page since
    errors_before = len(page.console_errors)
    stepper = StepperView(run.notebook)
    stepper.root.scroll_into_view_if_needed()

    step, total, slider = stepper.position()
    assert total >= 3, f"the stepper of {STEPPER_NOTEBOOK} has only {total} steps"
    # A freshly run notebook shows its stepper at the first step, title and slider 1-based.
    assert (step, slider) == (1, 1), f"stepper starts at title {step}, slider {slider}"
    assert stepper.button("prev").is_disabled()
    first = stepper.drawing()

    stepper.click_and_wait("next", 2)
    assert stepper.position() == (2, total, 2)
    second = stepper.drawing()
    assert second != first, "Next did not change the drawn graph"
    assert not stepper.button("prev").is_disabled()
    element_screenshot(stepper.root, ARTIFACTS_DIR / "03_stepper-step2.png")

    stepper.click_and_wait("prev", 1)
    assert stepper.position() == (1, total, 1)
    assert stepper.drawing() == first, "Prev did not bring back the first step's drawing"

    stepper.click_and_wait("run to fixed point", total)
    assert stepper.position() == (total, total, total)
    assert stepper.button("next").is_disabled()
    assert stepper.drawing() not in (first, second)
    errors = page.console_errors[errors_before:]
    assert not errors, "console errors while stepping:\n" + "\n".join(errors)
