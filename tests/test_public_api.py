"""PyTensor's module layout: every public path imports, every name in its ``__all__``
resolves, PyTensor names opgraph lacks say "not implemented in opgraph", and the
public modules are thin re-exports of the engine."""

import ast
import importlib
import pathlib

import pytest

import opgraph
from opgraph._pytensor_api import PYTENSOR_NAMES, UNBUILT, NotImplementedInOpgraph

SRC = pathlib.Path(opgraph.__file__).parent

# The paths a PyTensor user imports (issue 20), besides those the API data lists.
LISTED = [
    "opgraph.scalar", "opgraph.scalar.basic", "opgraph.scalar.math",
    *(f"opgraph.tensor.{m}" for m in (
        "basic", "math", "elemwise", "shape", "subtensor", "extra_ops", "type", "variable", "sort", "nlinalg",
        "slinalg", "linalg", "blockwise", "random", "special", "signal", "optimize")),
    *(f"opgraph.graph.{m}" for m in ("basic", "op", "fg", "type", "traversal", "replace", "utils")),
    *(f"opgraph.compile.{m}" for m in ("function", "sharedvalue", "io", "builders", "profiling")),
    "opgraph.printing", "opgraph.gradient", "opgraph.link.numba", "opgraph.configdefaults", "opgraph.config",
]
PATHS = sorted(set(LISTED) | set(PYTENSOR_NAMES) | set(UNBUILT))


@pytest.mark.parametrize("path", PATHS)
def test_every_name_in_all_resolves(path):
    module = importlib.import_module(path)
    if path == "opgraph.config":
        assert module is opgraph.config   # the settings object, not a module
        return
    names = getattr(module, "__all__", None)
    if path != "opgraph":
        assert names is not None, f"{path} has no __all__"
    missing = [n for n in names or () if not hasattr(module, n)]
    assert not missing, f"{path}.__all__ names that do not resolve: {missing}"
    if path in UNBUILT:
        assert names == []
    elif path not in ("opgraph",):
        assert names, f"{path} exports nothing"


@pytest.mark.parametrize("path", sorted(PYTENSOR_NAMES))
def test_pytensor_names_resolve_or_say_not_implemented(path):
    module = importlib.import_module(path)
    for name in PYTENSOR_NAMES[path]:
        try:
            getattr(module, name)
        except NotImplementedInOpgraph as exc:
            assert "not implemented in opgraph" in str(exc) and name in str(exc)
            # ``from path import name`` keeps the message (a plain AttributeError would lose it).
            with pytest.raises(ImportError, match="not implemented in opgraph"):
                exec(f"from {path} import {name}", {})


def test_unknown_names_are_plain_attribute_errors():
    import opgraph.tensor as pt

    assert not hasattr(pt, "no_such_function_anywhere")
    assert not hasattr(pt.math, "no_such_function_anywhere")


@pytest.mark.parametrize("path", sorted(UNBUILT))
def test_unbuilt_modules_import_and_say_not_implemented(path):
    module = importlib.import_module(path)
    with pytest.raises(ImportError, match="not implemented in opgraph yet"):
        module.anything   # noqa: B018
    with pytest.raises(ImportError, match="not implemented in opgraph yet"):
        exec(f"from {path} import normal", {})
    assert not hasattr(module, "__wrapped__")   # dunder probes (inspect, pickle) stay AttributeErrors


def test_names_resolve_to_the_engine_object_at_every_path():
    import opgraph.tensor as pt
    from opgraph.kernel_core.tensor import math as engine_math

    assert pt.math.exp is pt.exp is engine_math.exp
    assert pt.special.expit is pt.sigmoid
    assert pt.special.sigmoid is pt.sigmoid
    assert pt.math.logit is pt.special.logit       # PyTensor's tensor.math name, defined in special
    assert pt.basic.where is pt.where           # PyTensor has it in tensor.basic; opgraph in math
    assert pt.nlinalg.det is pt.linalg.det
    assert pt.slinalg.cholesky is pt.linalg.cholesky
    from opgraph.tensor.sort import argsort

    assert argsort is pt.argsort and callable(pt.sort)   # pt.sort is the function, as in PyTensor
    from opgraph.graph.basic import ancestors
    from opgraph.graph.traversal import ancestors as ancestors2

    assert ancestors is ancestors2
    assert opgraph.graph_replace is opgraph.graph.replace.graph_replace
    from opgraph.compile.builders import OpFromGraph

    assert opgraph.OpFromGraph is OpFromGraph


def test_import_opgraph_config_keeps_the_settings_object():
    import opgraph.config  # noqa: F401

    assert opgraph.config.floatX in ("float64", "float32")
    from opgraph.config import floatX  # noqa: F401


def _public_files():
    skip = ("kernel_core", "display", "magics", "extension", "widgets", "rewriting")
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in skip or "rewriting" in rel.parts or rel.name.startswith("_") and rel.name != "__init__.py":
            continue
        if rel.as_posix() in ("compile/mode.py",):
            continue
        yield rel


@pytest.mark.parametrize("rel", [p.as_posix() for p in _public_files()])
def test_public_modules_are_thin_reexports(rel):
    """No logic in the public modules: imports and the ``__all__`` / ``__getattr__`` wiring only
    (the package ``__init__`` may define the IPython extension hooks)."""
    tree = ast.parse((SRC / rel).read_text())
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue   # docstring
        if isinstance(stmt, ast.Assign):
            continue   # __all__, __getattr__, engine-module aliases, __version__, sys.modules swap
        if isinstance(stmt, ast.FunctionDef) and rel == "__init__.py" and "ipython_extension" in stmt.name:
            continue
        raise AssertionError(f"{rel} line {stmt.lineno}: {type(stmt).__name__} -- public modules re-export only")


def test_importing_the_shape_and_sort_modules_keeps_the_functions():
    # A submodule imported for the first time rebinds the package attribute of its name.
    import subprocess
    import sys

    code = ("import opgraph.tensor as pt, opgraph.tensor.shape, opgraph.tensor.sort, types; "
            "assert callable(pt.shape) and callable(pt.sort), (pt.shape, pt.sort); "
            "from opgraph.tensor.sort import argsort; from opgraph.tensor.shape import specify_shape")
    subprocess.run([sys.executable, "-c", code], check=True)
