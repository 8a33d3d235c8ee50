"""Inlining a generated function's body into the graph function, as source."""

from __future__ import annotations

import ast
import collections
import itertools

# Calls nested deeper than this stay calls (a guard against a kernel calling itself).
_MAX_NESTING = 4
# Only small helpers are pasted into their callers, at a few sites each: a large helper
# called many times (the wide Join's chunk kernels, join.py) is kept a function of its
# own on purpose, since numba's compile time grows faster than linearly with the size
# of one function.
_MAX_HELPER_LINES = 24
_MAX_HELPER_SITES = 8


class _Renamer(ast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node


def inline_call(source, args, target, prefix, callees=None, _depth=0):
    """Statements computing ``target = f(*args)`` from ``f``'s source, or None when
    ``f`` cannot be inlined textually (an early return, a ``with`` block (objmode),
    nested scopes).  Locals get ``prefix`` so inlined bodies never clash; a parameter
    the body never assigns is replaced by its argument when that is a plain name
    (fewer statements for numba to type and lower).

    ``callees`` (name -> source): the module's other generated functions.  A call of
    one of them that is a statement of its own in ``f``'s body (``g(a, b)`` or
    ``x = g(a)``) is pasted in too, so a kernel built from helpers (IncSubtensor's
    ``assign``, Join's per-input copy) is no extra numba dispatcher: each dispatcher
    has its own typing, LLVM optimisation and machine-code finalisation, ~0.1-0.2 s of
    a cold compile even for a four-line loop.  ``target`` None: the call's result is
    unused (a helper that returns nothing may then be inlined)."""
    if source is None:
        return None
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    returns = bool(fn.body) and isinstance(fn.body[-1], ast.Return) and fn.body[-1].value is not None
    if not fn.body or (target is not None and not returns):
        return None
    params = [a.arg for a in fn.args.args]
    if fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.defaults or len(params) != len(args):
        return None
    final = fn.body[-1] if returns else None
    statements = fn.body[:-1] if returns else fn.body
    if callees and _depth < _MAX_NESTING:
        called = collections.Counter(node.func.id for node in ast.walk(fn)
                                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))
        small = {name: callees[name] for name, sites in called.items()
                 if name in callees and sites <= _MAX_HELPER_SITES
                 and callees[name].count("\n") <= _MAX_HELPER_LINES}
        sites = itertools.count()
        if small:
            statements = _inline_nested(statements, small, callees, lambda name: f"{name}{next(sites)}_", _depth)
    assigned = set()
    for stmt in statements + ([final] if final is not None else []):
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Return,)) and node is not final:
                return None
            if isinstance(node, (ast.With, ast.FunctionDef, ast.Lambda, ast.ClassDef, ast.Global, ast.Nonlocal,
                                 ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Yield)):
                return None
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                assigned.add(node.id)
    renames = {name: prefix + name for name in assigned}
    lines = []
    for p, a in zip(params, args):
        if p not in assigned and a.isidentifier():
            renames[p] = a
        else:
            renames[p] = prefix + p
            lines.append(f"{prefix}{p} = {a}")
    renamer = _Renamer(renames)
    for stmt in statements:
        lines.extend(ast.unparse(renamer.visit(stmt)).splitlines())
    if final is not None:
        ret = ast.unparse(renamer.visit(final).value)
        lines.append(f"{target} = {ret}" if target is not None else ret)
    return lines


def _inline_nested(statements, inlinable, callees, site_prefix, depth):
    """``statements`` with every statement-level call of a function of ``inlinable``
    replaced by its inlined body (recursively, also inside loops and branches; the
    helpers' own helpers are looked up in ``callees``)."""
    out = []
    for stmt in statements:
        call, target = None, None
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
        elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            call, target = stmt.value, ast.unparse(stmt.targets[0])
        if (call is not None and isinstance(call.func, ast.Name) and call.func.id in inlinable
                and not call.keywords and not any(isinstance(a, ast.Starred) for a in call.args)):
            name = call.func.id
            lines = inline_call(inlinable[name], [ast.unparse(a) for a in call.args], target, "_" + site_prefix(name),
                                callees, depth + 1)
            if lines is not None:
                out.extend(ast.parse("\n".join(lines)).body or [ast.Pass()])
                continue
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(stmt, field, _inline_nested(inner, inlinable, callees, site_prefix, depth))
        out.append(stmt)
    return out
