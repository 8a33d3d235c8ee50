"""``FunctionMaker`` builds a compiled function; ``Function`` is what the user calls.

The pipeline (``FunctionMaker.__init__``):

1. clone the user's graph into a ``FunctionGraph``: explicit inputs become
   fresh roots, ``givens`` substitute variables, shared variables become
   implicit inputs, and each ``updates`` expression becomes an extra output
   whose value is written back to its shared variable after every call;
   only what the outputs need is cloned (unused computations are truncated);
2. rewrite it with the mode's phases (merge — computing each shared
   subcomputation once — and constant folding always run);
3. link it with the mode's linker into a thunk: list of input values -> list
   of output values.

``Function.__call__`` checks the arguments (count, dtype, ndim, static shape),
runs the thunk, writes the updates, and hands back fresh arrays.
"""

from __future__ import annotations

import time

import numpy as np

from opgraph.kernel_core.gc_pause import paused_gc
from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.runtime_errors import without_internal_frames
from opgraph.kernel_core.compile.mode import get_mode
from opgraph.kernel_core.compile.shared import SharedVariable, is_shared
from opgraph.kernel_core.compile.supervisor import Supervisor

__all__ = ["Function", "FunctionMaker", "MissingInputError", "UnusedInputError"]


class MissingInputError(ValueError):
    """The outputs depend on a root variable that is neither an input, shared, nor given."""


class UnusedInputError(ValueError):
    """An explicit input does not influence any output (see ``on_unused_input``)."""


def _describe(var, position=None):
    where = f"input {position}" if position is not None else "variable"
    if var.name:
        return f"{where} {var.name!r}"
    return f"{where} ({var.type.short_str()})"


def _clone_into(memo, outputs, missing):
    """Clone the Apply nodes between ``memo``'s keys and ``outputs`` into ``memo``.

    Roots met on the way: constants are kept (immutable), shared variables
    get one clone each (the clone keeps the same storage), any other root is
    recorded in ``missing``.
    """
    if not outputs:
        return []
    for node in io_toposort(list(memo), outputs):
        if node in memo:
            continue
        new_inputs = []
        for inp in node.inputs:
            new = memo.get(inp)
            if new is None:
                if isinstance(inp, Constant):
                    new = inp
                elif is_shared(inp):
                    new = inp.clone()
                else:
                    missing.setdefault(inp, node)
                    new = inp
                memo[inp] = new
            new_inputs.append(new)
        new_node = node.clone_with_new_inputs(new_inputs, strict=True)
        memo[node] = new_node
        for old, new in zip(node.outputs, new_node.outputs):
            memo[old] = new
    result = []
    for out in outputs:
        if out not in memo:
            if isinstance(out, Constant):
                memo[out] = out
            elif is_shared(out):
                memo[out] = out.clone()
            else:
                missing.setdefault(out, None)
                memo[out] = out
        result.append(memo[out])
    return result


def _as_given_value(old, new):
    if not isinstance(new, Variable):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        new = as_tensor_variable(new)
    if new.type == old.type:
        return new
    converted = old.type.convert_variable(new)
    if converted is None:
        raise TypeError(f"givens: cannot replace {old} ({old.type.short_str()}) by {new} "
                        f"({new.type.short_str()}); the types must match")
    return converted


def _as_update_value(target, expr, what=None):
    """``expr`` as the new value of ``target`` (a shared variable, or an In's variable when ``what``)."""
    if what is None:
        what = "updates"
        if not is_shared(target):
            raise TypeError(f"updates: {target} is not a shared variable; only shared variables can be updated")
    if not isinstance(expr, Variable):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        expr = as_tensor_variable(expr)
    if expr.type == target.type:
        return expr
    tt, et = target.type, expr.type
    if getattr(tt, "dtype", None) != getattr(et, "dtype", None) or getattr(tt, "ndim", None) != getattr(et, "ndim", None):
        raise TypeError(f"{what}: the new value of {target} has type {et.short_str()}, but {target} is "
                        f"{tt.short_str()}; cast it (e.g. .astype({getattr(tt, 'dtype', '...')!r}))")
    converted = tt.convert_variable(expr)
    if converted is None:
        raise TypeError(f"{what}: the new value of {target} has type {et.short_str()}, incompatible "
                        f"with {tt.short_str()}")
    return converted


