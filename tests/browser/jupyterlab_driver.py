"""Driving JupyterLab from the browser tests: the server handle, one notebook in a page.

Imported by tests/browser/conftest.py (the fixtures) and by the browser test modules
(``from jupyterlab_driver import NotebookPage``): a module of its own, because several
conftest.py files exist and ``import conftest`` would find whichever was loaded last.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
ARTIFACTS_DIR = REPO_ROOT / "browser-artifacts"

# Console errors JupyterLab itself prints in a normal session, matched exactly (never
# by prefix, so a new error with a similar start still fails the test).  Each entry
# says why it is harmless.
KNOWN_HARMLESS_CONSOLE_ERRORS: dict[str, str] = {}

SERVER_START_TIMEOUT = 60.0  # seconds: jupyter lab import + extension loading on a busy 2-core machine
NOTEBOOK_RUN_TIMEOUT = 180.0  # seconds for one notebook's Run All (Numba compiles on a cold cache)


def tutorial_notebooks() -> list[Path]:
    """The tutorial notebooks, discovered by glob (new ones are picked up)."""
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


# -- the JupyterLab server -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    """User settings for the test server: no news/update toasts, every cell in the DOM."""
    def put(plugin: str, values: dict) -> None:
        path = settings_dir / (plugin + ".jupyterlab-settings")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    # The "receive official Jupyter news?" toast would cover the notebook in screenshots.
    put("@jupyterlab/apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False})
    # Windowing off: cells outside the viewport stay attached, so their outputs (and
    # widgets) are rendered and can be inspected and screenshotted.
    put("@jupyterlab/notebook-extension/tracker", {"windowingMode": "none"})


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the server's root directory (notebooks are opened relative to it)
    process: subprocess.Popen
    log_path: Path

    def api(self, path: str, method: str = "GET", body: dict | None = None, timeout: float = 10.0):
        """Call a JSON server API path (e.g. "api/status"); the decoded answer (None if empty)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"token {self.token}", "Content-Type": "application/json"}
        req = urllib.request.Request(f"{self.url}/{path}", data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = resp.read().decode()
        return json.loads(answer) if answer else None

    def start_session(self, notebook: str, timeout: float = 120.0) -> dict:
        """Start ``notebook``'s session (and its kernel) through the REST API; its model
        (``id``, ``kernel.id``, ...).

        A page opening the notebook afterwards connects to this kernel instead of starting
        one.  Why: jupyter_server (2.21) answers GET api/kernels with a 500 when it lists a
        kernel whose start is still in progress (its ``last_activity`` is not set yet), and
        every open JupyterLab page polls that list; a page starting its kernel while another
        page polls logs that 500 as a console error.  POST api/sessions returns once the
        kernel has started, so kernels started one after another, before the pages poll,
        never overlap a listing."""
        return self.api("api/sessions", "POST",
                        {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}},
                        timeout=timeout)

    def stop_session(self, session_id: str) -> bool:
        """Shut a session's kernel down; False if the server no longer has the session.

        jupyter_server answers 404 both for an unknown session id and for a session whose
        kernel left its kernel manager (died for good, or shut down through api/kernels):
        listing or getting such a session deletes its row.  Either way no kernel of that
        session runs any more, which is what the caller wants; other errors propagate."""
        try:
            self.api(f"api/sessions/{session_id}", "DELETE")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return False
            raise
        return True

    def running_kernels(self) -> set[str]:
        return {k["id"] for k in self.api("api/kernels")}

    def shutdown_kernel(self, kernel_id: str) -> None:
        self.api(f"api/kernels/{kernel_id}", "DELETE")

    def log_lines_about(self, *ids: str) -> list[str]:
        """The server log's lines naming any of ``ids`` (kernel or session ids)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if any(i in line for i in ids)]

    def lab_url(self, notebook: str, workspace: str) -> str:
        """URL opening ``notebook`` in a fresh, private workspace (pages do not share layout)."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def write_notebook(self, name: str, sources: list[str]) -> str:
        """Write a notebook of code cells (their sources) into the server root; returns its name."""
        nb = {
            "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": src} for src in sources],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(nb, indent=1))
        return name

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # jupyter_server: interrupt = shut kernels down, then exit
    try:
        process.wait(timeout=5)  # a second SIGINT within 5 s skips the confirmation prompt
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- driving a notebook through the UI -------------------------------------------------------
# The notebook's widget in the page, found by its path: a page holds several notebooks as tabs
# (NotebookPage.load), so "the current widget" is not necessarily this one.
_JS_FIND = """const find = (path) => Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.context && w.context.path === path && w.content && w.sessionContext);"""

