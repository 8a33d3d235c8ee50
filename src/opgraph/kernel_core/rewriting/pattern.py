"""A small pattern language: algebraic rules written as data.

    from opgraph.kernel_core.rewriting.pattern import P, pattern_rule
    x = P.var("x")
    pattern_rule(P.log(1 + x), P.log1p(x), name="log1p")

``P.<elementwise name>(...)`` (``P.log``, ``P.exp``, ``P.sigmoid``, ...) and the
arithmetic operators build patterns; Python numbers match constants of that
value, also when broadcast (``ExpandDims``/``Second`` of a constant);
``P.var(name)`` captures any variable (a name used twice must match the same
variable); ``P.op(OpClass, ...)`` matches other ops.  Add and Mul match their
inputs in any order, and a pattern variable in last position takes "all the
other terms": ``log(1 + x)`` rewrites ``log(1 + a + b)`` to ``log1p(a + b)``.

The right-hand side is a pattern built with the same vocabulary (instantiated
with the real tensor functions, so broadcasting and dtypes work out) or a
function of the captured variables.  ``when=`` is an optional condition on the
captured variables.  A replacement whose type cannot stand for the original
(it would lose broadcasting or change the dtype) is skipped.
"""

from __future__ import annotations

import itertools
import numbers

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.rewriting.db import NodeRewriter, register_rewrite


_ELEMWISE = None


def _elemwise_cls():
    global _ELEMWISE
    if _ELEMWISE is None:
        from opgraph.kernel_core.tensor.elemwise import Elemwise

        _ELEMWISE = Elemwise
    return _ELEMWISE


def scalar_constant_value(var):
    """The single value a (possibly broadcast) constant holds, else None."""
    from opgraph.kernel_core.tensor.basic import get_underlying_scalar_constant

    if not isinstance(var, Variable):
        return None
    if var.owner is None and not isinstance(var, Constant):
        return None
    return get_underlying_scalar_constant(var)


class Pattern:
    """Base class; subclasses implement ``match(var, bindings)`` (a generator)."""

    def match(self, var, bindings):
        raise NotImplementedError

    def build(self, bindings):
        raise NotImplementedError

    # Arithmetic builds patterns, so tables read like identities.
    def __add__(self, other):
        return OpPattern("add", self, other)

    def __radd__(self, other):
        return OpPattern("add", other, self)

    def __sub__(self, other):
        return OpPattern("sub", self, other)

    def __rsub__(self, other):
        return OpPattern("sub", other, self)

    def __mul__(self, other):
        return OpPattern("mul", self, other)

    def __rmul__(self, other):
        return OpPattern("mul", other, self)

    def __truediv__(self, other):
        return OpPattern("true_div", self, other)

    def __rtruediv__(self, other):
        return OpPattern("true_div", other, self)

    def __pow__(self, other):
        return OpPattern("pow", self, other)

    def __rpow__(self, other):
        return OpPattern("pow", other, self)

    def __neg__(self):
        return OpPattern("neg", self)


def as_pattern(x):
    if isinstance(x, Pattern):
        return x
    if isinstance(x, numbers.Number):
        return ConstPattern(x)
    raise TypeError(f"cannot use {x!r} in a pattern (expected a pattern or a number)")


class VarPattern(Pattern):
    """Captures any variable (optionally only those satisfying ``when(var)``)."""

    def __init__(self, name, when=None):
        self.name = name
        self.when = when

    def match(self, var, bindings):
        if self.name in bindings:
            if bindings[self.name] is var:
                yield bindings
            return
        if self.when is not None and not self.when(var):
            return
        b = dict(bindings)
        b[self.name] = var
        yield b

    def build(self, bindings):
        return bindings[self.name]

    def __str__(self):
        return self.name


class ConstPattern(Pattern):
    """Matches a constant of value ``value`` (any shape filled with it); or captures
    any constant scalar value under ``name`` when ``value`` is None."""

    def __init__(self, value=None, name=None):
        self.value = value
        self.name = name

    def match(self, var, bindings):
        v = scalar_constant_value(var)
        if v is None:
            return
        if self.value is not None and not v == self.value:
            return
        if self.name is None:
            yield bindings
            return
        if self.name in bindings:
            if bindings[self.name] is var:
                yield bindings
            return
        b = dict(bindings)
        b[self.name] = var
        yield b

    def build(self, bindings):
        if self.name is not None and self.name in bindings:
            return bindings[self.name]
        return self.value

    def __str__(self):
        return repr(self.value) if self.value is not None else f"<const {self.name}>"