def _no_default_updates(option):
    """``function(no_default_updates=...)``: False (apply every default_update), True
    (none), or the shared variables whose default_update is skipped."""
    if option is False or option is None:
        return set()
    if option is True:
        return True
    if isinstance(option, Variable):
        option = [option]
    try:
        excluded = list(option)
    except TypeError:
        raise TypeError("function: no_default_updates must be True, False or a list of shared variables, "
                        f"got {type(option).__name__}") from None
    for v in excluded:
        if not is_shared(v):
            raise TypeError(f"function: no_default_updates lists {v!r}, which is not a shared variable")
    return set(excluded)


def _pairs(obj, what):
    if obj is None:
        return []
    if isinstance(obj, dict):
        return list(obj.items())
    try:
        pairs = [tuple(p) for p in obj]
    except TypeError:
        raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs") from None
    for p in pairs:
        if len(p) != 2:
            raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs, got {p!r}")
    return pairs


class FunctionMaker:
    """Runs the compile pipeline; keeps the compiled ``fgraph``, ``mode`` and ``linker``."""

    def __init__(self, inputs, outputs, mode=None, updates=None, givens=None, profile=None,
                 on_unused_input="raise", name=None, no_default_updates=False, accept_inplace=False):
        # Compiling allocates many small objects that all stay alive: see gc_pause.
        with paused_gc():
            self._compile(inputs, outputs, mode, updates, givens, profile, on_unused_input, name,
                          no_default_updates, accept_inplace)

    def _compile(self, inputs, outputs, mode, updates, givens, profile, on_unused_input, name,
                 no_default_updates=False, accept_inplace=False):
        t_start = time.perf_counter()
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
        self.inputs = list(inputs)     # In objects
        self.outputs = list(outputs)   # Out objects
        self.mode = get_mode(mode)
        self.name = name
        self.profile = profile
        if profile is not None:
            profile.mode = self.mode

        self._build_fgraph(updates, givens, on_unused_input, no_default_updates, accept_inplace)
        t_graph = time.perf_counter()

        self.rewrites_applied = self._rewrite()
        t_rewrite = time.perf_counter()

        self._link()
        t_link = time.perf_counter()

        if profile is not None:
            profile.graph_time = t_graph - t_start
            profile.rewrite_time = t_rewrite - t_graph
            profile.link_time = t_link - t_rewrite
            profile.compile_time = t_link - t_start
            profile.linker = getattr(self.linker, "name", type(self.linker).__name__)
            if profile.fgraph is None:
                profile.fgraph = self.fgraph

    def _link(self):
        self.linker = self.mode.get_linker()
        # Generic (non-array) values go around the linked code (see generic_values.py).
        from opgraph.kernel_core.compile.generic_values import make_thunk

        self.thunk = make_thunk(self.linker, self.fgraph, profile=self.profile)
        self.destroyed_inputs = self._destroyed_inputs()

    # -- pickling: the rewritten graph travels, the machine code is linked again
    # (Numba finds it in its disk cache: the generated source is the same).
    _UNPICKLED = ("linker", "thunk", "profile")

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._UNPICKLED}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.profile = None
        with paused_gc():
            self._link()

    # -- 1. graph -------------------------------------------------------------
    def _build_fgraph(self, updates, givens, on_unused_input, no_default_updates=False, accept_inplace=False):
        explicit = [i.variable for i in self.inputs]
        seen = {}
        for pos, var in enumerate(explicit):
            if var in seen:
                raise ValueError(f"function: {_describe(var)} is given twice as input (positions {seen[var]} and {pos})")
            seen[var] = pos
            if isinstance(var, SharedVariable) or is_shared(var):
                raise TypeError(f"function: cannot use the shared variable {var} as an explicit input; "
                                "its value is passed implicitly (use givens to substitute it)")

        update_pairs = []
        targets = set()
        for target, expr in _pairs(updates, "updates"):
            if target in targets:
                raise ValueError(f"updates: {target} is updated twice")
            targets.add(target)
            update_pairs.append((target, _as_update_value(target, expr)))
        # In(x, value=..., update=expr): the function keeps x's value and replaces it by expr after each call.
        input_updates = [(pos, _as_update_value(i.variable, i.update, what=f"In({i.variable}, update=...)"))
                         for pos, i in enumerate(self.inputs) if i.update is not None]
        excluded = _no_default_updates(no_default_updates)

        given_pairs = [(old, _as_given_value(old, new)) for old, new in _pairs(givens, "givens")]
        for old, _ in given_pairs:
            if not isinstance(old, Variable):
                raise TypeError(f"givens: keys must be Variables, got {type(old).__name__}")

        # Explicit inputs: fresh roots (an intermediate variable as input cuts the graph there).
        memo = {}
        for var in explicit:
            memo[var] = var.clone() if var.owner is None else var.type.make_variable(name=var.name)
        missing = {}
        if given_pairs:
            new_values = _clone_into(memo, [new for _, new in given_pairs], missing)
            for (old, _), new in zip(given_pairs, new_values):
                memo[old] = new
        out_vars = _clone_into(memo, [o.variable for o in self.outputs], missing)
        upd_vars = _clone_into(memo, [e for _, e in update_pairs], missing)
        in_upd_vars = _clone_into(memo, [e for _, e in input_updates], missing)
        if excluded is not True:
            # Shared variables the graph uses that carry a ``default_update`` (a random
            # generator advancing its state) are updated too, unless updated explicitly
            # or excluded; an update expression may bring in more such variables.
            scanned = set()
            while True:
                found = []
                for orig in list(memo):
                    if orig in scanned or not isinstance(orig, Variable) or not is_shared(orig):
                        continue
                    scanned.add(orig)
                    default = getattr(orig, "default_update", None)
                    if default is None or orig in targets or orig in excluded or not is_shared(memo[orig]):
                        continue   # (a shared variable replaced through givens is not in the graph)
                    targets.add(orig)
                    found.append((orig, _as_update_value(orig, default, what=f"{orig}.default_update")))
                if not found:
                    break
                update_pairs.extend(found)
                upd_vars.extend(_clone_into(memo, [e for _, e in found], missing))
        if missing:
            var, node = next(iter(missing.items()))
            needed_by = f" (needed by {node.op})" if node is not None else ""
            raise MissingInputError(
                f"function: the outputs depend on {_describe(var)}{needed_by}, which is not an input; "
                "add it to the inputs, give it a value with givens, or make it a shared variable")

        # Implicit inputs: every shared variable the graph reads or updates.
        shared_clones = []
        seen_shared = set()
        for var in io_toposort_roots(memo, out_vars + upd_vars + in_upd_vars):
            if is_shared(var) and var not in seen_shared:
                seen_shared.add(var)
                shared_clones.append(var)
        for target, _ in update_pairs:
            clone = memo.get(target)
            if clone is None:
                clone = memo[target] = target.clone()
            if clone not in seen_shared:
                seen_shared.add(clone)
                shared_clones.append(clone)
        self.update_targets = [memo[t] for t, _ in update_pairs]

        input_clones = [memo[v] for v in explicit]
        # An updated shared value whose type says so (random generators: the update replaces
        # the state anyway) may be overwritten in place, as PyTensor's updated inputs are mutable.
        updated = set(self.update_targets)
        protected = [c for c, i in zip(input_clones, self.inputs) if not i.mutable] + [
            c for c in shared_clones if not (c in updated and getattr(c.type, 'mutable_when_updated', False))]
        self.fgraph = FunctionGraph(input_clones + shared_clones, out_vars + upd_vars + in_upd_vars,
                                    features=[Supervisor(protected)], clone=False, name=self.name)
        # The user's inputs and outputs by position (the graph holds clones; rewrites replace
        # outputs): what mode JAX's shardings={variable: spec} are keyed by.
        self.fgraph.user_variables = (explicit, [o.variable for o in self.outputs])
        self.n_explicit = len(explicit)
        self.shared_containers = [v.tag.shared_container for v in shared_clones]
        self.n_outputs = len(out_vars)
        self.update_containers = [t.tag.shared_container for t in self.update_targets]
        self.input_update_positions = [pos for pos, _ in input_updates]
        self._check_inplace(accept_inplace)
        self._check_unused(input_clones, on_unused_input)

    def _check_inplace(self, accept_inplace):
        """PyTensor's rule: the user's graph may contain inplace (``destroy_map``) nodes
        only with ``accept_inplace=True``.  Those nodes then run as written, except
        that an input that is not mutable (or a constant) is copied before being
        overwritten (the linkers' last line of defence), so the caller's arrays stay
        intact where PyTensor would refuse the graph."""
        if accept_inplace:
            return
        for node in self.fgraph.apply_nodes:
            if getattr(node.op, "destroy_map", None):
                raise TypeError(f"function: the graph contains the inplace operation {node.op} "
                                f"(destroy_map={dict(node.op.destroy_map)}); build it without inplace "
                                "ops, or pass accept_inplace=True")

    def _check_unused(self, input_clones, policy):
        if policy == "ignore":
            return
        used = set(self.fgraph.outputs)
        for node in self.fgraph.apply_nodes:
            used.update(node.inputs)
        unused = [pos for pos, c in enumerate(input_clones) if c not in used]
        if not unused:
            return
        desc = ", ".join(_describe(self.inputs[p].variable, p) for p in unused)
        msg = (f"function: {desc} {'is' if len(unused) == 1 else 'are'} not used to compute the outputs; "
               "pass on_unused_input='warn' or 'ignore' to allow this")
        if policy == "raise":
            raise UnusedInputError(msg)
        import warnings

        warnings.warn(msg, stacklevel=6)  # the user's function() call

    # -- 2. rewrite -----------------------------------------------------------
    def _rewrite(self):
        from opgraph.kernel_core.rewriting.api import rewrite_fgraph

        include, exclude = self.mode.rewrite_tags()
        history = None
        if self.profile is not None:
            from opgraph.kernel_core.rewriting.history import RewriteHistory

            history = RewriteHistory()
            self.fgraph.attach_feature(history)
        try:
            rewrite_fgraph(self.fgraph, include=include, exclude=exclude)
        finally:
            if history is not None:
                self.fgraph.remove_feature(history)
        counts = {}
        if history is not None:
            for rec in history.records:
                counts[str(rec.rule)] = counts.get(str(rec.rule), 0) + 1
            self.profile.rewrites_applied = counts
        return counts

    def _destroyed_inputs(self):
        """Positions (in ``fgraph.inputs``) of the inputs the compiled graph overwrites
        without copying them first: the mutable ones (protected ones are copied by
        the linker).  A call must copy such an argument when it shares memory with
        another argument, or the other one would be read after being overwritten."""
        from opgraph.kernel_core.compile.supervisor import destroyed_roots, view_roots

        order = self.order
        roots = view_roots(order)
        position = {v: k for k, v in enumerate(self.fgraph.inputs)}
        sup = self.fgraph.get_feature(Supervisor)
        protected = sup.protected if sup is not None else set(self.fgraph.inputs)
        found = set()
        for node in order:
            for _, var in destroyed_roots(node, roots):
                k = position.get(var)
                if k is not None and var not in protected:
                    found.add(k)
        return tuple(sorted(found))

    @property
    def order(self):
        """The execution order of the compiled graph's nodes."""
        order = getattr(self.thunk, "order", None)
        return list(order) if order is not None else self.fgraph.toposort()


