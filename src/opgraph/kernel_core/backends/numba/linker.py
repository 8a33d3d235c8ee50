"""NumbaLinker: compile a FunctionGraph into one njit function.

``make_thunk(fgraph, profile=None)`` returns ``thunk(list_of_input_values) ->
list_of_output_values``.  Normally a call is a single dispatch into the
generated whole-graph function.  With a ``profile`` each node's njit
function is called separately from Python and timed
(``profile.add_node_time``).

Compilation is eager (at link time) for C-contiguous inputs of the graph's
input types, under a per-graph file lock, so concurrent processes compile a
graph once and the others load it from the disk cache.  Other layouts
(non-contiguous views) compile lazily on first use, as numba does.

Memory: what opgraph keeps for a compiled function -- the generated module,
its dispatchers, its ``sys.modules`` entry, the in-process memo (cache.py) --
lives exactly as long as some Function uses it, and is released when the last
one is deleted (cache.py ``_release_module``).  What Numba itself keeps cannot
be freed from here: the machine code and LLVM module of every compilation stay
in numba's JIT engine for the life of the process (numba never removes modules
from it), and numba's typing / target contexts memoise per-type data.  Measured
by benchmarks/memory_cycles.py: about 2.7 MB per compile/delete cycle of a small
graph remains, all of it numba's (the generated module, Function and graph are
gone: tests/kernel_core/backends/numba/test_memory_release.py).  A process
compiling thousands of distinct graphs should compile them in worker
processes.

When a run fails, the graph is re-run node by node to name the failing node
(the same short error the Python VM gives).  If numba cannot compile the
graph at all, the linker warns and falls back to the Python VM, so a missing
or broken kernel never makes a function unusable.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from opgraph.kernel_core.backends.numba.numba_import import needs_blas, preload_blas
from opgraph.kernel_core.graph.basic import Constant


class NumbaFallbackWarning(UserWarning):
    """The Numba backend could not compile a graph and used the Python VM."""


def _numba_signature(variables, values_for_constants=None):
    import numba
    from numba.core import types

    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.type import TensorType

    sig = []
    for v in variables:
        if isinstance(v, Constant):
            sig.append(numba.typeof(v.data))
        elif isinstance(v.type, TensorType):
            sig.append(types.Array(numba.from_dtype(np.dtype(v.type.dtype)), v.type.ndim, "C"))
        elif isinstance(v.type, ScalarType):
            sig.append(numba.from_dtype(np.dtype(v.type.dtype)))
        elif getattr(v.type, "numba_type", None) is not None:
            sig.append(v.type.numba_type())   # e.g. random generators
        else:
            return None
    return tuple(sig)


def _protected_copy_indices(fgraph, order):
    """Inputs that some node would overwrite although the caller owns them (a last defence)."""
    from opgraph.kernel_core.compile.supervisor import Supervisor, destroyed_roots, view_roots
    sup = fgraph.get_feature(Supervisor)
    protected = set(fgraph.inputs) if sup is None else set(sup.protected)
    roots = view_roots(order)
    idx = set()
    for node in order:
        for _, var in destroyed_roots(node, roots):
            if var in protected and var in fgraph.inputs:
                idx.add(fgraph.inputs.index(var))
    return tuple(sorted(idx))


class NumbaLinker:
    name = "numba"

    def __init__(self, use_cache=True):
        self.use_cache = use_cache
        self.last_source = None

    def __repr__(self):
        return "NumbaLinker()"

    # -- building -----------------------------------------------------------
    def _build(self, fgraph):
        from opgraph.kernel_core.backends.numba.cache import load_module
        from opgraph.kernel_core.backends.numba.codegen import generate_module

        gm = generate_module(fgraph, cache_flag=self.use_cache)
        self.last_source = gm.source
        entry = load_module(gm.source, gm.objects, cacheable=gm.cacheable and self.use_cache)
        return gm, entry

    def make_thunk(self, fgraph, profile=None):
        from opgraph.kernel_core.backends.numba.numba_import import import_numba

        numba = import_numba()  # compiling is the moment numba gets imported
        from opgraph.kernel_core.backends.numba.allocator import settle_heap

        settle_heap()  # outputs reuse freed heap memory instead of fresh pages (see allocator.py)

        try:
            gm, entry = self._build(fgraph)
            if profile is not None:
                from opgraph.kernel_core.backends.numba.dispatch import has_numba_impl

                profile.set_graph(fgraph, gm.order)
                profile.object_mode_nodes.update(n for n in gm.order if not has_numba_impl(n.op))
                return self._profiled_thunk(fgraph, gm, entry, profile)
            return self._fast_thunk(fgraph, gm, entry)
        except (numba.core.errors.TypingError, numba.core.errors.LoweringError,
                numba.core.errors.UnsupportedError, NotImplementedError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(f"Numba could not compile this graph ({type(exc).__name__}: {first}); "
                          "using the Python VM instead", NumbaFallbackWarning, stacklevel=2)
            from opgraph.kernel_core.compile.vm import VMLinker

            return VMLinker().make_thunk(fgraph, profile=profile)

    def _fast_thunk(self, fgraph, gm, entry):
        import numba

        from opgraph.kernel_core.backends.numba.codegen import GRAPH_FUNCTION

        fn = getattr(entry.module, GRAPH_FUNCTION)
        consts = tuple(gm.constants)
        const_vars = [c for c in _constant_vars(fgraph, gm)]
        sig = _numba_signature(list(fgraph.inputs) + const_vars)
        if sig is not None:
            with entry.lock():
                # The module (so the dispatcher) is shared by every function of this graph.
                fn._can_compile = True
                try:
                    try:
                        if needs_blas(gm.source):
                            preload_blas()   # loading numba's linear algebra imports cython_blas
                        if not _load_cached_overload(fn, sig):
                            preload_blas()   # so does compiling (numba's registries load)
                            fn.compile(sig)
                    except (numba.core.errors.NumbaError, NotImplementedError):
                        raise
                    except Exception:
                        # Unreadable machine code in the disk cache: drop it, compile afresh.
                        entry.drop_machine_code()
                        preload_blas()
                        fn.compile(sig)
                finally:
                    fn._can_compile = False
            # From now on a call with other argument types raises TypeError instead
            # of compiling silently: the direct entry below relies on it to refuse
            # anything that is not exactly the compiled types (see ``call``).
        copy_idx = _protected_copy_indices(fgraph, gm.order)
        node_runner = _NodeRunner(fgraph, gm, entry)

        def call(args):
            try:
                return fn(*args, *consts)
            except TypeError:
                if fn._can_compile:
                    raise
                # Other layouts (strided views, read-only arrays): compile lazily.
                preload_blas()
                fn._can_compile = True
                try:
                    return fn(*args, *consts)
                finally:
                    fn._can_compile = False

        def thunk(args):
            if copy_idx:
                args = list(args)
                for i in copy_idx:
                    args[i] = np.array(args[i], copy=True)
            try:
                return list(call(args))
            except Exception as exc:
                node_runner.explain(args, exc)
                raise

        def explain_failure(args, exc):
            """After the direct entry (``thunk.direct``) raised ``exc``: False when numba
            refused the argument types (no compiled overload; the caller converts
            them), else re-run node by node to raise the error naming the node, and
            True when that re-run did not fail (the caller raises ``exc``)."""
            if isinstance(exc, TypeError) and tuple(map(fn.typeof_pyval, args)) not in fn.overloads:
                return False
            node_runner.explain(args, exc)
            return True

        thunk.fgraph = fgraph
        thunk.source = gm.source
        thunk.dispatcher = fn
        thunk.explain_failure = explain_failure
        thunk.direct = None
        if sig is not None and not copy_idx and not consts:
            thunk.direct = _direct_entry(fn, _fresh_outputs(fgraph))
        return thunk

    def _profiled_thunk(self, fgraph, gm, entry, profile):
        runner = _NodeRunner(fgraph, gm, entry, compile_now=True, profile=profile)
        copy_idx = _protected_copy_indices(fgraph, gm.order)

        def thunk(args):
            if copy_idx:
                args = list(args)
                for i in copy_idx:
                    args[i] = np.array(args[i], copy=True)
            return runner.run(args, profile)

        thunk.fgraph = fgraph
        thunk.source = gm.source
        return thunk


def _load_cached_overload(fn, sig):
    """Load ``fn``'s machine code for ``sig`` from numba's disk cache; False on a miss.

    Numba's own ``Dispatcher.compile`` first refreshes the target context --
    importing and installing every implementation registry (numba.np.*,
    numba.cpython.*, typed containers, ...) -- although rebuilding cached
    machine code needs none of them, only the NRT.  That refresh is about a
    third of loading a cached graph in a new process.  Here the refresh is
    skipped for the load alone; a miss (or any later compilation) goes
    through ``fn.compile``, which refreshes as usual.
    """
    from numba.core.caching import FunctionCache
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import rtsys

    cache = getattr(fn, "_cache", None)
    if type(cache) is not FunctionCache or getattr(fn, "overloads", None):
        return False
    targetctx = fn.targetctx
    with global_compiler_lock:
        rtsys.initialize(targetctx)  # the one part of the refresh the machine code needs
        targetctx.refresh = _no_refresh  # shadows the method for this load only
        try:
            cres = cache.load_overload(sig, targetctx)
        finally:
            del targetctx.refresh
        if cres is None or cres.objectmode:
            return False
        fn._cache_hits[sig] += 1
        targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        fn.add_overload(cres)
    return True


def _no_refresh():
    pass


# Ops whose Numba code always returns a newly allocated array (never an input,
# a view, or a constant): their outputs can be handed to the caller uncopied.
_FRESH_OPS = ("Elemwise", "CAReduce", "Dot", "Shape", "Shape_i", "TensorFromScalar", "Blockwise", "RandomVariable")


def _allocates(op):
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    if isinstance(op, Blockwise):
        from opgraph.kernel_core.tensor.dot import Dot

        return isinstance(op.core_op, Dot)
    return any(c.__name__ in _FRESH_OPS for c in type(op).__mro__)


def _fresh_outputs(fgraph):
    """Per graph output: whether the compiled code returns a buffer nobody else holds.

    An output is fresh when it is allocated by an op of ``_FRESH_OPS`` or is an
    inplace (``destroy_map``) result whose destroyed buffer is itself fresh; two
    outputs sharing one buffer are not both fresh.  Anything else (inputs,
    constants, views, fallback ``perform`` results) is copied by the caller.
    """
    fresh, roots = [], set()
    for out in fgraph.outputs:
        var, ok = out, True
        while True:
            node = var.owner
            if node is None or isinstance(var, Constant):
                ok = False
                break
            k = node.outputs.index(var)
            destroyed = getattr(node.op, "destroy_map", {}).get(k)
            if destroyed:
                var = node.inputs[destroyed[0]]
                continue
            if getattr(node.op, "view_map", {}).get(k) or not _allocates(node.op):
                ok = False
            break
        if ok and var in roots:
            ok = False
        roots.add(var)
        fresh.append(ok)
    return tuple(fresh)


def _direct_entry(fn, fresh):
    """``direct(*args) -> tuple of outputs``: the compiled dispatcher itself when every
    output is fresh, else a wrapper copying the others.  Raises TypeError for
    arguments that are not exactly the compiled types (the caller then takes the
    checked path)."""
    if all(fresh):
        return fn
    stale = [k for k, f in enumerate(fresh) if not f]

    def direct(*args):
        outs = list(fn(*args))
        for k in stale:
            v = outs[k]
            if type(v) is np.ndarray:
                outs[k] = v.copy()
        return outs

    return direct


def _constant_vars(fgraph, gm):
    """The Constant variables behind the trailing constant arguments, in order."""
    found = {}
    for node in gm.order:
        for v in node.inputs:
            if isinstance(v, Constant) and gm.var_names.get(v, "").startswith("k"):
                found.setdefault(gm.var_names[v], v)
    for v in fgraph.outputs:
        if isinstance(v, Constant) and gm.var_names.get(v, "").startswith("k"):
            found.setdefault(gm.var_names[v], v)
    return [found[f"k{i}"] for i in range(len(gm.constants))]


def _timed_compile(fn, sig, profile, during_call=False):
    """``fn.compile(sig)``, its time added to ``profile`` as a Numba jit or a disk-cache load."""
    hits = sum(fn.stats.cache_hits.values())
    t0 = time.perf_counter()
    fn.compile(sig)
    seconds = time.perf_counter() - t0
    if profile is not None:
        profile.add_compile_phase("cache_load" if sum(fn.stats.cache_hits.values()) > hits else "numba_jit",
                                  seconds, during_call)


class _NodeRunner:
    """Runs the graph node by node with each node's njit function (profiling, error reports)."""

    def __init__(self, fgraph, gm, entry, compile_now=False, profile=None):
        self.fgraph = fgraph
        self.order = gm.order
        self.fns = [getattr(entry.module, name) for name in gm.node_functions]
        self.entry = entry
        from opgraph.kernel_core.scalar.type import ScalarType

        self._scalar_types = {o: np.dtype(o.type.dtype).type for node in self.order for o in node.outputs
                              if isinstance(o.type, ScalarType)}
        self._prepared = False   # profiled runs: node kernels typed and compiled before any timing
        # Nodes whose njit function takes more arguments than a Join chunk: an error
        # report never compiles them (numba's typing of N arguments is superlinear).
        from opgraph.kernel_core.backends.numba.join import WIDE_JOIN

        self._wide = {node for node in self.order if len(node.inputs) > WIDE_JOIN + 1}
        if compile_now:
            preload_blas()
            if profile is not None:
                # numba's first typeof of an array (once per process) imports numpy.ma,
                # ~0.3 s: part of Numba's setup, so of its jit time, not of the first call.
                import numba

                t0 = time.perf_counter()
                numba.typeof(np.empty(0))
                profile.add_compile_phase("numba_jit", time.perf_counter() - t0)
            with entry.lock():
                for node, fn in zip(self.order, self.fns):
                    sig = _numba_signature(node.inputs)
                    if sig is not None:
                        _timed_compile(fn, sig, profile)

    def run(self, args, profile=None, on_python=()):
        """Run node by node with the njit functions (the nodes in ``on_python`` with ``perform``)."""
        from opgraph.kernel_core.runtime_errors import node_error

        preload_blas()   # the node functions compile on first use
        values = dict(zip(self.fgraph.inputs, args))
        clock = time.perf_counter
        prepare = profile is not None and not self._prepared
        for node, fn in zip(self.order, self.fns):
            ins = [v.data if isinstance(v, Constant) else values[v] for v in node.inputs]
            if node in on_python:
                storage = [[None] for _ in node.outputs]
                try:
                    node.op.perform(node, _copies_of_destroyed(node, ins), storage)
                except Exception as exc:
                    err = node_error(node, ins, exc)
                    err.__cause__ = None
                    err.__suppress_context__ = True
                    raise err
                values.update((o, cell[0]) for o, cell in zip(node.outputs, storage))
                continue
            if prepare:
                # Never time numba's work as the node's: compile the kernel for these
                # argument types first (signatures not compiled at link time).
                sig = tuple(fn.typeof_pyval(v) for v in ins)
                if sig not in fn.overloads:
                    _timed_compile(fn, sig, profile, during_call=True)
            if profile is not None:
                n_overloads = len(fn.overloads)
            t0 = clock()
            try:
                res = fn(*ins)
            except Exception as exc:
                err = node_error(node, ins, exc)
                err.__cause__ = None
                err.__suppress_context__ = True
                raise err
            if profile is not None:
                if len(fn.overloads) == n_overloads:
                    profile.add_node_time(node, clock() - t0, ins)
                else:   # numba compiled a new layout inside this call: that time is jit time
                    profile.add_compile_phase("numba_jit", clock() - t0, during_call=True)
            outs = [res] if len(node.outputs) == 1 else res
            for o, r in zip(node.outputs, outs):
                # numba returns scalars as Python numbers: give them back their dtype, or
                # the next node would be typed (and compiled) for int64 / float64 instead
                # (a uint64 index past 2**63 would then not even convert).
                values[o] = self._scalar_types[o](r) if o in self._scalar_types else r
        if prepare:
            self._prepared = True
        return [v.data if isinstance(v, Constant) else values[v] for v in self.fgraph.outputs]

    def explain(self, args, exc):
        """Raise the error naming the failing node (else return: the caller raises ``exc``).

        Cheap whatever the graph's width: the nodes run on the Python tier (each
        Op's ``perform``: nothing to compile); a node whose ``perform`` fails runs
        its own njit function on the same inputs, and the node is reported when
        that fails too, with the compiled code's message (when it does not, the
        run goes on with its results: the compiled graph did not fail there).  A
        wide node's njit function is never compiled for a report (numba took
        143 s for a Join of 600 inputs): its ``perform`` error stands.  When no
        ``perform`` fails (one of the compiled code's own checks did), the graph
        runs node by node with the njit functions, wide nodes on ``perform``.
        """
        from opgraph.kernel_core.runtime_errors import NodeRuntimeError, node_error

        failing = self._python_run(args)
        if failing is None:
            try:
                self.run(args, on_python=self._wide)
            except NodeRuntimeError:
                raise
            except Exception:
                return
            return
        node, ins, found = failing
        err = node_error(node, ins, found)
        err.__cause__ = None
        err.__suppress_context__ = True
        raise err

    def _python_run(self, args):
        """Run the graph with each node's ``perform`` (see ``explain``): (node, input
        values, exception) of the node that fails, or None."""
        import numba

        values = dict(zip(self.fgraph.inputs, args))
        for node, fn in zip(self.order, self.fns):
            ins = [v.data if isinstance(v, Constant) else values[v] for v in node.inputs]
            storage = [[None] for _ in node.outputs]
            try:
                node.op.perform(node, _copies_of_destroyed(node, ins), storage)
                outs = [cell[0] for cell in storage]
            except Exception as python_exc:
                if node in self._wide:
                    return node, ins, python_exc
                try:
                    res = fn(*_copies_of_destroyed(node, ins))
                except numba.core.errors.NumbaError:
                    return node, ins, python_exc   # not typable for perform's values
                except Exception as compiled_exc:
                    return node, ins, compiled_exc
                outs = [res] if len(node.outputs) == 1 else list(res)
                outs = [self._scalar_types[o](r) if o in self._scalar_types else r
                        for o, r in zip(node.outputs, outs)]
            values.update(zip(node.outputs, outs))
        return None


def _copies_of_destroyed(node, ins):
    """``ins`` with the inputs ``node`` overwrites copied: an error report never
    changes a caller's array, a constant, or a value it runs again."""
    destroyed = {i for idx in getattr(node.op, "destroy_map", {}).values() for i in idx}
    if not destroyed:
        return ins
    return [np.array(v, copy=True) if i in destroyed and isinstance(v, np.ndarray) else v
            for i, v in enumerate(ins)]


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]
