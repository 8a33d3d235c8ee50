"""Public compilation API (``opgraph.compile``): mirrors ``pytensor.compile``."""

from opgraph.kernel_core.compile import (  # noqa: F401
    Function,
    FunctionMaker,
    In,
    MissingInputError,
    Mode,
    Out,
    ProfileStats,
    SharedVariable,
    UnusedInputError,
    function,
    get_mode,
    predefined_modes,
    shared,
)
from opgraph.kernel_core.compile.vm import VMLinker  # noqa: F401
