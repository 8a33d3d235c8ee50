"""Inlining a generated function's body into the graph function, as source."""

from __future__ import annotations

import ast


class _Renamer(ast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node


def inline_call(source, args, target, prefix):
    """Statements computing ``target = f(*args)`` from ``f``'s source, or None when
    ``f`` cannot be inlined textually (an early return, a ``with`` block (objmode),
    nested scopes).  Locals get ``prefix`` so inlined bodies never clash; a parameter
    the body never assigns is replaced by its argument when that is a plain name
    (fewer statements for numba to type and lower)."""
    if source is None:
        return None
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    if not fn.body or not isinstance(fn.body[-1], ast.Return) or fn.body[-1].value is None:
        return None
    params = [a.arg for a in fn.args.args]
    if fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.defaults or len(params) != len(args):
        return None
    assigned = set()
    for node in ast.walk(fn):
        if node is fn:
            continue
        if isinstance(node, (ast.Return,)) and node is not fn.body[-1]:
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
    for stmt in fn.body[:-1]:
        lines.extend(ast.unparse(renamer.visit(stmt)).splitlines())
    ret = renamer.visit(fn.body[-1]).value
    lines.append(f"{target} = {ast.unparse(ret)}")
    return lines
