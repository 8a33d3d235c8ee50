"""Tiered execution for mode NUMBA: the first calls run generated Python while Numba compiles.

``TieredLinker.make_thunk(fgraph)`` links the rewritten graph twice:

1. at once, with the generated-Python backend (``backends/python``: one Python
   function calling NumPy per node, milliseconds to build);
2. off the caller's thread, with the Numba backend.

The returned ``TieredThunk`` runs tier 1 until tier 2 is ready, then switches,
at the start of a call (a call never mixes tiers).  On the switch the maker's
``thunk`` becomes the Numba thunk and every Function using it re-derives its
call path (``Function._setup``), so the per-call cost after the switch is the
Numba backend's own (its direct entry).  Both tiers compute the same rewritten
graph with the same destroy maps; results agree to floating-point
reproducibility of NumPy against Numba's loops.

How tier 2 is compiled (``config.tiered_compile``, or ``Mode(tiered=...)``):

``"background"`` (default)
    A daemon thread compiles with Numba once the first call returned (or
    ``FIRST_CALL_GRACE`` seconds after ``function()`` returned without one), so the first result does not share
    the GIL with numba's import.  Chosen by measurement against a worker process
    compiling into the disk cache (``TieredLinker(use_process=True)``, after which
    the thread only loads the entry): W5 cold, a loop calling the Python tier
    while Numba compiled, on this project's 2-core machine shared with other
    work (load average 7-9), two runs each:

    ======================= ========================== =======================
    compiled in             calls/s of the loop,       Numba tier takes over
                            share of its idle rate     (from function())
    ======================= ========================== =======================
    a thread (chosen)       0.68, 0.59                 7.3 s, 9.3 s
    a worker process        0.25, 0.40                 16.4 s, 16.3 s
    ======================= ========================== =======================

    Numba does hold the GIL in stretches, but the interpreter's switch interval
    still gives the caller most of its time; a second process competes for the
    same two cores (and pays its own interpreter start and numba import), which
    cost the caller more, and took twice as long to finish.
``"on_wait"``
    Nothing compiles until ``f.wait_compiled()``: the Python tier serves every
    call.  The test suite uses this (deterministic, and tests that do not test
    the Numba backend compile nothing).
``"off"`` (``Mode("NUMBA", tiered=False)``)
    ``function()`` compiles with Numba before returning, as without tiers.

A failure of the Numba compilation is raised by ``wait_compiled()``; calls keep
running on the Python tier (which computes the same graph) meanwhile and after.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
import time
import weakref

__all__ = ["TieredLinker", "TieredThunk", "TIERED_CHOICES"]

TIERED_CHOICES = ("background", "on_wait", "off")
# The background compile starts once the first call returned, or after this many
# seconds without one: the first result does not share the GIL with numba's import.
FIRST_CALL_GRACE = 0.05
# A thunk no Function attaches to (linked directly) starts compiling after this anyway.
ATTACH_WAIT = 2.0


class TieredThunk:
    """The fast tier now, the Numba tier once compiled (see the module docstring)."""

    def __init__(self, fgraph, fast, compile_numba, strategy, profile=None):
        self.fgraph = fgraph
        self.fast = fast
        self.order = fast.order
        self.source = getattr(fast, "source", None)   # the running tier's source
        self.direct = None            # the Function's checked path runs until the switch
        self.backend = "python"
        self.profile = profile
        self.numba = None             # the Numba thunk, once switched
        self._compile = compile_numba
        self._strategy = strategy
        self._ready = None            # the compiled Numba thunk, not yet switched to
        self._error = None
        self._done = threading.Event()
        self._first_call = threading.Event()
        self._attached = threading.Event()   # function() has returned: the grace starts then
        self._started = False
        self._lock = threading.Lock()
        self._makers = weakref.WeakSet()
        self._functions = weakref.WeakSet()
        self.compile_seconds = None   # wall time of the Numba compilation (off the caller's thread)
        self.gave_up = False          # Numba could not compile the graph: the Python tier stays
        if strategy == "background":
            self._start()

    # -- who to tell on the switch ---------------------------------------------------------
    def attach(self, function):
        """``function`` (a Function over this thunk) re-derives its call path on the switch."""
        self._makers.add(function.maker)
        self._functions.add(function)
        self._attached.set()

    # -- compiling ------------------------------------------------------------------------------
    def _start(self):
        with self._lock:
            if self._started:
                return
            self._started = True
        t = threading.Thread(target=self._run, args=(FIRST_CALL_GRACE,), name="opgraph-numba-tier", daemon=True)
        t.start()

    def _run(self, grace=0.0):
        if grace:
            # Counted from the end of function() (which may take longer than the grace
            # on a loaded machine), not from the start of its linking step.
            self._attached.wait(ATTACH_WAIT)
            self._first_call.wait(grace)
            with _exiting_lock:
                if _exiting:   # the interpreter is exiting: do not start compiling now
                    self._done.set()
                    return
                _compiling.add(self)
        t0 = time.perf_counter()
        short_switches = grace and _short_switch_interval.enter()
        try:
            ready = self._compile()
            from opgraph.kernel_core.compile.vm import VMThunk

            if isinstance(ready, VMThunk):
                # Numba could not compile the graph and its linker fell back to the VM (with a
                # NumbaFallbackWarning): the Python tier, faster than the VM, stays.
                self.gave_up = True
            else:
                self._ready = ready
        except BaseException as exc:   # reported by wait_compiled(); calls stay on the Python tier
            self._error = exc
        finally:
            if short_switches:
                _short_switch_interval.exit()
            self.compile_seconds = time.perf_counter() - t0
            self._done.set()
            _compiling.discard(self)

    def wait_compiled(self, timeout=None):
        """Block until the Numba tier runs (compiling now under ``on_wait``); True when it does."""
        if self.numba is not None:
            return True
        if self._strategy == "on_wait" and not self._started:
            self._started = True
            self._run()   # in the caller's thread: it waits anyway
        elif not self._done.wait(timeout):
            return False
        if self._error is not None:
            raise self._error
        self._switch()
        return True   # (also when Numba gave up: the Python tier is then the final one)

    def pending_note(self):
        """The line ``f.dprint()`` adds while the Python tier runs and Numba compiles in
        the background (under ``on_wait`` the Python tier is the configured one: no line)."""
        if self.numba is not None or self._strategy != "background" or self._done.is_set():
            return None
        return ("(running on the Python tier while Numba compiles in the background; "
                "f.wait_compiled() waits for it)")

    @property
    def compiled(self):
        """Whether the Numba tier is ready (switched to or waiting for the next call)."""
        return self.numba is not None or self._ready is not None

    def _switch(self):
        with self._lock:
            if self.numba is not None or self._ready is None:
                return
            self.numba = self._ready
            self.backend = "numba"
            self.source = getattr(self.numba, "source", None)
        if self.profile is not None:
            return   # calls keep coming here: the profile counts each tier's calls
        for maker in list(self._makers):
            if maker.thunk is self:
                maker.thunk = self.numba
        for f in list(self._functions):
            f._setup()

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, args):
        if self._ready is not None and self.numba is None:
            self._switch()
        thunk = self.fast if self.numba is None else self.numba
        if self.profile is not None:
            calls = self.profile.tier_calls
            name = "python" if thunk is self.fast else "numba"
            calls[name] = calls.get(name, 0) + 1
        if self._first_call.is_set():
            return thunk(args)
        try:
            return thunk(args)
        finally:
            self._first_call.set()


class _ShortSwitchInterval:
    """A shorter GIL switch interval while a background compilation runs.

    Numba's import and cache loading do many small file reads, each releasing the GIL;
    with a caller's thread busy calling the Python tier, every re-acquisition waits a
    whole switch interval (5 ms by default): the convoy effect.  Measured on W5 with a
    warm disk cache and a loop calling the function all the while (2 cores): the Numba
    tier took over after 1.3-2.5 s at 5 ms, 0.5 s at 0.5 ms, the loop still making
    progress meanwhile.  The interval is restored when the last compilation ends,
    unless the user changed it meanwhile.
    """

    INTERVAL = 0.0005

    def __init__(self):
        self._lock = threading.Lock()
        self._active = 0
        self._saved = None

    def enter(self):
        with self._lock:
            if self._active == 0:
                current = sys.getswitchinterval()
                if current <= self.INTERVAL:
                    return False          # already short: leave the user's setting alone
                self._saved = current
                sys.setswitchinterval(self.INTERVAL)
            self._active += 1
            return True

    def exit(self):
        with self._lock:
            self._active -= 1
            if self._active == 0:
                if abs(sys.getswitchinterval() - self.INTERVAL) < 1e-9:
                    sys.setswitchinterval(self._saved)
                self._saved = None


_short_switch_interval = _ShortSwitchInterval()

# Background compilations in progress.  At exit the interpreter waits for them
# (atexit): a daemon thread stopped inside numba's compiler can crash the shutdown,
# and the finished compilation leaves the graph in the disk cache for the next run.
_compiling = weakref.WeakSet()
_exiting = False
_exiting_lock = threading.Lock()


@atexit.register
def _wait_for_compilations():
    global _exiting
    with _exiting_lock:
        _exiting = True
        running = list(_compiling)
    for thunk in running:
        thunk._done.wait()


def _compile_in_thread(fgraph, profile, linker=None):
    if linker is None:
        from opgraph.kernel_core.backends.numba.linker import NumbaLinker

        linker = NumbaLinker()
    return linker.make_thunk(fgraph, profile=profile)


# The worker process: read a pickled FunctionGraph, compile it into the disk cache.
_WORKER = """
import pickle, sys
fgraph = pickle.load(sys.stdin.buffer)
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
NumbaLinker().make_thunk(fgraph)
"""


def _compile_in_process(fgraph, profile, linker=None):
    """Compile in a worker process into the disk cache, then load the entry here.

    Numba holds the GIL for most of a compilation; in another process it takes
    none of the caller's.  Falls back to compiling in this thread when the
    graph does not pickle or the worker fails (the compile here then reports
    any real error)."""
    if profile is None:
        try:
            payload = pickle.dumps(fgraph, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:   # a graph holding unpicklable objects: compile it here
            payload = None
        if payload is not None:
            env = dict(os.environ)
            src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
            env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            subprocess.run([sys.executable, "-c", _WORKER], input=payload, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return _compile_in_thread(fgraph, profile, linker)


def _cacheable(fgraph):
    """Whether the Numba module of ``fgraph`` can live in the disk cache (no objmode fallback)."""
    from opgraph.kernel_core.backends.numba.dispatch import has_numba_impl, load_op_implementations

    load_op_implementations()
    return all(has_numba_impl(n.op) for n in fgraph.apply_nodes)


class TieredLinker:
    """Links the Python tier now and the Numba tier off the caller's thread."""

    name = "numba"

    def __init__(self, strategy="background", use_process=False):
        if strategy not in ("background", "on_wait"):
            raise ValueError(f"TieredLinker: strategy must be 'background' or 'on_wait', got {strategy!r}")
        self.strategy = strategy
        # True: a worker process for graphs numba can cache (slower here: see the docstring).
        self.use_process = use_process
        # Imported now (not numba itself): a broken backend fails function(), not later calls.
        from opgraph.kernel_core.backends.numba.linker import NumbaLinker

        self._numba = NumbaLinker()

    def __repr__(self):
        return f"TieredLinker({self.strategy!r})"

    @property
    def numba_linker(self):
        """The Numba linker of the second tier."""
        return self._numba

    @property
    def last_source(self):
        """The generated Numba module once the second tier compiled (as NumbaLinker's)."""
        return self.numba_linker.last_source

    def make_thunk(self, fgraph, profile=None):
        from opgraph.kernel_core.backends.python.linker import PythonLinker

        fast = PythonLinker(strict_inputs=True).make_thunk(fgraph, profile=profile)
        use_process = self.use_process and profile is None and self.strategy == "background" \
            and _cacheable(fgraph)
        compile_fn = _compile_in_process if use_process else _compile_in_thread
        linker = self.numba_linker
        return TieredThunk(fgraph, fast, lambda: compile_fn(fgraph, profile, linker), self.strategy, profile)