_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "pow": "**"}


class OpPattern(Pattern):
    """``op`` applied to sub-patterns.

    ``op`` is the name of an elementwise function (``"log"``), an Elemwise /
    Op instance, or an Op class (matching any instance; then ``build`` needs
    ``builder``).  ``when(node)`` optionally restricts the matched node.
    """

    def __init__(self, op, *args, when=None, builder=None, name=None):
        self.op_name = None
        if isinstance(op, str):
            from opgraph.kernel_core.tensor import math as tm

            elem = getattr(tm, op, None)
            if not isinstance(elem, _elemwise_cls()):
                raise ValueError(f"pattern: {op!r} is not an elementwise function of opgraph.tensor")
            self.op_name = op
            op = elem
        self.op = op
        self.args = [as_pattern(a) for a in args]
        self.when = when
        self.builder = builder
        self.display = name
        Elemwise = _elemwise_cls()
        self._is_elemwise = isinstance(op, Elemwise)
        scalar = op.scalar_op if self._is_elemwise else None
        self._scalar_cls = type(scalar)
        self._scalar_has_props = bool(getattr(scalar, "__props__", ()))
        self._commutative_flag = self._is_elemwise and getattr(scalar, "commutative", False)
        self._variadic_flag = self._is_elemwise and getattr(scalar, "variadic", False)

    # -- matching ---------------------------------------------------------
    def _op_matches(self, node_op):
        if self._is_elemwise:
            scalar = getattr(node_op, "scalar_op", None)
            if type(scalar) is not self._scalar_cls or not isinstance(node_op, _ELEMWISE) or node_op.inplace_pattern:
                return False
            return not self._scalar_has_props or scalar == self.op.scalar_op
        if isinstance(self.op, type):
            return isinstance(node_op, self.op)
        return node_op == self.op

    @property
    def track(self):
        return self.op

    def _commutative(self):
        return self._commutative_flag

    def _variadic(self):
        return self._variadic_flag

    def match(self, var, bindings):
        node = var.owner
        if node is None or not self._op_matches(node.op):
            return
        if self.when is not None and not self.when(node):
            return
        if not self.args:
            yield bindings
            return
        inputs = node.inputs
        if self._commutative():
            yield from self._match_unordered(node, inputs, bindings)
        elif len(inputs) == len(self.args):
            yield from _match_seq(self.args, inputs, bindings)

    def _match_unordered(self, node, inputs, bindings):
        k, n = len(self.args), len(inputs)
        if n == k:
            for perm in itertools.permutations(range(n)):
                yield from _match_seq(self.args, [inputs[i] for i in perm], bindings)
            return
        last = self.args[-1]
        if n > k and self._variadic() and isinstance(last, VarPattern):
            # The first k-1 sub-patterns take distinct inputs; the last variable
            # takes the remaining terms combined with the same op.
            for chosen in itertools.permutations(range(n), k - 1):
                rest = [inputs[i] for i in range(n) if i not in chosen]
                for b in _match_seq(self.args[:-1], [inputs[i] for i in chosen], bindings):
                    if last.name in b:  # already captured: compare without building a node
                        if _same_terms(b[last.name], rest, node.op):
                            yield b
                        continue
                    combined = rest[0] if len(rest) == 1 else node.op(*rest)
                    yield from last.match(combined, b)

    # -- building ---------------------------------------------------------
    def build(self, bindings):
        args = [a.build(bindings) for a in self.args]
        if self.builder is not None:
            return self.builder(*args)
        if isinstance(self.op, type):
            raise TypeError(f"pattern {self}: give builder= to build an {self.op.__name__}")
        return self.op(*args)

    def __str__(self):
        name = self.display or self.op_name or str(self.op)
        if self.op_name in _INFIX and len(self.args) == 2:
            return f"({self.args[0]} {_INFIX[self.op_name]} {self.args[1]})"
        if self.op_name == "neg":
            return f"-{self.args[0]}"
        return f"{name}({', '.join(str(a) for a in self.args)})"


