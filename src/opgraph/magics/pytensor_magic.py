"""``%%pytensor`` (cell) and ``%pytensor`` (line): see a graph, rewrite it, differentiate, compile, profile.

Pipeline of a cell run: execute the cell in the user namespace -> find the
outputs -> (-g) replace them by their gradients -> display -> (-r) rewrite
with history and show before/after and the rules -> (-s) open the stepper ->
(-c/-p) compile, run, show the compiled graph and profile.  The results go to
``_pytensor`` (and ``-o NAME``).  User mistakes in options print one line and
the usage line; errors in the user's own code show their normal traceback.
"""

from __future__ import annotations

import sys

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from opgraph.display import function_html, graph_html, profile_html
from opgraph.display.function_panel import function_text
from opgraph.display.graph_panel import graph_text
from opgraph.display.rewrite_panel import rewrite_html, rules_text
from opgraph.magics import engine_calls
from opgraph.magics.options import (
    CELL_USAGE, LINE_USAGE, MagicOptionError, cell_help, line_help, parse_cell_options, parse_inputs,
    parse_line_options,
)
from opgraph.magics.outputs import find_outputs, run_cell_body
from opgraph.magics.results import PytensorResult


def _namespace_defaults():
    """Names a %%pytensor cell can use without importing them."""
    import numpy as np

    import opgraph
    import opgraph.tensor as pt

    names = {"np": np, "pt": pt, "opgraph": opgraph}
    engine_names = (
        ("opgraph.kernel_core.printing.dprint", "dprint"),
        ("opgraph.kernel_core.printing.graphviz", "pydotprint"),
        ("opgraph.kernel_core.graph.fgraph", "FunctionGraph"),
        ("opgraph.kernel_core.rewriting.api", "rewrite_graph"),
        ("opgraph.kernel_core.gradient", "grad"),
        ("opgraph.kernel_core.gradient", "jacobian"),
        ("opgraph.kernel_core.gradient", "hessian"),
        ("opgraph.kernel_core.compile", "function"),
        ("opgraph.kernel_core.compile", "shared"),
    )
    import importlib

    for module, name in engine_names:
        # Every one of these is part of opgraph: a failing import is a bug to see, not to skip.
        names[name] = getattr(importlib.import_module(module), name)
    return names


def publish(html, text):
    display({"text/html": html, "text/plain": text}, raw=True)


def usage_error(message, usage):
    # One line on stderr; no traceback, the shell carries on.
    sys.stderr.write(f"{message.strip().rstrip('.')}. {usage}\n")