_JS_NOTEBOOK_STATE = """([path, withOutputs]) => {
  %s
  const w = find(path);
  if (!w || !w.content.model) return null;
  const sc = w.sessionContext;
  const cells = [];
  const model = w.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    const count = c.type === "code" ? c.executionCount : null;
    // Outputs only when asked: they hold the drawings (large SVG), too heavy to poll.
    const outputs = withOutputs && c.type === "code" ? c.toJSON().outputs : [];
    cells.push({type: c.type, count: count === undefined ? null : count, outputs: outputs});
  }
  return {kernel: sc.session && sc.session.kernel ? sc.session.kernel.status : null, cells: cells};
}""" % _JS_FIND


@dataclass
class NotebookPage:
    """One notebook opened in JupyterLab in ``page``, as a tab (see ``load``).

    A page loads JupyterLab once (5-8 s of the browser's CPU on this project's 2-core
    machine); every later notebook opens in it as a new tab (``docmanager:open``, about
    1.5 s): the browser tests share their pages (tests/browser/conftest.py, ``lab_pages``).
    Everything here addresses the notebook's own widget (by path) and its own DOM panel,
    whichever tab is in front; ``console_errors`` are the page's errors from this
    notebook's opening until the next notebook opened in the same page."""

    page: object
    server: LabServer
    name: str
    started: float = field(default_factory=time.monotonic)
    console_from: int = 0
    console_to: int | None = None

    @classmethod
    def open(cls, page, server: LabServer, name: str, timeout: float = 60.0) -> "NotebookPage":
        return cls.load(page, server, name).ready(timeout)

    @classmethod
    def load(cls, page, server: LabServer, name: str) -> "NotebookPage":
        """Start opening ``name`` in ``page`` and return at once (``ready`` waits): a caller
        can let a notebook load while it waits for another one.  A page without JupyterLab
        loads it (a fresh workspace showing the notebook); a page with JupyterLab opens the
        notebook as a new tab in front (its session's kernel, if the server has one for
        the path, as on a fresh load)."""
        previous = getattr(page, "opg_notebook", None)
        if previous is not None and previous.console_to is None:
            previous.console_to = len(page.console_errors)
        nb = cls(page, server, name, console_from=len(page.console_errors))
        page.opg_notebook = nb
        if getattr(page, "opg_lab_loaded", False):
            page.evaluate("p => { window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", name)
        else:
            workspace = re.sub(r"[^A-Za-z0-9]+", "-", Path(name).stem) + "-" + secrets.token_hex(3)
            page.goto(server.lab_url(name, workspace), wait_until="commit")
            page.opg_lab_loaded = True
        return nb

    @property
    def console_errors(self) -> list[str]:
        """The page's console errors and uncaught exceptions while this notebook was the
        last one opened in it."""
        return self.page.console_errors[self.console_from:self.console_to]

    def _eval(self, body: str):
        """Evaluate ``body`` (JavaScript statements using ``w``, the notebook's widget,
        undefined while it does not exist yet) in the page; its return value."""
        return self.page.evaluate("(path) => { %s const w = find(path); %s }" % (_JS_FIND, body), self.name)

    def _wait_for(self, condition: str, timeout: float) -> None:
        """Wait until the JavaScript expression ``condition`` on ``w`` (as in ``_eval``) holds."""
        self.page.wait_for_function("(path) => { if (!(window.jupyterapp && window.jupyterapp.shell)) return false; "
                                    "%s const w = find(path); return !!(%s); }" % (_JS_FIND, condition),
                                    arg=self.name, timeout=timeout * 1000)

    def ready(self, timeout: float = 60.0) -> "NotebookPage":
        """Wait until the notebook is shown and its kernel idle (after ``load``)."""
        self._wait_for("w", timeout)
        self.activate()
        # More room for the notebook (and its screenshots): hide the file browser.
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        self.wait_kernel_idle(timeout)
        return self

    def activate(self) -> "NotebookPage":
        """Bring the notebook's tab to the front (the menu commands act on that tab)."""
        self._eval("window.jupyterapp.shell.activateById(w.id);")
        self._wait_for("w && window.jupyterapp.shell.currentWidget === w && w.isVisible", 20.0)
        return self

    @property
    def panel(self):
        """A locator for the notebook's panel in the page (its cells and outputs)."""
        return self.page.locator(f'[id="{self._eval("return w.id;")}"]')

    def kernel_id(self) -> str | None:
        """The id of the kernel the page's notebook is connected to."""
        return self._eval("const s = w.sessionContext.session; return s && s.kernel ? s.kernel.id : null;")

    def state(self, outputs: bool = False) -> dict:
        """Kernel status and, per cell, its type, execution count (and outputs if asked)."""
        return self.page.evaluate(_JS_NOTEBOOK_STATE, [self.name, outputs])

    def wait_kernel_idle(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            st = self.state()
            if st and st["kernel"] == "idle":
                return st
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: kernel not idle after {timeout:.0f} s (state {st and st['kernel']})")
            self.page.wait_for_timeout(250)

    def run_all(self) -> None:
        """Run > Run All Cells, from the menu bar (as a user would), on this notebook's tab."""
        self.activate()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.started = time.monotonic()

    def wait_finished(self, timeout: float = NOTEBOOK_RUN_TIMEOUT) -> dict:
        """Wait until every code cell has an execution count and the kernel is idle."""
        deadline = self.started + timeout
        while True:
            st = self.state()
            code = [c for c in st["cells"] if c["type"] == "code"] if st else []
            if st and st["kernel"] == "idle" and all(c["count"] is not None for c in code):
                self.page.wait_for_timeout(300)  # let the last outputs' renderers (widgets) attach
                return self.state(outputs=True)
            if time.monotonic() > deadline:
                done = sum(c["count"] is not None for c in code)
                raise TimeoutError(f"{self.name}: {done}/{len(code)} code cells ran in {timeout:.0f} s")
            self.page.wait_for_timeout(250)

    def error_outputs(self) -> list[str]:
        """Error outputs (tracebacks' last line, with the cell index) and stderr streams of every cell."""
        found = []
        for i, cell in enumerate(self.state(outputs=True)["cells"]):
            for out in cell["outputs"]:
                if out.get("output_type") == "error":
                    found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
                elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                    text = "".join(out.get("text", ""))
                    found.append(f"cell {i} stderr: {text.strip()[:500]}")
        # An output that failed to render in the browser (e.g. a widget whose model is missing).
        for text in self.panel.locator(".jp-OutputArea-output").all_inner_texts():
            if text.startswith(("Error displaying widget", "Error rendering output")):
                found.append(f"rendering: {text[:300]}")
        return found

    def screenshots(self, label: str | None = None) -> list[Path]:
        """Screenshots of the whole notebook, one per viewport height, into browser-artifacts/."""
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        stem = label or Path(self.name).stem
        for old in ARTIFACTS_DIR.glob(f"{stem}-[0-9][0-9].png"):  # a longer earlier run's extra parts
            old.unlink()
        self.activate()
        scroller = self.panel.locator(".jp-WindowedPanel-outer").first
        total = scroller.evaluate("el => el.scrollHeight")
        view = scroller.evaluate("el => el.clientHeight")
        paths = []
        offset, part = 0, 1
        while True:
            scroller.evaluate("(el, y) => { el.scrollTop = y; }", offset)
            self.page.wait_for_timeout(100)
            path = ARTIFACTS_DIR / f"{stem}-{part:02d}.png"
            self.page.screenshot(path=str(path))
            paths.append(path)
            offset += view
            part += 1
            if offset >= total or part > 60:
                break
        scroller.evaluate("el => { el.scrollTop = 0; }")
        return paths


def element_screenshot(locator, path: Path) -> Path:
    """Screenshot of one element, whole: the viewport grows to its height for the shot
    (JupyterLab scrolls the notebook inside a fixed-height panel, so an element taller
    than the window would be cut by the status bar)."""
    page = locator.page
    size = page.viewport_size
    height = int(locator.evaluate("el => el.getBoundingClientRect().height"))
    path.parent.mkdir(exist_ok=True)
    if height + 250 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(height + 250, 8000)})
    try:
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