def _same_terms(var, terms, op):
    """Whether ``var`` equals op(*terms) up to the order of the terms."""
    if len(terms) == 1:
        return var is terms[0]
    owner = var.owner
    return (owner is not None and owner.op == op and len(owner.inputs) == len(terms)
            and sorted(map(id, owner.inputs)) == sorted(map(id, terms)))


def _match_seq(patterns, variables, bindings):
    if not patterns:
        yield bindings
        return
    for b in patterns[0].match(variables[0], bindings):
        yield from _match_seq(patterns[1:], variables[1:], b)


class _PatternNamespace:
    """``P.log(x)``, ``P.var("x")``, ``P.const(1)``, ``P.op(Cls, x)``."""

    @staticmethod
    def var(name, when=None):
        return VarPattern(name, when)

    @staticmethod
    def const(value=None, name=None):
        return ConstPattern(value, name)

    @staticmethod
    def op(op, *args, when=None, builder=None, name=None):
        return OpPattern(op, *args, when=when, builder=builder, name=name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def make(*args, when=None):
            return OpPattern(name, *args, when=when)

        make.__name__ = name
        return make


P = _PatternNamespace()


class PatternRule(NodeRewriter):
    """A NodeRewriter from ``lhs -> rhs`` (rhs: a pattern or a function of the captures)."""

    def __init__(self, lhs, rhs, name=None, when=None):
        if not isinstance(lhs, OpPattern):
            raise TypeError("the left side of a rule must be an operation pattern, e.g. P.log(1 + x)")
        self.lhs = lhs
        self.rhs = rhs
        self.when = when
        super().__init__(self._transform, tracks=[lhs.track], name=name or str(self))

    def _transform(self, fgraph, node):
        from opgraph.kernel_core.rewriting.driver import compatible_replacement

        if len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        for b in self.lhs.match(out, {}):
            if self.when is not None and not self.when(**b):
                continue
            if isinstance(self.rhs, Pattern):
                new = self.rhs.build(b)
            else:
                new = self.rhs(**b)
            if new is None:
                continue
            if not isinstance(new, Variable):
                from opgraph.kernel_core.tensor.basic import as_tensor_variable

                new = as_tensor_variable(new)
            if new.type.dtype != out.type.dtype and _safe_cast(new.type.dtype, out.type.dtype):
                from opgraph.kernel_core.tensor.math import cast

                new = cast(new, out.type.dtype)
            if new is out or compatible_replacement(out, new) is None:
                continue
            return [new]
        return None

    def __str__(self):
        rhs = str(self.rhs) if isinstance(self.rhs, Pattern) else getattr(self.rhs, "__name__", "<fn>")
        return f"{self.lhs} -> {rhs}"


def _safe_cast(src, dst):
    import numpy as np

    try:
        return np.can_cast(src, dst, "safe")
    except TypeError:
        return False


def from_tuple(pattern, where="pattern"):
    """PyTensor's tuple pattern syntax as an opgraph pattern.

    ``(op, sub, ...)`` applies ``op`` (an Elemwise function like ``pt.abs``,
    an Op instance or an Op class); a string is a pattern variable; a number
    (or a scalar Constant) matches a constant of that value;
    ``{"pattern": p, "constraint": fn}`` adds a condition ``fn(variable)``.
    """
    if isinstance(pattern, Pattern):
        return pattern
    if isinstance(pattern, str):
        return VarPattern(pattern)
    if isinstance(pattern, numbers.Number) and not isinstance(pattern, bool):
        return ConstPattern(pattern)
    if isinstance(pattern, Constant):
        value = scalar_constant_value(pattern)
        if value is None:
            raise TypeError(f"{where}: only scalar constants can appear in a pattern, got {pattern!r}")
        return ConstPattern(value)
    if isinstance(pattern, dict):
        if "pattern" not in pattern:
            raise TypeError(f"{where}: a dict pattern needs a 'pattern' key, got keys {sorted(pattern)}")
        extra = set(pattern) - {"pattern", "constraint"}
        if extra:
            raise TypeError(f"{where}: unknown dict pattern key(s) {sorted(extra)}; use 'pattern' and 'constraint'")
        inner = from_tuple(pattern["pattern"], where)
        constraint = pattern.get("constraint")
        if constraint is None:
            return inner
        if isinstance(inner, VarPattern):
            return VarPattern(inner.name, when=constraint)
        if isinstance(inner, OpPattern):
            previous = inner.when
            inner.when = (lambda node: constraint(node.outputs[0])) if previous is None else \
                (lambda node: previous(node) and constraint(node.outputs[0]))
            return inner
        raise TypeError(f"{where}: a constraint applies to a variable or an operation pattern")
    if isinstance(pattern, tuple) and pattern:
        op, *args = pattern
        from opgraph.kernel_core.graph.op import Op

        if not (isinstance(op, Op) or (isinstance(op, type) and issubclass(op, Op))):
            raise TypeError(f"{where}: the first item of {pattern!r:.60} must be an Op (e.g. pt.log), got {op!r}")
        return OpPattern(op, *[from_tuple(a, where) for a in args])
    raise TypeError(f"{where}: cannot read {pattern!r:.60} as a pattern (expected a tuple (op, ...), "
                    "a variable name, a number or a {'pattern': ..., 'constraint': ...} dict)")


class PatternNodeRewriter(PatternRule):
    _given_name = None

    """PyTensor's ``PatternNodeRewriter(in_pattern, out_pattern)`` on tuple patterns.

    ``PatternNodeRewriter((pt.abs, (pt.sqr, "x")), (pt.sqr, "x"))``.  Add and
    Mul match their inputs in any order.  Unless ``allow_multiple_clients``,
    the inner nodes of a match must have no other client (as in PyTensor:
    the rewrite would otherwise keep them alive and compute both forms).
    """

    _fgraph = None

    def __init__(self, in_pattern, out_pattern, allow_multiple_clients=False, name=None, tracks=(),
                 get_nodes=None, values_eq_approx=None):
        for arg, value in (("get_nodes", get_nodes), ("values_eq_approx", values_eq_approx)):
            if value is not None:
                raise NotImplementedError(f"PatternNodeRewriter({arg}=...) is not implemented in opgraph")
        lhs = from_tuple(in_pattern, "PatternNodeRewriter in_pattern")
        if not isinstance(lhs, OpPattern):
            raise TypeError("PatternNodeRewriter: in_pattern must be an operation, e.g. (pt.log, (pt.add, 1, 'x'))")
        if not allow_multiple_clients:
            self._require_single_clients(lhs)
        rhs = out_pattern if callable(out_pattern) and not isinstance(out_pattern, (Pattern, tuple)) \
            else from_tuple(out_pattern, "PatternNodeRewriter out_pattern")
        self.in_pattern, self.out_pattern = in_pattern, out_pattern
        self.allow_multiple_clients = allow_multiple_clients
        self._given_name = name
        super().__init__(lhs, rhs, name=name)
        if tracks:
            self._tracks = list(tracks)

    def __str__(self):
        return self._given_name or super().__str__()

    def _require_single_clients(self, lhs):
        stack = [a for a in lhs.args if isinstance(a, OpPattern)]
        while stack:
            pat = stack.pop()
            stack.extend(a for a in pat.args if isinstance(a, OpPattern))
            previous = pat.when
            pat.when = (self._single_client if previous is None
                        else (lambda node, previous=previous: previous(node) and self._single_client(node)))

    def _single_client(self, node):
        fgraph = self._fgraph
        return fgraph is None or all(len(fgraph.clients.get(o, ())) <= 1 for o in node.outputs)

    def transform(self, fgraph, node):
        self._fgraph = fgraph
        try:
            return super().transform(fgraph, node)
        finally:
            self._fgraph = None


def pattern_rule(lhs, rhs, name=None, when=None):
    return PatternRule(lhs, rhs, name=name, when=when)


def register_table(table, *tags):
    """Register rows ``(name, lhs, rhs)`` or ``(name, lhs, rhs, when)`` under ``tags``."""
    rules = []
    for row in table:
        name, lhs, rhs, *rest = row
        rule = PatternRule(lhs, rhs, name=name, when=rest[0] if rest else None)
        register_rewrite(rule, *tags)
        rules.append(rule)
    return rules


__all__ = ["P", "Pattern", "VarPattern", "ConstPattern", "OpPattern", "PatternRule", "PatternNodeRewriter",
           "from_tuple", "pattern_rule",
           "register_table", "scalar_constant_value"]
