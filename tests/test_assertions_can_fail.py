"""Every ``assert`` in the test suite can fail: no always-true forms.

Found in review: ``assert n >= 2 and "Elemwise{Exp}" in p or "Exp" in p`` parses as
``(n >= 2 and ...) or ("Exp" in p)`` and passed whatever the bars were.  This scans
tests/ for the forms that cannot fail (or whose precedence hides what they check):

- ``and`` and ``or`` mixed without parentheses in an assert;
- ``or`` with a truthy constant (``assert a or "b" in c`` is fine, ``assert a or "b"`` is not);
- asserting a non-empty literal, a tuple (``assert (x, "msg")``), a generator or an iterator;
- an uncalled method (``assert (a == b).all``);
- a comparison used as a statement (``x == y`` on its own line checks nothing).
"""

import ast
import pathlib

TESTS = pathlib.Path(__file__).parent


def _truthy_literal(node):
    if isinstance(node, ast.Constant):
        return bool(node.value)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return bool(node.keys if isinstance(node, ast.Dict) else node.elts)
    return isinstance(node, (ast.JoinedStr, ast.Lambda, ast.GeneratorExp))


def _parenthesized(source, node):
    """Whether ``node``'s source is directly wrapped in parentheses."""
    lines = source.splitlines(keepends=True)
    offset = sum(len(line) for line in lines[: node.lineno - 1]) + node.col_offset
    before = source[:offset].rstrip()
    return before.endswith("(")


def problems_in(source, filename="<test>"):
    tree = ast.parse(source, filename)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Compare):
            found.append((node.lineno, "comparison used as a statement"))
        if not isinstance(node, ast.Assert):
            continue
        t = node.test
        if _truthy_literal(t):
            found.append((node.lineno, "asserts a literal, tuple or generator (always true)"))
        elif isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and \
                t.func.id in ("map", "filter", "iter", "zip", "reversed", "enumerate"):
            found.append((node.lineno, "asserts an iterator (always true)"))
        elif isinstance(t, ast.Attribute) and t.attr in ("all", "any"):
            found.append((node.lineno, f"asserts the method .{t.attr} without calling it"))
        elif isinstance(t, ast.BoolOp):
            if isinstance(t.op, ast.Or) and any(_truthy_literal(v) for v in t.values):
                found.append((node.lineno, "`or` with a truthy constant (always true)"))
            for v in t.values:
                if isinstance(v, ast.BoolOp) and not _parenthesized(source, v):
                    found.append((node.lineno, "`and`/`or` mixed without parentheses"))
    return found


def test_the_checker_catches_the_known_forms():
    bad = (
        'assert n >= 2 and "a" in p or "b" in p\n'
        'assert x or "message"\n'
        'assert (x == 1, "message")\n'
        'assert (v > 0 for v in values)\n'
        'assert (a == b).all\n'
        'x == y\n'
    )
    assert len(problems_in(bad)) == 6
    good = (
        'assert n >= 2 and ("a" in p or "b" in p)\n'
        'assert (a and b) or c\n'
        'assert x == 1, "message"\n'
        'assert all(v > 0 for v in values)\n'
        'assert (a == b).all()\n'
    )
    assert problems_in(good) == []


def test_no_assertion_in_the_suite_is_always_true():
    problems = []
    for path in sorted(TESTS.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        problems += [f"{path.relative_to(TESTS)}:{line}: {why}" for line, why in problems_in(source, str(path))]
    assert not problems, "\n".join(problems)
