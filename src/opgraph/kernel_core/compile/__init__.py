"""Compilation: function(), In/Out, shared variables, modes, the Python VM, profiling."""

from opgraph.kernel_core.compile.function import function
from opgraph.kernel_core.compile.function_type import Function, FunctionMaker, MissingInputError, UnusedInputError
from opgraph.kernel_core.compile.io import In, Out
from opgraph.kernel_core.compile.mode import Mode, get_default_mode, get_mode, predefined_modes
from opgraph.kernel_core.compile.profiling import ProfileStats
from opgraph.kernel_core.compile.shared import SharedVariable, TensorSharedVariable, shared, shared_constructor
from opgraph.kernel_core.compile.vm import VMLinker

__all__ = ["function", "Function", "FunctionMaker", "MissingInputError", "UnusedInputError", "In", "Out",
           "Mode", "get_default_mode", "get_mode", "predefined_modes", "ProfileStats", "SharedVariable",
           "TensorSharedVariable",
           "shared", "shared_constructor", "VMLinker"]
