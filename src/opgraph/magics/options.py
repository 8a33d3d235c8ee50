"""Option parsing for ``%%pytensor`` / ``%pytensor``: errors become one usage line, never SystemExit."""

from __future__ import annotations

import argparse
import shlex

CELL_USAGE = ("usage: %%pytensor [-r TAGS] [-x TAGS] [-g WRT] [-c [MODE]] [-p] [-i \"x=..., y=...\"] [-s] "
              "[-o NAME] [--show a,b] [--type] [--format text|svg|both]")
LINE_USAGE = ("usage: %pytensor [-r TAGS] [-x TAGS] [-g WRT] [-o NAME] [--type] [--format text|svg|both] EXPR")


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
    p.add_argument("-r", "--rewrite", type=_comma_list, metavar="TAGS", default=None,
                   help="rewrite the outputs with these tags (e.g. canonicalize,stabilize) and show "
                        "before, after and the rules that fired")
    p.add_argument("-x", "--exclude", type=_comma_list, metavar="TAGS", default=[],
                   help="rule names or tags to leave out of the -r / -s rewrite")
    p.add_argument("-g", "--grad", type=_comma_list, metavar="WRT",
                   default=None, help="replace the (scalar) output by its gradients with respect to these names")
    p.add_argument("-o", "--output", metavar="NAME", default=None,
                   help="also store the result under this name (it is always in _pytensor)")
    p.add_argument("--type", action="store_true", help="print each variable's type in the text tree")
    p.add_argument("--format", choices=("text", "svg", "both"), default="both",
                   help="show the text tree, the drawing (needs graphviz) or both (default)")


def cell_parser():
    p = _Parser(prog="%%pytensor", add_help=False, usage="%(prog)s" + CELL_USAGE[len("usage: %%pytensor"):],
                description="Run the cell, then show the graphs it built (new variables, or the last "
                            "expression), optionally rewritten, differentiated, compiled and profiled.")
    _common(p)
    p.add_argument("-c", "--compile", nargs="?", const="default", default=None, metavar="MODE",
                   help="compile the outputs (MODE: NUMBA, PYTHON, FAST_RUN, ...; default mode without "
                        "a value) and show the compiled graph with its compile times")
    p.add_argument("-p", "--profile", action="store_true",
                   help="compile, call with the -i values (one warm-up call, one timed) and show the profile")
    p.add_argument("-i", "--inputs", default=None, metavar='"x=..., y=..."',
                   help="input values for -p, Python expressions evaluated in the notebook's namespace")
    p.add_argument("-s", "--step", action="store_true",
                   help="open a RewriteStepper on the outputs (the -r tags, canonicalize by default)")
    p.add_argument("--show", type=_comma_list, default=None, metavar="a,b",
                   help="show these names instead of the variables the cell created")
    return p


def line_parser():
    p = _Parser(prog="%pytensor", add_help=False, usage="%(prog)s" + LINE_USAGE[len("usage: %pytensor"):],
                description="Show the graph of one expression, optionally rewritten or differentiated.")
    _common(p)
    p.add_argument("expr", nargs=argparse.REMAINDER, metavar="EXPR",
                   help="a Python expression evaluating to a graph variable, a list of them or a compiled function")
    return p


def cell_help():
    """The full help of ``%%pytensor``: the usage line and every option, as ``%%pytensor?`` shows it."""
    return cell_parser().format_help()


def line_help():
    """The full help of ``%pytensor``."""
    return line_parser().format_help()


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