def io_toposort_roots(memo, outputs):
    """Root variables of the cloned graph, in first-use order (iterative)."""
    roots = []
    seen = set()
    stack = list(reversed(outputs))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner is None:
            roots.append(var)
        else:
            stack.extend(reversed(var.owner.inputs))
    return roots


class Function:
    """A compiled function: ``f(*args, **kwargs)``; ``f.maker.fgraph`` is the compiled graph.

    State a call reads and writes: the shared variables' containers, and one
    value per ``In`` with a ``value`` (its default; replaced after each call for
    an ``In`` with an ``update``).  ``f["x"]`` reads such a value, ``f["x"] = v``
    sets it.  ``f.copy(...)`` is another function over the same compiled code;
    a Function pickles (the compiled graph travels, and is linked again on
    loading: Numba's machine code comes from its disk cache).
    """

    def __init__(self, maker, return_list, trust_input=False, name=None):
        self.maker = maker
        self.name = name
        self.trust_input = trust_input
        self._return_list = return_list
        self._shared_containers = list(maker.shared_containers)
        self._update_containers = list(maker.update_containers)
        self._in_update_pos = tuple(getattr(maker, "input_update_positions", ()))
        self._defaults = None
        self._setup()

    def _setup(self):
        """What a call needs, derived from the maker (also after copy and unpickling)."""
        maker = self.maker
        self.profile = maker.profile
        self._thunk = maker.thunk
        self._in = maker.inputs
        self._n_explicit = maker.n_explicit
        self._n_out = maker.n_outputs
        self._n_in = len(maker.inputs)
        self._upd_offset = maker.n_outputs + len(maker.update_containers)
        self._out_borrow = [o.borrow for o in maker.outputs]
        self._destroyed = maker.destroyed_inputs
        self._input_vars = maker.fgraph.inputs[:maker.n_explicit]
        # Positional arguments fill the inputs the caller may pass (not the implicit ones).
        self._arg_pos = [pos for pos, i in enumerate(self._in) if not i.implicit]
        self._all_positional = len(self._arg_pos) == self._n_in
        self._name_to_pos = {}
        for pos, i in enumerate(self._in):
            if i.name is not None and i.name not in self._name_to_pos:
                self._name_to_pos[i.name] = pos
        if self._defaults is None:
            # Defaults are checked once, at compile time; the caller's arrays are copied
            # (a mutable or updated input's value is the function's to overwrite).
            self._defaults = []
            for pos, (i, var) in enumerate(zip(self._in, self._input_vars)):
                value = None
                if i.value is not None:
                    value = self._filter(pos, var, i, i.value)
                    if value is i.value and isinstance(value, np.ndarray):
                        value = value.copy()
                self._defaults.append(value)
        # Fast acceptance test per input: an ndarray of exactly the right dtype,
        # ndim and static shape needs no conversion (filter() is the slow path).
        self._exact = []
        for var in self._input_vars:
            t = var.type
            dtype = getattr(t, "numpy_dtype", None)
            shape = getattr(t, "shape", None)
            if dtype is None or shape is None:
                self._exact.append(None)
            else:
                fixed = tuple((d, n) for d, n in enumerate(shape) if n is not None)
                self._exact.append((dtype, len(shape), fixed))
        self._read_direct()
        # Mode JAX: results that are read-only views of immutable JAX buffers, handed out
        # without a copy.
        self._readonly_ok = bool(getattr(self._thunk, "readonly_outputs", False))
        attach = getattr(self._thunk, "attach", None)
        if attach is not None:   # tiered (compile/tiered.py): _setup runs again on the switch
            attach(self)

    @property
    def backend(self):
        """The backend running the calls now: "numba", "python" (the fast tier of mode
        NUMBA until Numba's code is ready; compile/tiered.py), or the mode's linker."""
        return getattr(self._thunk, "backend", None) or self.maker.mode.linker_name

    def wait_compiled(self, timeout=None):
        """Block until the final backend runs the calls (mode NUMBA: the Numba tier); returns
        whether it does (False only when ``timeout`` seconds passed first)."""
        wait = getattr(self._thunk, "wait_compiled", None)
        return True if wait is None else wait(timeout)

    # -- copies and pickling -----------------------------------------------------
    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None):
        """Another function running the same compiled code (PyTensor's ``Function.copy``).

        ``share_memory=False``: the copy gets its own copies of the shared values and
        input defaults (calling one function no longer changes what the other sees);
        True: both read and update the same storage.  ``swap={old_shared: new_shared}``
        makes the copy use ``new_shared``'s storage instead of ``old_shared``'s (same
        type required).  ``delete_updates=True``: the copy writes no updates back.
        ``name``: default ``"<name> copy"``.
        """
        import copy as _copy

        new = Function.__new__(Function)
        new.maker = self.maker
        new.name = name if name is not None else (None if self.name is None else f"{self.name} copy")
        new.trust_input = self.trust_input
        new._return_list = self._return_list
        if share_memory:
            containers = {id(c): c for c in self._shared_containers}
            new._defaults = self._defaults   # the same list: In(update=...) state is shared too
        else:
            containers = {}
            for c in self._shared_containers:
                nc = _copy.copy(c)
                nc.value = _copy.deepcopy(c.value)
                containers[id(c)] = nc
            new._defaults = [_copy.deepcopy(v) for v in self._defaults]
        for old, replacement in (swap or {}).items():
            if not (is_shared(old) and is_shared(replacement)):
                raise TypeError(f"copy(swap=...): {old!r} -> {replacement!r}: both must be shared variables")
            key = id(old.tag.shared_container)
            if key not in containers:
                raise ValueError(f"copy(swap=...): {old} is not a shared variable of this function")
            if replacement.type != old.type:
                raise TypeError(f"copy(swap=...): {replacement} has type {replacement.type.short_str()}, "
                                f"but {old} is {old.type.short_str()}")
            containers[key] = replacement.tag.shared_container
        new._shared_containers = [containers[id(c)] for c in self._shared_containers]
        if delete_updates:
            new._update_containers = []
            new._in_update_pos = ()
        else:
            new._update_containers = [containers[id(c)] for c in self._update_containers]
            new._in_update_pos = self._in_update_pos
        new._setup()
        return new

    def __copy__(self):
        return self.copy()

    def __reduce__(self):
        # The maker pickles its rewritten graph (with the shared containers, so the
        # identity of shared storage is kept within one pickle) and relinks on load.
        return (_rebuild_function, (self.maker, self._return_list, self.trust_input, self.name,
                                    self._shared_containers, self._update_containers,
                                    self._in_update_pos, self._defaults))

    # -- input values ---------------------------------------------------------------
    def _position_of(self, key):
        if isinstance(key, str):
            pos = self._name_to_pos.get(key)
        else:
            pos = next((p for p, i in enumerate(self._in) if i.variable is key), None)
        if pos is None:
            raise KeyError(f"{self._label()} has no input {key!r} (inputs: {self._input_names()})")
        return pos

    def __getitem__(self, key):
        """The stored value (default) of an input, by name or variable (None: no default)."""
        return self._defaults[self._position_of(key)]

    def __setitem__(self, key, value):
        pos = self._position_of(key)
        self._defaults[pos] = self._filter(pos, self._input_vars[pos], self._in[pos], value)

    def __contains__(self, key):
        try:
            self._position_of(key)
        except KeyError:
            return False
        return True

    # -- calling --------------------------------------------------------------
    def _read_direct(self):
        """The fast path's entry and how to read its results, from the thunk (again when the
        thunk swapped its entry).  Mode JAX: a second array type for the arguments (JAX
        arrays), an entry returning its one output itself (``direct_single``), and a conversion
        of each output (``direct_convert``: to NumPy)."""
        thunk = self._thunk
        self._direct = self._direct_entry()
        self._direct_alt = getattr(thunk, "direct_array_type", _ndarray)
        self._direct_single = bool(getattr(thunk, "direct_single", False))
        self._direct_convert = getattr(thunk, "direct_convert", None)

    def _direct_entry(self):
        """The linker's direct entry (Numba: the compiled dispatcher) when a call can skip
        this wrapper's work: no profile, no shared variables or updates, and argument
        checks that the entry's own exact-type match makes redundant."""
        direct = getattr(self._thunk, "direct", None)
        if direct is None or self.profile is not None or self._shared_containers or self._update_containers \
                or self._destroyed or self._in_update_pos or not self._all_positional \
                or any(i.strict for i in self._in):
            return None
        if not self.trust_input and not getattr(direct, "checks_inputs", False) \
                and any(e is None or e[2] for e in self._exact):
            return None   # inputs with static shapes or non-tensor types need the checks
        return direct

    @property
    def fn(self):
        return self._thunk

    def _label(self):
        return f"function {self.name!r}" if self.name else "function"

    def _input_names(self):
        return ", ".join(_describe(i.variable, p).split(" ", 2)[-1] if i.name is None else i.name
                         for p, i in enumerate(self._in) if not i.implicit) or "no inputs"

    def _filter(self, pos, var, inp, value):
        if isinstance(value, np.ma.MaskedArray):
            # np.asarray would drop the mask silently and compute on the hidden values.
            raise TypeError(f"{self._label()}: bad argument for {_describe(inp.variable, pos)}: masked arrays "
                            "are not supported (the mask would be ignored); pass value.filled(...) or "
                            "np.asarray(value)")
        try:
            return var.type.filter(value, strict=inp.strict, allow_downcast=inp.allow_downcast)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{self._label()}: bad argument for {_describe(inp.variable, pos)}: {exc}") from None

    def _gather(self, args, kwargs):
        n = len(self._arg_pos)
        if len(args) > n:
            raise TypeError(f"{self._label()} takes {n} input{'s' if n != 1 else ''} "
                            f"({self._input_names()}) but {len(args)} were given")
        values = [_MISSING] * len(self._in)
        for pos, value in zip(self._arg_pos, args):
            values[pos] = value
        for key, value in kwargs.items():
            pos = self._name_to_pos.get(key)
            if pos is None:
                raise TypeError(f"{self._label()} got an unexpected keyword argument {key!r}; "
                                f"inputs are: {self._input_names()}")
            if self._in[pos].implicit:
                raise TypeError(f"{self._label()}: input {key!r} is implicit (In(..., implicit=True)); "
                                "its value cannot be passed")
            if values[pos] is not _MISSING:
                raise TypeError(f"{self._label()} got input {key!r} both by position and by name")
            values[pos] = value
        for pos, value in enumerate(values):
            if value is _MISSING:
                if self._defaults[pos] is None:
                    missing = [_describe(self._in[p].variable, p) for p, v in enumerate(values)
                               if v is _MISSING and self._defaults[p] is None]
                    raise TypeError(f"{self._label()} is missing {', '.join(missing)} "
                                    f"(inputs: {self._input_names()})")
                values[pos] = self._defaults[pos]
            elif not self.trust_input:
                exact = self._exact[pos]
                if exact is not None and type(value) is np.ndarray and value.dtype == exact[0] \
                        and value.ndim == exact[1] and all(value.shape[d] == n for d, n in exact[2]):
                    continue
                values[pos] = self._filter(pos, self._input_vars[pos], self._in[pos], value)
        return values

    def _check_exact(self, args):
        """The common case, fast: every argument already has the exact type."""
        values = list(args)
        for pos, value in enumerate(values):
            exact = self._exact[pos]
            if exact is not None and type(value) is np.ndarray and value.dtype == exact[0] \
                    and value.ndim == exact[1] and (not exact[2] or all(value.shape[d] == n for d, n in exact[2])):
                continue
            values[pos] = self._filter(pos, self._input_vars[pos], self._in[pos], value)
        return values

    def __call__(self, *args, **kwargs):
        # IPython hides frames with this local: a failing call shows the user's line
        # and the message (see runtime_errors.without_internal_frames for the rest).
        __tracebackhide__ = True
        direct = self._direct
        if direct is not None and not kwargs:
            # Fast path: the entry raises (TypeError) unless the arguments have exactly
            # the compiled types; then the checked path below converts them.  When the
            # graph itself failed, the thunk explains it (one node-by-node re-run)
            # without running the whole graph again.  Numba's dispatcher takes any
            # ndarray subclass for an array (a masked array would lose its mask), so
            # only plain ndarrays go this way.
            for a in args:
                if type(a) is not _ndarray and type(a) is not self._direct_alt:
                    break
            else:
                try:
                    outs = direct(*args)
                except Exception as exc:
                    err = self._fast_path_failure(args, exc)
                    if err is not None:
                        raise err
                else:
                    convert = self._direct_convert
                    if self._direct_single:
                        if convert is not None:
                            outs = convert(outs)
                        return [outs] if self._return_list else outs
                    if convert is not None:
                        outs = [convert(o) for o in outs]
                    return list(outs) if self._return_list else outs[0]
        profile = self.profile
        if profile is not None:
            t0 = time.perf_counter()
        if kwargs or len(args) != self._n_in or not self._all_positional:
            values = self._gather(args, kwargs)
        elif self.trust_input:
            values = list(args)
        else:
            values = self._check_exact(args)
        containers = self._shared_containers
        if containers:
            shared_values = [c.value for c in containers]
            all_values = values + shared_values
        else:
            shared_values = ()
            all_values = values
        if self._destroyed:
            self._unalias(all_values)
        try:
            if profile is not None:
                t_vm = time.perf_counter()
                outs = self._thunk(all_values)
                profile.add_thunk_time(time.perf_counter() - t_vm)
            else:
                outs = self._thunk(all_values)
        except Exception as exc:
            if self.trust_input:
                self._explain_untrusted(values)   # raises when an argument has the wrong type
            raise without_internal_frames(exc)

        # Never hand out an array the caller or the function still owns: copy
        # values that are inputs, views, read-only (constants) or returned twice.
        owned = {id(v) for v in all_values}
        results = []
        readonly_ok = self._readonly_ok
        for i in range(self._n_out):
            v = outs[i]
            if type(v) is np.ndarray and not self._out_borrow[i] and not (readonly_ok and not v.flags.writeable) \
                    and (v.base is not None or id(v) in owned or not v.flags.writeable):
                v = v.copy()
            owned.add(id(v))
            results.append(v)
        if self._update_containers:
            for k, container in enumerate(self._update_containers):
                v = outs[self._n_out + k]
                if type(v) is np.ndarray and (v.base is not None or id(v) in owned or not v.flags.writeable):
                    v = v.copy()
                owned.add(id(v))
                container.value = v
        if self._in_update_pos:
            defaults = self._defaults
            for k, pos in enumerate(self._in_update_pos):
                v = outs[self._upd_offset + k]
                if type(v) is np.ndarray and (v.base is not None or id(v) in owned or not v.flags.writeable):
                    v = v.copy()
                owned.add(id(v))
                defaults[pos] = v
        if profile is not None:
            profile.add_call(time.perf_counter() - t0)
        if self._return_list:
            return results
        return results[0]

    def _fast_path_failure(self, args, exc):
        """The error to raise after the direct entry failed with ``exc``, or None when
        the arguments were not the compiled types (the checked path converts them)."""
        __tracebackhide__ = True
        explain = getattr(self._thunk, "explain_failure", None)
        if explain is None:
            return None
        try:
            failed = explain(args, exc)   # raises the node's error when it finds the node
        except Exception as err:
            return without_internal_frames(err)
        if failed:
            return without_internal_frames(exc)
        self._read_direct()   # the thunk may have swapped its entry (mode JAX: one checking types first)
        return None

    def _explain_untrusted(self, values):
        """With ``trust_input=True`` nothing is checked before the call; when the call
        fails, name the argument whose type is wrong (one line, instead of the
        backend's typing error).  A NumPy scalar given for a 0-d input is named only
        when nothing else is wrong (the Python VM accepts it, Numba does not)."""
        soft = None
        for pos, (value, var, inp) in enumerate(zip(values, self._input_vars, self._in)):
            exact = self._exact[pos]
            if exact is not None:
                dtype, ndim, fixed = exact
                if type(value) is np.ndarray and value.dtype == dtype and value.ndim == ndim \
                        and all(value.shape[d] == n for d, n in fixed):
                    continue
                if isinstance(value, np.generic) and value.dtype == dtype and ndim == 0:
                    if soft is None:
                        soft = (pos, var, inp, f"the NumPy scalar {value.dtype}({value!r}) (pass a 0-d array)")
                    continue
            else:
                try:
                    var.type.filter(value, strict=True)
                    continue
                except (TypeError, ValueError):
                    pass
            if isinstance(value, np.ndarray):
                got = f"{type(value).__name__} {value.dtype} shape {value.shape}"
            else:
                got = type(value).__name__
            self._raise_untrusted(pos, var, inp, got)
        if soft is not None:
            self._raise_untrusted(*soft)

    def _raise_untrusted(self, pos, var, inp, got):
        raise TypeError(f"{self._label()} (trust_input=True): {_describe(inp.variable, pos)} expects "
                        f"{var.type.short_str()}, got {got}; pass exactly that type, or compile "
                        "with trust_input=False to have arguments converted") from None

    def _unalias(self, values):
        """Copy each argument the graph overwrites that shares memory with another
        argument (``f(v, v)`` with both inputs mutable, or a mutable input given a
        shared variable's own array): in place, in ``values``."""
        for i in self._destroyed:
            v = values[i]
            if not isinstance(v, np.ndarray):
                continue
            for j, other in enumerate(values):
                if j != i and isinstance(other, np.ndarray) and np.may_share_memory(v, other):
                    values[i] = v.copy()
                    break

    # -- inspection -----------------------------------------------------------
    def get_shared(self):
        """The shared variables this function reads or updates (their clones in the compiled graph;
        for a copy with its own storage, variables bound to that storage)."""
        result = []
        for var, container in zip(self.maker.fgraph.inputs[self._n_explicit:], self._shared_containers):
            if var.tag.shared_container is not container:
                var = var.clone()
                var.tag.shared_container = container
            result.append(var)
        return result

    def dprint_lines(self, print_type=False, print_destroy_map=False, print_view_map=False, depth=-1,
                     id_type="CHAR", **_):
        from opgraph.kernel_core.printing.dprint import dprint_lines

        # dprint_lines reads the outputs, inputs and execution order from the Function itself.
        return dprint_lines(self, print_type=print_type, print_destroy_map=print_destroy_map,
                            print_view_map=print_view_map, depth=depth, id_type=id_type)

    def dprint(self, file=None, print_type=False, print_destroy_map=False, print_view_map=False, depth=-1,
               id_type="CHAR", **kwargs):
        """Print the compiled graph with each node's position in the execution order."""
        from opgraph.kernel_core.printing.dprint import dprint

        # dprint reads the outputs, inputs (print_fgraph_inputs) and execution order from the Function.
        note = getattr(self._thunk, "pending_note", None)
        note = note() if note is not None else None
        if note is None or file not in (None, "str") and not hasattr(file, "write"):
            return dprint(self, file=file, print_type=print_type, print_destroy_map=print_destroy_map,
                          print_view_map=print_view_map, depth=depth, id_type=id_type, **kwargs)
        # Mode NUMBA's fast tier runs while Numba compiles (compile/tiered.py): say so.
        text = dprint(self, file="str", print_type=print_type, print_destroy_map=print_destroy_map,
                      print_view_map=print_view_map, depth=depth, id_type=id_type, **kwargs) + note + "\n"
        if file == "str":
            return text
        if file is None:
            import sys

            sys.stdout.write(text)
            return None
        file.write(text)
        return file

    def __repr__(self):
        ins = ", ".join(str(i.variable) for i in self._in)
        label = f" {self.name!r}" if self.name else ""
        return f"<opgraph.Function{label} ({ins}) mode={self.maker.mode}>"


_ndarray = np.ndarray


def _rebuild_function(maker, return_list, trust_input, name, shared_containers, update_containers,
                      in_update_pos, defaults):
    f = Function.__new__(Function)
    f.maker = maker
    f.name = name
    f.trust_input = trust_input
    f._return_list = return_list
    f._shared_containers = list(shared_containers)
    f._update_containers = list(update_containers)
    f._in_update_pos = tuple(in_update_pos)
    f._defaults = list(defaults)
    f._setup()
    return f


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()
