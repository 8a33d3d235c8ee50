"""PyTensor's public names that opgraph knows of but does not implement (the data),
and the module hooks that turn a lookup of one of them into a clear error.

The public modules (``opgraph.tensor.math``, ``opgraph.graph.basic``, ...) are
re-exports of the engine.  A PyTensor user importing a name opgraph lacks
should learn that it is *not implemented in opgraph* rather than see a bare
``cannot import name``: every public module ends with

    __getattr__ = missing_names(__name__)

``from m import name`` turns an AttributeError raised by a module's
``__getattr__`` into a bare "cannot import name" ImportError (the message is
lost), so a known-but-unimplemented name raises ``NotImplementedInOpgraph``, an
ImportError, with the message intact.  Names nobody knows of get a plain
AttributeError (``hasattr`` and IPython's completion keep working).

A name PyTensor has at one path and opgraph implements at another (PyTensor's
``pytensor.tensor.basic.where`` is ``opgraph.tensor.where``) resolves from
the module's ``FALLBACK`` namespaces: one definition, reachable from every
path PyTensor users know.
"""

from __future__ import annotations

import functools
import importlib


class NotImplementedInOpgraph(ImportError):
    """A PyTensor feature or name that opgraph does not implement (yet)."""


# PyTensor's public names at each path (from its API documentation) that
# opgraph does not define there.  A name here that opgraph implements
# elsewhere resolves through FALLBACK; the others raise NotImplementedInOpgraph.
PYTENSOR_NAMES = {
    "opgraph": (
        "OpFromGraph", "Variable", "clone_replace", "foldl", "foldr", "ifelse", "map", "reduce", "scan",
        "scan_checkpoints", "shared", "sparse", "grad", "dprint", "printing", "pp", "wrap_jax",
        "as_symbolic", "get_underlying_scalar_constant", "xtensor", "graph_replace", "In", "Out", "Mode",
        "function", "gradient", "graph", "compile", "scalar", "configdefaults", "link", "debugprint",
        "vectorize_graph", "pydotprint", "get_mode", "ProfileStats",
    ),
    "opgraph.scalar": (
        "ScalarType", "ScalarVariable", "ScalarConstant", "Composite", "as_scalar", "constant", "upcast",
        "float64", "float32", "int64", "int32", "int8", "bool", "complex128", "add", "mul", "sub",
        "true_div", "int_div", "neg", "exp", "log", "cos", "sin", "sqrt", "sqr", "switch", "identity",
        "cast", "convert", "get_scalar_type", "ScalarOp", "UnaryScalarOp", "BinaryScalarOp",
        "ScalarInnerGraphOp", "erf", "erfc", "gammaln", "psi", "sigmoid", "softplus", "log1mexp",
        "betainc", "gammainc", "gammaincc", "hyp2f1", "iv", "ive", "kv", "j0", "j1", "jv", "i0", "i1",
        "polygamma", "tri_gamma", "xlogx", "xlogy0", "owens_t", "erfinv", "erfcinv", "erfcx",
    ),
    "opgraph.scalar.basic": (
        "ScalarType", "ScalarVariable", "ScalarConstant", "Composite", "ScalarOp", "UnaryScalarOp",
        "BinaryScalarOp", "ScalarInnerGraphOp", "as_scalar", "constant", "upcast", "get_scalar_type",
        "float64", "float32", "int64", "int32", "int8", "bool", "complex128", "convert", "cast",
        "upgrade_to_float", "same_out", "transfer_type", "Add", "Mul", "Sub", "TrueDiv", "IntDiv", "Neg",
        "Exp", "Log", "Cos", "Sin", "Sqrt", "Sqr", "Switch", "Identity", "Cast", "Clip", "Second",
        "add", "mul", "sub", "true_div", "int_div", "neg", "exp", "log", "cos", "sin", "sqrt", "sqr",
        "switch", "identity", "clip", "second", "maximum", "minimum", "log1p", "expm1", "Pow", "pow",
    ),
    "opgraph.scalar.math": (
        "Erf", "Erfc", "Erfcx", "Erfinv", "Erfcinv", "Gamma", "GammaLn", "Psi", "TriGamma", "Polygamma",
        "Sigmoid", "Softplus", "Log1mexp", "BetaInc", "GammaInc", "GammaIncC", "BetaIncInv", "GammaIncInv",
        "GammaIncCInv", "Hyp2F1", "Iv", "Ive",
        "Kv", "J0", "J1", "Jv", "I0", "I1", "Chi2SF", "Owens_t", "XlogX", "XlogY0",
        "erf", "erfc", "erfcx", "erfinv", "erfcinv", "gamma", "gammaln", "psi", "tri_gamma", "polygamma",
        "sigmoid", "softplus", "log1mexp", "betainc", "betaincinv", "gammainc", "gammaincc", "gammaincinv",
        "gammainccinv", "hyp2f1", "iv", "ive", "kv", "kve", "j0", "j1", "jv", "i0", "i1", "chi2sf",
        "owens_t", "xlogx", "xlogy0",
    ),
    "opgraph.tensor.basic": (
        "as_tensor_variable", "as_tensor", "constant", "alloc", "zeros", "ones", "full", "zeros_like",
        "ones_like", "full_like", "empty", "empty_like", "arange", "eye", "identity_like", "tri", "tril",
        "triu", "stack", "concatenate", "join", "split", "flatten", "tile", "where", "switch", "second",
        "fill", "cast", "make_vector", "MakeVector", "Alloc", "AllocEmpty", "ARange", "Eye", "Join",
        "Split", "TensorFromScalar", "ScalarFromTensor", "tensor_from_scalar", "scalar_from_tensor",
        "get_underlying_scalar_constant_value", "get_scalar_constant_value", "NotScalarConstantError",
        "extract_diag", "diagonal", "diag", "trace", "transpose", "roll", "choose", "nonzero",
        "nonzero_values", "flatnonzero", "default", "atleast_1d", "atleast_2d", "atleast_3d",
        "horizontal_stack", "vertical_stack", "hstack", "vstack", "dstack", "column_stack",
        "expand_dims", "moveaxis", "swapaxes", "ExtractDiag", "AllocDiag", "inverse_permutation",
        "permute_row_elements", "linspace", "geomspace", "logspace", "infer_static_shape",
        "register_transfer", "is_flat", "shape_padleft", "shape_padright", "shape_padaxis", "ptp",
        "squeeze", "mgrid", "ogrid", "concat_with_broadcast",
        # from PyTensor's "Basic Tensor Functionality" page
        "stacklists", "autocast_float",
    ),
    "opgraph.tensor.math": (
        "abs", "add", "sub", "mul", "true_div", "int_div", "mod", "pow", "neg", "exp", "exp2", "expm1",
        "log", "log2", "log10", "log1p", "log1mexp", "log1pexp", "sqrt", "sqr", "reciprocal", "sin",
        "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
        "arccosh", "arctanh", "sigmoid", "expit", "softplus", "erf", "erfc", "erfcx", "erfinv",
        "erfcinv", "gamma", "gammaln", "psi", "digamma", "tri_gamma", "polygamma", "floor", "ceil",
        "round", "round_half_to_even", "round_half_away_from_zero", "trunc", "clip", "maximum", "minimum",
        "lt", "gt", "le", "ge", "eq", "neq", "and_", "or_", "xor", "invert", "logical_not", "isnan",
        "isinf", "isclose", "allclose", "sum", "prod", "mean", "var", "std", "max", "min", "argmax",
        "argmin", "max_and_argmax", "all", "any", "logsumexp", "dot", "matmul", "outer", "tensordot",
        "dense_dot", "sign", "sgn", "deg2rad", "rad2deg", "cov", "median", "ptp", "hypot", "logaddexp",
        "logdiffexp", "log_softmax", "softmax", "betainc", "betaincinv", "gammainc", "gammaincc",
        "gammaincinv", "gammainccinv", "gammau", "gammal", "hyp2f1", "iv", "ive", "kv", "kve", "j0", "j1",
        "jv", "i0", "i1", "chi2sf", "owens_t", "xlogx", "xlogy0", "sigmoid", "logit", "log1msigmoid",
        "complex", "real", "imag", "angle", "conj", "complex_from_polar", "nan_to_num", "power",
        "square", "cumsum", "cumprod", "Sum", "Prod", "Max", "Min", "Argmax", "Argmin", "Dot",
        "CAReduce", "All", "Any", "Mean", "ProdWithoutZeros", "vecdot", "matvec", "vecmat",
        "floor_div", "divmod", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "cast",
        "neg", "negative", "true_divide", "divide", "floor_divide",
        # from PyTensor's "Basic Tensor Functionality" page
        "iround", "batched_dot", "batched_tensordot", "truediv", "intdiv",
    ),
    "opgraph.tensor.elemwise": (
        "Elemwise", "DimShuffle", "CAReduce", "scalar_elemwise", "get_normalized_batch_axes",
    ),
    "opgraph.tensor.shape": (
        "Shape", "Shape_i", "SpecifyShape", "Reshape", "shape", "shape_i", "specify_shape",
        "specify_broadcastable", "reshape", "shape_tuple", "shape_padleft", "shape_padright",
        "shape_padaxis", "unbroadcast", "Unbroadcast", "squeeze", "transpose", "flatten",
        "specify_shape", "shape_i_op",
    ),
    "opgraph.tensor.subtensor": (
        "Subtensor", "IncSubtensor", "AdvancedSubtensor", "AdvancedSubtensor1", "AdvancedIncSubtensor",
        "AdvancedIncSubtensor1", "set_subtensor", "inc_subtensor", "take", "get_idx_list",
        "get_canonical_form_slice", "basic_shape", "indices_from_subtensor", "as_index_constant",
        "as_index_literal", "index_vars_to_types", "advanced_subtensor", "advanced_inc_subtensor",
        "advanced_set_subtensor", "advanced_subtensor1", "advanced_inc_subtensor1",
    ),
    "opgraph.tensor.extra_ops": (
        "cumsum", "cumprod", "diff", "repeat", "tile", "bincount", "squeeze", "compress",
        "fill_diagonal", "fill_diagonal_offset", "to_one_hot", "unique", "unravel_index",
        "ravel_multi_index", "broadcast_shape", "broadcast_to", "broadcast_arrays", "geomspace",
        "linspace", "logspace", "searchsorted", "CumOp", "Repeat", "Unique", "SearchsortedOp",
        "FillDiagonal", "take_along_axis", "concat_with_broadcast", "cartesian",
    ),
    "opgraph.tensor.type": (
        "TensorType", "tensor", "scalar", "vector", "matrix", "row", "col", "tensor3", "tensor4",
        "tensor5", "tensor6", "tensor7", "dscalar", "fscalar", "iscalar", "lscalar", "bscalar",
        "dvector", "fvector", "ivector", "lvector", "dmatrix", "fmatrix", "imatrix", "lmatrix",
        "scalars", "vectors", "matrices", "dscalars", "dvectors", "dmatrices", "fscalars", "fvectors",
        "fmatrices", "iscalars", "ivectors", "imatrices", "lscalars", "lvectors", "lmatrices",
        "dtensor3", "ftensor3", "dtensor4", "ftensor4", "integer_dtypes", "float_dtypes",
        "complex_dtypes", "continuous_dtypes", "discrete_dtypes", "all_dtypes", "values_eq_approx",
        "DenseTensorType", "TensorTypeType",
        # from PyTensor's "Basic Tensor Functionality" page (constructor table, plural constructors)
        *(f"{p}{k}" for p in "bwildfcz" for k in ("tensor6", "tensor7")),
        *(f"{p}{k}" for p in "ilfd" for k in ("rows", "cols")),
    ),
    "opgraph.tensor.variable": (
        "TensorVariable", "TensorConstant", "TensorConstantSignature", "_tensor_py_operators",
        "DenseTensorVariable", "DenseTensorConstant",
    ),
    "opgraph.tensor.sort": (
        "sort", "argsort", "SortOp", "ArgSortOp", "topk", "argtopk", "topk_and_argtopk", "TopKOp",
    ),
    "opgraph.tensor.nlinalg": (
        "det", "slogdet", "inv", "matrix_inverse", "pinv", "eig", "eigh", "eigvalsh", "svd", "qr",
        "trace", "norm", "matrix_dot", "matrix_power", "lstsq", "tensorinv", "tensorsolve", "kron",
        "Det", "SLogDet", "MatrixInverse", "MatrixPinv", "Eig", "Eigh", "SVD", "QRFull", "Lstsq",
        "TensorInv", "TensorSolve", "extract_diag", "alloc_diag", "diag",
    ),
    "opgraph.tensor.slinalg": (
        "cholesky", "solve", "solve_triangular", "cho_solve", "lu", "lu_factor", "lu_solve",
        "eigvalsh", "expm", "kron", "block_diag", "solve_continuous_lyapunov",
        "solve_discrete_lyapunov", "solve_discrete_are", "qr", "schur", "qz", "ordqz", "pivot_to_permutation",
        "Cholesky", "Solve", "SolveTriangular", "CholeskySolve", "LU", "LUFactor", "Eigvalsh", "Expm",
        "BlockDiagonal", "QR", "Schur", "QZ", "SolveBase",
    ),
    "opgraph.tensor.blockwise": (
        "Blockwise", "vectorize_node_fallback", "safe_signature", "core_signature",
    ),
    "opgraph.tensor.random": (
        "RandomStream", "RandomVariable", "RandomGeneratorType", "normal", "uniform", "bernoulli", "binomial",
        "beta", "gamma", "exponential", "poisson", "categorical", "choice", "permutation", "integers",
        "multivariate_normal", "dirichlet", "multinomial", "laplace", "logistic", "lognormal", "cauchy",
        "halfcauchy", "halfnormal", "gumbel", "pareto", "weibull", "vonmises", "triangular", "wald", "t",
        "chisquare", "negative_binomial", "geometric", "hypergeometric", "betabinom", "standard_normal",
        "invgamma", "gengamma", "rayleigh", "truncexpon", "nbinom",
    ),
    "opgraph.tensor.special": (
        "softmax", "log_softmax", "logit", "expit", "sigmoid", "betaln", "beta", "poch", "factorial",
        "Softmax", "SoftmaxGrad", "LogSoftmax", "gammaln", "psi", "digamma", "erf", "erfc", "erfcx",
        "erfinv", "softplus", "log1mexp", "logsumexp", "polygamma", "tri_gamma", "gamma", "xlogx",
        "xlogy0",
    ),
    "opgraph.graph.basic": (
        "Apply", "Variable", "Constant", "Node", "AtomicVariable", "NominalVariable", "clone",
        "clone_get_equiv", "clone_node_and_cache", "equal_computations", "ancestors", "graph_inputs",
        "explicit_graph_inputs", "io_toposort", "toposort", "applys_between", "vars_between",
        "variables_between", "orphans_between", "walk", "general_toposort", "io_connection_pattern",
        "view_roots", "get_var_by_name", "is_in_ancestors", "list_of_nodes", "as_string",
        "truncated_graph_inputs", "dfs", "node_rewriter",
    ),
    "opgraph.graph.op": (
        "Op", "HasInnerGraph", "io_connection_pattern", "compute_test_value", "get_test_value",
        "get_test_values", "missing_test_message", "PureOp", "StorageMapType",
    ),
    "opgraph.graph.fg": (
        "FunctionGraph", "Output", "InconsistencyError", "AlreadyThere", "Feature",
    ),
    "opgraph.graph.type": (
        "Type", "NewTypeMeta", "HasDataType", "HasShape", "DataDomainType", "Props",
    ),
    "opgraph.graph.traversal": (
        "ancestors", "graph_inputs", "explicit_graph_inputs", "io_toposort", "toposort", "applys_between",
        "vars_between", "variables_between", "orphans_between", "walk", "general_toposort",
        "truncated_graph_inputs", "apply_ancestors", "variable_ancestors", "toposort_with_orderings",
        "get_var_by_name", "io_connection_pattern", "dfs",
    ),
    "opgraph.graph.replace": (
        "graph_replace", "clone_replace", "vectorize_graph", "vectorize_node", "_vectorize_node",
    ),
    "opgraph.graph.utils": (
        "MethodNotDefined", "MissingInputError", "InconsistencyError", "TestValueError", "Scratchpad",
        "ValidatingScratchpad", "add_tag_trace", "get_variable_trace_string", "MetaObject",
        "MetaType", "simple_extract_stack",
    ),
    "opgraph.compile.function": (
        "function", "function_dump", "pfunc", "rebuild_collect_shared", "construct_pfunc_ins_and_outs",
    ),
    "opgraph.compile.sharedvalue": (
        "SharedVariable", "shared", "shared_constructor", "collect_new_shareds", "Container",
    ),
    "opgraph.compile.io": (
        "In", "Out", "SymbolicInput", "SymbolicOutput",
    ),
    "opgraph.compile.builders": (
        "OpFromGraph", "infer_shape", "construct_nominal_fgraph",
    ),
    "opgraph.compile.profiling": (
        "ProfileStats", "ScanProfileStats", "print_global_stats", "register_profiler_printer",
    ),
    "opgraph.printing": (
        "dprint", "debugprint", "pydotprint", "pp", "pprint", "min_informative_str", "var_descriptor",
        "Print", "PatternPrinter", "FunctionPrinter", "OperatorPrinter", "default_printer",
        "_debugprint", "char_from_number",
    ),
    "opgraph.gradient": (
        "grad", "jacobian", "hessian", "Lop", "Rop", "pullback", "pushforward", "verify_grad",
        "consider_constant", "zero_grad", "disconnected_grad", "grad_not_implemented", "grad_undefined",
        "grad_clip", "grad_scale", "subgraph_grad", "DisconnectedInputError", "DisconnectedType",
        "GradientError", "NullTypeGradError", "numeric_grad", "undefined_grad", "hessian_vector_product",
        "ConsiderConstant", "GradClip", "GradScale", "UndefinedGrad", "DisconnectedGrad",
    ),
    "opgraph.link.numba": (
        "NumbaLinker", "numba_funcify", "numba_typify", "numba_njit",
    ),
    "opgraph.link.numba.dispatch": (
        "numba_funcify", "numba_typify", "numba_njit", "basic",
    ),
    "opgraph.configdefaults": (
        "config", "add_basic_configvars", "add_compile_configvars", "add_numba_configvars",
        "add_tensor_configvars", "add_metaopt_configvars", "add_scan_configvars",
        "add_vm_configvars", "add_experimental_configvars", "add_error_and_warning_configvars",
        "add_caching_dir_configvars", "add_multiprocessing_configvars", "add_optimizer_configvars",
        "add_testvalue_and_checking_configvars",
    ),
    "opgraph.graph.rewriting.basic": (
        "FromFunctionGraphRewriter", "FromFunctionNodeRewriter", "MergeFeature", "MetaNodeRewriter",
        "DispatchingFeature", "NodeProcessingGraphRewriter", "OpKeyGraphRewriter", "ChangeTracker",
        "pre_greedy_node_rewriter", "pre_constant_merge", "check_stack_trace", "CheckStackTraceFeature",
        "inherit_stack_trace", "OpToRewriterTracker",
    ),
    "opgraph.graph.rewriting.db": ("ProxyDB", "LocalGroupDB", "TopoDB"),
    "opgraph.graph.rewriting.utils": ("is_same_graph", "is_same_graph_with_merge", "get_clients_at_depth"),
    "opgraph.tensor.rewriting.basic": (
        "register_useless", "register_uncanonicalize", "register_specialize_device", "register_infer_shape",
        "broadcasted_by", "encompasses_broadcastable", "alloc_like", "local_useless_elemwise",
        "local_fill_sink", "local_upcast_elemwise_constant_inputs",
    ),
    "opgraph.tensor.rewriting.math": (
        "AlgebraicCanonizer", "local_add_canonizer", "local_mul_canonizer", "local_greedy_distributor",
        "local_log1p", "local_neg_to_mul", "local_exp_log", "local_log_exp",
    ),
    "opgraph.compile.mode": (
        "OPT_FAST_RUN", "OPT_FAST_COMPILE", "OPT_NONE", "OPT_MERGE", "OPT_STABILIZE", "register_mode",
        "register_linker", "register_optimizer", "predefined_linkers", "predefined_optimizers",
        "AddDestroyHandler", "PrintCurrentFunctionGraph", "instantiated_default_mode",
    ),
}

