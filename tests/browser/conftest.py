"""Browser-test fixtures: JupyterLab on 127.0.0.1 driven by headless Debian chromium.

``lab_server`` (session): one JupyterLab server for the whole run, on a random free
port with a random token, no browser, rooted in a temporary directory holding copies
of the tutorial notebooks (``notebooks/*.ipynb``).  Its kernels inherit this process's
environment, so ``OPGRAPH_CACHE_DIR`` (set by tests/conftest.py) and ``OPGRAPH_FLAGS``
are shared with the rest of the test run (but for ``tiered_compile``, see
KERNEL_TIERED_COMPILE): a notebook loads what the unit tests and the nbval run already
compiled from the disk cache.  The server is stopped at the end of the session,
also when a test fails or the run is interrupted.

``browser`` (session): Playwright's chromium API on Debian's ``chromium`` binary
(Playwright's own browser download needs the network; it is never used).  Without
``chromium`` on PATH the browser tests FAIL, naming ``apt-get install chromium``.

``open_lab_page`` (factory): a new page (own browser context) whose console errors and
uncaught exceptions are collected in ``page.console_errors`` (harmless JupyterLab noise
filtered by exact message, see KNOWN_HARMLESS_CONSOLE_ERRORS).

``lab_pages`` (session): the pages the browser tests share, ``lab_pages.page(k)``, each
loading JupyterLab once; notebooks open in them as tabs (``NotebookPage.load``).  Loading
JupyterLab costs the browser 5-8 CPU-seconds on this project's 2-core machine, opening
one more notebook in a loaded page about 1.5 (three notebooks: 19.8-23.8 CPU-s in
fresh pages, 11.4-11.9 as tabs of one page, measured twice each).  ``lab_page`` (per
test): page 0 with every tab closed, so that a test's page-wide selectors only see its
own notebook.  The three browser test files run in one xdist worker (tests/conftest.py,
``pytest_xdist_make_scheduler``), so one server and one browser serve them all.

``NotebookPage``: open a notebook, run all cells from the menu (Run > Run All Cells),
wait for the kernel to be idle, read the error outputs, take screenshots into
``browser-artifacts/`` (git-ignored; CI keeps it as artefacts).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

import pytest

from jupyterlab_driver import (  # noqa: F401  (re-exported for the test modules)
    ARTIFACTS_DIR, KNOWN_HARMLESS_CONSOLE_ERRORS, NOTEBOOK_RUN_TIMEOUT, NOTEBOOKS_DIR, REPO_ROOT,
    SERVER_START_TIMEOUT, LabServer, NotebookPage, _free_port, _stop, _write_lab_settings, tutorial_notebooks,
)

_BROWSER_DIR = Path(__file__).resolve().parent

# Mode NUMBA's tiers in the kernels (compile/tiered.py): "on_wait", as in the nbval run of
# the same notebooks (notebooks/conftest.py), instead of the "off" the test processes set
# (tests/conftest.py).  The browser tests check what JupyterLab renders; the cells show
# the same outputs on either tier (nbval compares them under "on_wait"), and where a cell
# needs Numba it calls f.wait_compiled() (notebook 05's profile and cache demo, the
# profile-view test).  "off" compiled every function of every notebook with Numba before
# it returned, which no cell shows: with a cold cache the 9 notebooks' Run All took 93 s
# summed under "off", 60 s under "on_wait" (tests/browser/ 118 s -> 91 s; 83 -> 65 CPU-s).
KERNEL_TIERED_COMPILE = "tiered_compile=on_wait"

# "ipc", not jupyter_client's default "tcp": a TCP kernel's five ports are picked by binding
# port 0 and closing it, and the kernel binds them only once its process has started.  The
# tutorial module starts its 9 kernels within half a second, while the server opens client
# connections to the kernels already up (their local ports come from the same ephemeral
# range), so a port can be taken before its kernel binds it: the kernel exits with "ZMQError: Address
# already in use", its 5 restarts reuse the same ports and fail alike, the server drops it
# ("Kernel ... died, removing from map") and with it the session (DELETE then answers 404),
# and the notebook's page starts a kernel of its own (left running at the module's end).
# Seen once in 2 local runs of the tutorial module (port 39919, control socket).  Unix
# sockets are named after the kernel's id: nothing else can hold them.
KERNEL_TRANSPORT = "ipc"


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    for nb in tutorial_notebooks():
        shutil.copy2(nb, root / nb.name)
    settings_dir = base / "settings"
    # The kernels talk to the server over Unix sockets in the runtime directory, not TCP
    # (see KERNEL_TRANSPORT); a socket path must stay under ~107 bytes, which pytest's
    # temporary directories (with xdist's popen-gwN level) and a kernel id can exceed.
    runtime_dir = tempfile.mkdtemp(prefix="opg-jl-")
    _write_lab_settings(settings_dir)
    port = _free_port()
    token = secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=runtime_dir,
        JUPYTER_CONFIG_DIR=str(base / "config"),  # no user config from ~/.jupyter
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env["OPGRAPH_FLAGS"] = ",".join(
        [f for f in env.get("OPGRAPH_FLAGS", "").split(",") if f and not f.startswith("tiered_compile")]
        + [KERNEL_TIERED_COMPILE])
    log_path = base / "server.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.disable_check_xsrf=False",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: kernel status and outputs from the model
        "--LabServerApp.open_browser=False",
        "--ServerApp.terminals_enabled=False",
        "--ServerApp.allow_root=True",  # CI containers run as root
        "--LabApp.news_url=",
        f"--KernelManager.transport={KERNEL_TRANSPORT}",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}")
            try:
                server.api("api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer on {server.url} within "
                                f"{SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")
                time.sleep(0.25)
        yield server
    finally:
        _stop(process)
        shutil.rmtree(runtime_dir, ignore_errors=True)


# -- the browser ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("the browser tests drive Debian's chromium, which is not installed: "
                    "run `apt-get install chromium` (Playwright's own browser download is not used)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            # --no-sandbox: chromium refuses to start as root (CI containers) with its sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def open_lab_page(browser):
    """Factory: a new page (own context) that records console errors in ``page.console_errors``."""
    contexts = []

    def open_page(width: int = 1400, height: int = 1000):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []

        def on_console(msg):
            if msg.type == "error" and msg.text not in KNOWN_HARMLESS_CONSOLE_ERRORS:
                location = msg.location or {}
                page.console_errors.append(f"{msg.text} ({location.get('url', '?')}:{location.get('lineNumber', '?')})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


class LabPages:
    """Pages shared by the browser tests, created on first use (see the module docstring)."""

    def __init__(self, open_page):
        self.open_page = open_page
        self.pages = {}
        _SHARED_PAGES.append(self)

    def page(self, k: int = 0):
        if k not in self.pages:
            self.pages[k] = self.open_page()
        return self.pages[k]

    def close_pages(self) -> None:
        """Close the pages (a later ``page(k)`` opens and loads a new one)."""
        for page in self.pages.values():
            page.context.close()
        self.pages.clear()

    def close_notebooks(self) -> None:
        """Close every notebook tab of every shared page (their kernels keep running)."""
        for page in self.pages.values():
            if getattr(page, "opg_lab_loaded", False):
                page.evaluate("() => { for (const w of Array.from(window.jupyterapp.shell.widgets('main')))"
                              " { if (w.context) w.dispose(); } }")


_SHARED_PAGES: list[LabPages] = []


@pytest.fixture(scope="session")
def lab_pages(open_lab_page):
    return LabPages(open_lab_page)


def pytest_runtest_teardown(item, nextitem):
    """After the last browser test before other tests, close the shared pages: an idle
    JupyterLab page keeps polling the server (kernels, sessions, contents), which cost the
    browser and the server CPU for the rest of the run (in a whole run, the two renderers
    stayed alive until the session's end: 53 CPU-s).  Without xdist other tests can sit
    between the browser files: a later browser test opens a new page."""
    if nextitem is not None and Path(str(nextitem.path)).is_relative_to(_BROWSER_DIR):
        return
    for pages in _SHARED_PAGES:
        pages.close_pages()


@pytest.fixture
def lab_page(lab_pages):
    lab_pages.close_notebooks()
    yield lab_pages.page(0)
    lab_pages.close_notebooks()
