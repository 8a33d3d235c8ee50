"""FunctionGraph: a graph with fixed inputs/outputs, a clients map and features.

Rewrites work on a FunctionGraph: ``replace`` swaps a variable for another
everywhere it is used, keeping the clients map consistent and notifying the
attached features (history, validation, destroy handling) of every change.
Nodes that nothing uses any more are pruned.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable, as_variable_list
from opgraph.kernel_core.graph.traversal import clone_get_equiv, graph_inputs, io_toposort


class InconsistencyError(Exception):
    """A feature refused a change (e.g. it would destroy a protected input)."""


class Feature:
    """Base class of FunctionGraph listeners; every hook is optional."""

    def on_attach(self, fgraph):
        pass

    def on_detach(self, fgraph):
        pass

    def on_import(self, fgraph, node, reason):
        pass

    def on_prune(self, fgraph, node, reason):
        pass

    def on_change_input(self, fgraph, node, i, old, new, reason):
        pass

    def validate(self, fgraph):
        pass


class Clients(dict):
    """The users of one variable: an insertion-ordered set of ``(node, i)`` pairs.

    ``node`` is an Apply (``node.inputs[i]`` is the variable) or ``"output"``
    (``fgraph.outputs[i]`` is the variable).  A dict keyed by the pair makes
    removal O(1): a constant used by thousands of nodes would otherwise make
    every rewrite pay a list scan.  It reads like the list PyTensor exposes:
    iterating yields the pairs in insertion order, ``len`` counts them,
    ``clients[k]`` with an int ``k`` indexes them and ``== [...]`` compares
    with a list.
    """

    __slots__ = ()

    def append(self, pair):
        self[pair] = None

    def remove(self, pair):
        del self[pair]

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return list(self)[key]
        return dict.__getitem__(self, key)

    def __eq__(self, other):
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return dict.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return repr(list(self))


def _type_mismatch(old, new):
    return (f"Cannot convert Type {new.type.short_str()} (of Variable {new}) into Type "
            f"{old.type.short_str()}. You can try to manually convert {new} into a {old.type.short_str()}.")


class FunctionGraph:
    """Inputs, outputs and every Apply between them, with clients."""

    def __init__(self, inputs=None, outputs=None, features=(), clone=True, name=None, memo=None,
                 copy_inputs=True, update_mapping=None):
        """``clone=True`` works on a copy of the graph; ``memo`` (a dict) then receives
        the original -> copy map (entries already in it are used as given)."""
        outputs = as_variable_list(outputs)
        if inputs is None:
            inputs = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
        inputs = list(inputs)
        for v in inputs + outputs:
            if not isinstance(v, Variable):
                raise TypeError(f"FunctionGraph expects Variables, got {type(v).__name__}")
        if clone:
            memo = clone_get_equiv(inputs, outputs, copy_inputs=copy_inputs, copy_orphans=False,
                                   memo={} if memo is None else memo)
            inputs = [memo[i] for i in inputs]
            outputs = [memo[o] for o in outputs]
            self.equiv = memo
        else:
            self.equiv = None
        for i in inputs:
            if i.owner is not None:
                raise ValueError(f"FunctionGraph input {i} is computed by {i.owner.op}; inputs must be roots")
        self.name = name
        self.update_mapping = dict(update_mapping or {})
        self.inputs = []
        self.outputs = list(outputs)
        self.clients = {}
        self.apply_nodes = set()
        self.variables = set()
        self._features = []
        for i in inputs:
            self.add_input(i)
        for o in self.outputs:
            self._import_var(o, reason="init")
        for idx, o in enumerate(self.outputs):
            self.clients[o][("output", idx)] = None
        for f in features:
            self.attach_feature(f)

    # -- structure --------------------------------------------------------
    def add_input(self, var):
        if var in self.clients and var in self.inputs:
            return
        self.inputs.append(var)
        if var not in self.clients:
            self.clients[var] = Clients()
        self.variables.add(var)

    def _import_var(self, var, reason):
        if var in self.variables:
            return
        if var.owner is None:
            if not isinstance(var, Constant) and var not in self.inputs:
                raise ValueError(
                    f"Variable {var} is a root of the graph but not one of its inputs; "
                    "add it to the inputs (or replace it by a constant)")
            if var not in self.clients:
                self.clients[var] = Clients()
            self.variables.add(var)
            return
        self._import_node(var.owner, reason)

    def _import_node(self, node, reason):
        # Import every not-yet-known node feeding `node`, in dependency order.
        # The walk stops at variables already in the graph, so its cost is the
        # size of the new part only (rewrites import small subgraphs often).
        new_nodes, done, stack = [], set(), [(node, False)]
        while stack:
            n, expanded = stack.pop()
            if n in done or n in self.apply_nodes:
                continue
            if expanded:
                done.add(n)
                new_nodes.append(n)
                continue
            stack.append((n, True))
            for inp in reversed(n.inputs):
                if inp.owner is not None and inp not in self.variables and inp.owner not in done:
                    stack.append((inp.owner, False))
        for n in new_nodes:
            if n in self.apply_nodes:
                continue
            for inp in n.inputs:
                if inp not in self.variables:
                    if inp.owner is None:
                        self._import_var(inp, reason)
            self.apply_nodes.add(n)
            clients = self.clients
            for out in n.outputs:
                self.variables.add(out)
                if out not in clients:
                    clients[out] = Clients()
            for i, inp in enumerate(n.inputs):
                cl = clients.get(inp)
                if cl is None:
                    cl = clients[inp] = Clients()
                cl[(n, i)] = None
            for f in self._features:
                f.on_import(self, n, reason)

    def import_node(self, node, reason=None):
        self._import_node(node, reason)

    def _prune_if_unused(self, var, reason):
        # Iteratively remove nodes whose outputs lost all their clients.
        stack = [var]
        while stack:
            v = stack.pop()
            if self.clients.get(v) or v.owner is None:
                continue
            node = v.owner
            if node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            for f in self._features:
                f.on_prune(self, node, reason)
            for i, inp in enumerate(node.inputs):
                cl = self.clients.get(inp)
                if cl is not None:
                    cl.pop((node, i), None)
                    if not cl and inp.owner is not None:
                        stack.append(inp)
                    elif not cl and isinstance(inp, Constant):
                        self.variables.discard(inp)
                        self.clients.pop(inp, None)

    def change_node_input(self, node, i, new_var, reason=None, import_missing=False, check=True):
        """Make input ``i`` of ``node`` (or output ``i`` when node == "output") be ``new_var``."""
        if node == "output":
            old = self.outputs[i]
        else:
            old = node.inputs[i]
        if old is new_var:
            return
        if check and old.type != new_var.type:
            converted = old.type.convert_variable(new_var) if hasattr(old.type, "convert_variable") else None
            if converted is None:
                raise TypeError(_type_mismatch(old, new_var))
            new_var = converted
        self._import_var(new_var, reason)
        if node == "output":
            self.outputs[i] = new_var
        else:
            node.inputs[i] = new_var
        del self.clients[old][(node, i)]
        cl = self.clients.get(new_var)
        if cl is None:
            cl = self.clients[new_var] = Clients()
        cl[(node, i)] = None
        for f in self._features:
            f.on_change_input(self, node, i, old, new_var, reason)
        self._prune_if_unused(old, reason)

    def replace(self, var, new_var, reason=None, verbose=False, import_missing=False):
        """Replace every use of ``var`` by ``new_var``."""
        if var not in self.variables:
            return
        if var.type != new_var.type:
            converted = var.type.convert_variable(new_var) if hasattr(var.type, "convert_variable") else None
            if converted is None:
                raise TypeError(_type_mismatch(var, new_var))
            new_var = converted
        for node, i in list(self.clients.get(var, [])):
            if var not in self.variables:
                break
            self.change_node_input(node, i, new_var, reason=reason, check=False)

    def replace_all(self, pairs, reason=None):
        for var, new_var in pairs:
            self.replace(var, new_var, reason=reason)

    def replace_validate(self, var, new_var, reason=None):
        self.replace(var, new_var, reason=reason)
        self.validate()

    # -- features ---------------------------------------------------------
    def attach_feature(self, feature):
        if feature in self._features:
            return
        self._features.append(feature)
        feature.on_attach(self)

    def remove_feature(self, feature):
        if feature in self._features:
            self._features.remove(feature)
            feature.on_detach(self)

    @property
    def features(self):
        return list(self._features)

    def get_feature(self, cls):
        for f in self._features:
            if isinstance(f, cls):
                return f
        return None

    def validate(self):
        for f in self._features:
            f.validate(self)

    # -- queries ----------------------------------------------------------
    def toposort(self):
        return io_toposort(self.inputs, self.outputs)

    def get_clients(self, var):
        """The ``(node, i)`` users of ``var`` (a Clients, empty when ``var`` is unknown)."""
        return self.clients.get(var) or Clients()

    def clone(self, check_integrity=True):
        return self.clone_get_equiv()[0]

    def clone_get_equiv(self):
        memo = clone_get_equiv(self.inputs, self.outputs, copy_inputs=True, copy_orphans=False)
        fg = FunctionGraph([memo[i] for i in self.inputs], [memo[o] for o in self.outputs], clone=False,
                           name=self.name)
        return fg, memo

    def check_integrity(self):
        nodes = set(self.toposort())
        if nodes != self.apply_nodes:
            raise AssertionError("apply_nodes out of sync with the graph")
        for node in nodes:
            for i, inp in enumerate(node.inputs):
                if (node, i) not in self.clients.get(inp, ()):
                    raise AssertionError(f"missing client ({node}, {i}) of {inp}")

    def __str__(self):
        return f"FunctionGraph({', '.join(str(o) for o in self.outputs)})"

    __repr__ = __str__

    def dprint(self, **kwargs):
        from opgraph.kernel_core.printing.dprint import dprint

        return dprint(self, **kwargs)  # a FunctionGraph: print_fgraph_inputs can list its inputs

    def __contains__(self, item):
        if isinstance(item, Apply):
            return item in self.apply_nodes
        return item in self.variables


__all__ = ["FunctionGraph", "Feature", "InconsistencyError", "Clients"]
