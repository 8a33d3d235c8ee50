"""Option parsing for ``%%pytensor`` / ``%pytensor``: errors become one usage line, never SystemExit."""

from __future__ import annotations

import argparse
import shlex

CELL_USAGE = ("usage: %%pytensor [-r TAGS] [-g WRT] [-c [MODE]] [-p] [-i \"x=..., y=...\"] [-s] "
              "[-o NAME] [--show a,b] [--type] [--format text|svg|both]")
LINE_USAGE = ("usage: %pytensor [-r TAGS] [-g WRT] [-o NAME] [--type] [--format text|svg|both] EXPR")


class MagicOptionError(Exception):
    """A bad option or value; shown to the user as one line plus the usage line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print and sys.exit
        raise MagicOptionError(message)

    def exit(self, status=0, message=None):
        raise MagicOptionError(message or "bad options")


def _comma_list(text):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _common(p):
    p.add_argument("-r", "--rewrite", type=_comma_list, metavar="TAGS", default=None)
    p.add_argument("-x", "--exclude", type=_comma_list, metavar="TAGS", default=[])
    p.add_argument("-g", "--grad", type=_comma_list, metavar="WRT", default=None)
    p.add_argument("-o", "--output", metavar="NAME", default=None)
    p.add_argument("--type", action="store_true")
    p.add_argument("--format", choices=("text", "svg", "both"), default="both")


def cell_parser():
    p = _Parser(prog="%%pytensor", add_help=False)
    _common(p)
    p.add_argument("-c", "--compile", nargs="?", const="default", default=None, metavar="MODE")
    p.add_argument("-p", "--profile", action="store_true")
    p.add_argument("-i", "--inputs", default=None)
    p.add_argument("-s", "--step", action="store_true")
    p.add_argument("--show", type=_comma_list, default=None)
    return p


def line_parser():
    p = _Parser(prog="%pytensor", add_help=False)
    _common(p)
    p.add_argument("expr", nargs=argparse.REMAINDER)
    return p


def parse_cell_options(line):
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise MagicOptionError(str(exc)) from None
    args = cell_parser().parse_args(argv)
    if args.output is not None and not args.output.isidentifier():
        raise MagicOptionError(f"-o needs a Python name, got {args.output!r}")
    return args


def parse_line_options(line):
    line = line.strip()
    if not line.startswith("-"):
        # Fast path: the whole line is the expression (may contain quotes, commas...).
        args = line_parser().parse_args([])
        args.expr = line
    else:
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise MagicOptionError(str(exc)) from None
        args = line_parser().parse_args(argv)
        args.expr = " ".join(args.expr)
    if not args.expr.strip():
        raise MagicOptionError("no expression given")
    if args.output is not None and not args.output.isidentifier():
        raise MagicOptionError(f"-o needs a Python name, got {args.output!r}")
    return args


def parse_inputs(text, namespace):
    """``"x=np.ones(3), y=[1, 2]"`` -> {"x": value, ...}, values evaluated in the user namespace."""
    import ast

    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError:
        raise MagicOptionError(f"-i expects 'name=value, ...', got {text!r}") from None
    if call.args or any(k.arg is None for k in call.keywords):
        raise MagicOptionError(f"-i expects 'name=value, ...', got {text!r}")
    values = {}
    for kw in call.keywords:
        expr = ast.Expression(kw.value)
        try:
            values[kw.arg] = eval(compile(expr, "<-i>", "eval"), namespace)
        except Exception as exc:
            raise MagicOptionError(f"-i {kw.arg}: {type(exc).__name__}: {exc}") from None
    return values