# The packages re-export their modules' names (PyTensor's ``pt.<name>`` is any of them).
PYTENSOR_NAMES["opgraph.tensor"] = tuple(dict.fromkeys(
    n for sub in ("basic", "math", "elemwise", "shape", "subtensor", "extra_ops", "type", "variable", "sort",
                  "blockwise") for n in PYTENSOR_NAMES[f"opgraph.tensor.{sub}"]))
PYTENSOR_NAMES["opgraph.graph"] = tuple(dict.fromkeys(
    [n for sub in ("basic", "op", "fg", "type", "traversal", "replace") for n in PYTENSOR_NAMES[f"opgraph.graph.{sub}"]]
    + ["node_rewriter", "rewrite_graph", "graph_rewriter", "NodeRewriter", "GraphRewriter"]))
PYTENSOR_NAMES["opgraph.compile"] = tuple(dict.fromkeys(
    [n for sub in ("function", "sharedvalue", "io", "builders", "profiling") for n in PYTENSOR_NAMES[f"opgraph.compile.{sub}"]]
    + ["Mode", "get_mode", "FAST_RUN", "FAST_COMPILE", "optdb", "DebugMode", "NanGuardMode", "ProfileStats",
       "deep_copy_op", "ViewOp", "view_op", "DeepCopyOp", "OutputGuard", "register_linker", "register_mode",
       "predefined_linkers", "predefined_modes", "predefined_optimizers"]))

