"""``text/html`` formatters for graph objects.

Classes that may not exist yet (compile lands separately) are registered by
module and name, which IPython resolves lazily the first time such an object
is displayed.  A formatter that fails returns None so IPython falls back to
the plain-text repr instead of printing a traceback.
"""

from __future__ import annotations

import importlib

from opgraph.display import function_html, graph_html, profile_html


def _safe(render):
    def formatter(obj):
        try:
            return render(obj)
        except Exception:
            return None
    formatter.__name__ = f"opgraph_{render.__name__}"
    return formatter


def _graph(obj):
    return graph_html(obj)


def _function(obj):
    return function_html(obj)


def _profile(obj):
    return profile_html(obj)


# (module, class name, renderer): every module is tried; missing ones are skipped.
TARGETS = (
    ("opgraph.kernel_core.graph.basic", "Variable", _graph),
    ("opgraph.kernel_core.graph.fgraph", "FunctionGraph", _graph),
    ("opgraph.kernel_core.compile.function", "Function", _function),
    ("opgraph.kernel_core.compile.function_module", "Function", _function),
    ("opgraph.kernel_core.compile.types", "Function", _function),
    ("opgraph.kernel_core.compile.profiling", "ProfileStats", _profile),
)


def _resolve(module, name):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _compile_function_class():
    """The compiled Function class wherever the compile package defines it."""
    pkg = _resolve("opgraph.kernel_core.compile", "Function")
    return pkg


def register_formatters(shell):
    """Install the formatters; returns what was installed (for unregistering)."""
    html = shell.display_formatter.formatters["text/html"]
    installed = []
    seen = set()
    targets = list(TARGETS)
    fn_cls = _compile_function_class()
    if fn_cls is not None:
        targets.append((fn_cls.__module__, fn_cls.__name__, _function))
    for module, name, render in targets:
        if (module, name) in seen:
            continue
        seen.add((module, name))
        cls = _resolve(module, name)
        if cls is not None:
            old = html.for_type(cls, _safe(render))
            installed.append((cls, old))
        else:
            # Lazily resolved by IPython once the module is imported.
            old = html.for_type_by_name(module, name, _safe(render))
            installed.append(((module, name), old))
    return installed


def unregister_formatters(shell, installed):
    html = shell.display_formatter.formatters["text/html"]
    for key, old in reversed(installed):
        try:
            if isinstance(key, tuple):
                html.deferred_printers.pop(key, None)
                if old is not None:
                    html.for_type_by_name(key[0], key[1], old)
            else:
                html.pop(key, None)
                if old is not None:
                    html.for_type(key, old)
        except Exception:
            pass