@magics_class
class PytensorMagics(Magics):

    def _namespace(self):
        ns = self.shell.user_ns
        for k, v in _namespace_defaults().items():
            ns.setdefault(k, v)
        return ns

    def _cell_source(self, cell):
        """(Python source, file name) of a cell, compiled as IPython compiles a normal cell.

        The cell gets IPython's input transforms (``%magic`` and ``!cmd`` lines) and
        is registered with the shell's compiler, so tracebacks and SyntaxErrors
        point at the cell's own lines (``File <ipython-input-...>:2``).
        """
        source = self.shell.transform_cell(cell)
        filename = self.shell.compile.cache(source, self.shell.execution_count, raw_code=cell)
        return source, filename

    def _show_user_error(self, exc, filename):
        """The traceback of an error in the user's code, from the user's own frame on."""
        if isinstance(exc, SyntaxError):
            self.shell.showsyntaxerror(filename)
            return
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != filename:
            tb = tb.tb_next
        # No frame of the cell (the error is in the magic itself): show everything.
        # tb_offset=0: the shell's default (1) would skip the first, here the user's, frame.
        self.shell.showtraceback((type(exc), exc, tb if tb is not None else exc.__traceback__), tb_offset=0)

    def _store(self, result, name):
        ns = self.shell.user_ns
        ns["_pytensor"] = result
        if name:
            ns[name] = result

    # -- cell magic -----------------------------------------------------------
    # The docstrings are the parsers' full help (every option), which is what
    # ``%%pytensor?`` / ``%pytensor?`` print: the same thing IPython's
    # magic_arguments decorators do, kept on our parser so option errors stay one line.
    @cell_magic("pytensor")
    def pytensor_cell(self, line, cell):
        try:
            args = parse_cell_options(line)
        except MagicOptionError as exc:
            usage_error(f"%%pytensor: {exc}", CELL_USAGE)
            return None
        ns = self._namespace()
        source, filename = self._cell_source(cell)
        try:
            value, changed = run_cell_body(source, ns, filename, compiler=self.shell.compile)
        except Exception as exc:
            self._show_user_error(exc, filename)
            return None
        try:
            found = find_outputs(value, changed, ns, show=args.show)
        except (NameError, TypeError) as exc:
            usage_error(f"%%pytensor: {exc}", CELL_USAGE)
            return None
        result = PytensorResult(list(found.outputs), list(found.labels))
        try:
            self._run_pipeline(args, found, result, ns)
        except MagicOptionError as exc:
            usage_error(f"%%pytensor: {exc}", CELL_USAGE)
        self._store(result, args.output)
        return None

    def _run_pipeline(self, args, found, result, ns):
        outputs = list(found.outputs)
        value = found.value
        if not outputs:
            if value is not None and hasattr(value, "maker"):
                result.function = value
                result.profile = getattr(value, "profile", None)
                publish(function_html(value, format=args.format), graph_text(value))
                self._explore_if_large(value, result)
                return
            if value is not None and hasattr(value, "clients"):
                publish(graph_html(value, format=args.format, print_type=args.type), graph_text(value))
                self._explore_if_large(value, result)
                return
            if args.rewrite or args.grad or args.compile or args.profile or args.step:
                raise MagicOptionError("the cell defines no graph variable to work on")
            return
        targets = outputs
        title = ", ".join(found.labels) if found.labels else None
        if args.grad:
            wrt = engine_calls.resolve_names(args.grad, ns, "-g")
            targets = engine_calls.gradients(outputs, wrt)
            result.grads = targets
            title = ", ".join(f"∂{found.labels[0] if found.labels else outputs[0]}/∂{w}" for w in args.grad)
        if args.rewrite:
            engine_calls.check_tags(args.rewrite + args.exclude)
            rewritten, records = engine_calls.rewrite(targets, args.rewrite, args.exclude)
            result.rewritten = rewritten
            result.history = records
            text = (f"before:\n{graph_text(targets, args.type)}after:\n{graph_text(rewritten, args.type)}"
                    f"rules:\n{rules_text(records)}\n")
            publish(rewrite_html(targets, rewritten, records, args.rewrite, args.format, args.type), text)
        else:
            publish(graph_html(targets, format=args.format, print_type=args.type, title=title),
                    graph_text(targets, args.type))
            self._explore_if_large(targets, result)
        if args.step:
            from opgraph.widgets import RewriteStepper

            stepper = RewriteStepper(targets, include=tuple(args.rewrite or ("canonicalize",)),
                                     exclude=tuple(args.exclude))
            result.stepper = stepper
            display(stepper.widget)
        if args.compile is not None or args.profile:
            given = parse_inputs(args.inputs, ns) if args.inputs else {}
            # Always profiled: the compile-time breakdown is only measured with a profile.
            fn, fn_inputs = engine_calls.compile_outputs(targets, args.compile, True)
            result.function = fn
            if args.profile:
                values = engine_calls.input_values(fn_inputs, given)
                result.values = engine_calls.run_profiled(fn, values)
                result.profile = getattr(fn, "profile", None)
            publish(function_html(fn, format=args.format, print_type=args.type), function_text(fn, args.type))
            if args.profile:
                from opgraph.widgets import ProfileView

                result.profile_view = ProfileView(fn)
                display(result.profile_view)

    def _explore_if_large(self, targets, result):
        """Beside the summary of a large graph, a GraphExplorer to open it (the widget layer chooses:
        the engine never imports widgets)."""
        from opgraph.extension.explorer_display import wants_explorer

        if wants_explorer(targets):
            from opgraph.widgets import GraphExplorer

            result.explorer = GraphExplorer(targets)
            display(result.explorer)

    pytensor_cell.__doc__ = cell_help()

    # -- line magic -------------------------------------------------------------
    @line_magic("pytensor")
    def pytensor_line(self, line):
        try:
            args = parse_line_options(line)
        except MagicOptionError as exc:
            usage_error(f"%pytensor: {exc}", LINE_USAGE)
            return None
        ns = self._namespace()
        source, filename = self._cell_source(args.expr)
        try:
            code = self.shell.compile(source.strip(), filename, "eval")
        except SyntaxError as exc:
            usage_error(f"%pytensor: not an expression: {exc.msg}", LINE_USAGE)
            return None
        try:
            value = eval(code, ns)
        except Exception as exc:
            self._show_user_error(exc, filename)
            return None
        try:
            found = find_outputs(value, [], ns)
        except (NameError, TypeError) as exc:
            usage_error(f"%pytensor: {exc}", LINE_USAGE)
            return None
        if not found.outputs and not (value is not None and (hasattr(value, "maker") or hasattr(value, "clients"))):
            usage_error(f"%pytensor: {args.expr} is a {type(value).__name__}, not a graph", LINE_USAGE)
            return None
        found.labels = [args.expr] if found.outputs else []
        args.compile, args.profile, args.step, args.inputs = None, False, False, None
        result = PytensorResult(list(found.outputs), list(found.labels))
        try:
            self._run_pipeline(args, found, result, ns)
        except MagicOptionError as exc:
            usage_error(f"%pytensor: {exc}", LINE_USAGE)
        self._store(result, args.output)
        return None

    pytensor_line.__doc__ = line_help()