# Where a PyTensor name opgraph implements under another path is found (one
# definition per name: these are the packages that re-export the engine).
FALLBACK = {
    "opgraph": ("opgraph.compile.builders", "opgraph.compile", "opgraph.graph", "opgraph.printing",
                "opgraph.tensor.basic", "opgraph.scan.views"),
    "opgraph.scalar": ("opgraph.scalar",),
    "opgraph.scalar.basic": ("opgraph.scalar",),
    "opgraph.scalar.math": ("opgraph.scalar",),
    "opgraph.graph": ("opgraph.graph.fg", "opgraph.graph.rewriting", "opgraph.kernel_core.vectorize"),
    "opgraph.compile": ("opgraph.compile.mode",),
    "opgraph.graph.basic": ("opgraph.graph.traversal", "opgraph.graph.fg"),
    "opgraph.graph.traversal": ("opgraph.graph",),
    "opgraph.graph.replace": ("opgraph.kernel_core.vectorize",),
    "opgraph.graph.utils": ("opgraph.graph.fg", "opgraph.compile"),
    "opgraph.graph.fg": ("opgraph.kernel_core.graph.fgraph",),
    "opgraph.compile.function": ("opgraph.compile",),
    "opgraph.compile.sharedvalue": ("opgraph.compile",),
    "opgraph.gradient": ("opgraph.kernel_core.gradient",),
    "opgraph.link.numba": ("opgraph.link.numba.dispatch",),
    "opgraph.tensor.nlinalg": ("opgraph.tensor.linalg", "opgraph.tensor"),
    "opgraph.tensor.slinalg": ("opgraph.tensor.linalg", "opgraph.tensor"),
    "opgraph.tensor.sort": ("opgraph.tensor",),
    "opgraph.tensor.special": ("opgraph.tensor",),
    "opgraph.tensor.random": (),   # distributions share names with functions (gamma, beta): no fallback
    "opgraph.tensor.type": ("opgraph.tensor",),
}
for _path in PYTENSOR_NAMES:
    if _path.startswith("opgraph.tensor.") and _path not in FALLBACK:
        FALLBACK[_path] = ("opgraph.tensor", "opgraph.tensor.linalg", "opgraph.tensor.special")

# Public modules whose whole engine room does not exist yet: any name raises.
UNBUILT = {
    "opgraph.sparse": "sparse tensors (pytensor.sparse)",
}


def _not_implemented(module, name):
    return NotImplementedInOpgraph(
        f"{module}.{name} (a PyTensor name) is not implemented in opgraph yet", name=name, path=None)


def resolve(module, name):
    """The object PyTensor's ``module.name`` is in opgraph, or NotImplementedInOpgraph."""
    for other in FALLBACK.get(module, ()):
        if other == module:
            continue
        try:
            obj = getattr(importlib.import_module(other), name, _MISSING)
        except NotImplementedInOpgraph:   # known there too, and missing there too
            continue
        if obj is not _MISSING:
            return obj
    raise _not_implemented(module, name)


_MISSING = object()


def missing_names(module):
    """The module ``__getattr__`` of a public module (see the module docstring)."""
    known = frozenset(PYTENSOR_NAMES.get(module, ()))

    def __getattr__(name):
        if name in known:
            if _is_submodule(module, name):
                return importlib.import_module(f"{module}.{name}")
            return resolve(module, name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def _is_submodule(module, name):
    return name in _submodules(module)


@functools.lru_cache(maxsize=None)
def _submodules(module):
    """The submodule names of a package (listed once: lookups of missing names stay cheap)."""
    import pkgutil   # only when a missing name is looked up

    package = importlib.import_module(module)
    return frozenset(m.name for m in pkgutil.iter_modules(getattr(package, "__path__", ())))


def known_resolvable(module):
    """PyTensor's names at ``module`` that resolve in opgraph (an ``__all__`` for the
    public modules that have no engine module of their own, e.g. ``tensor.special``)."""
    names = []
    for name in PYTENSOR_NAMES[module]:
        try:
            resolve(module, name)
        except NotImplementedInOpgraph:
            continue
        names.append(name)
    return names


def unbuilt_feature(module):
    """The module ``__getattr__`` of a public module whose feature is not built yet."""
    # A module whose feature has since been built keeps working (with a generic
    # message) until its stub is replaced by the re-export.
    feature = UNBUILT.get(module, "this feature")

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        raise NotImplementedInOpgraph(
            f"{module}.{name}: {feature} is not implemented in opgraph yet", name=name, path=None)

    return __getattr__
