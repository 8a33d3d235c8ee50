"""The disk cache's key records numba's code-generation settings (cache.codegen_settings):
a process at another optimisation level gets other entries."""

import os
import subprocess
import sys

_PRINT_KEY = ("from opgraph.kernel_core.backends.numba import cache; "
              "print(cache.codegen_settings()); print(cache.source_key('def f(x):\\n    return x\\n'))")


def _key(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", _PRINT_KEY], env=full, capture_output=True, text=True, check=True)
    settings, key = out.stdout.split()
    return settings, key


def test_optimisation_level_and_boundscheck_are_part_of_the_key():
    default = _key()
    assert "OPT=_OptLevel(3)" in default[0]
    assert _key(NUMBA_OPT="3") == default      # the default, spelled out: the same entries
    at_o0 = _key(NUMBA_OPT="0")
    assert "OPT=_OptLevel(0)" in at_o0[0] and at_o0[1] != default[1]
    checked = _key(NUMBA_BOUNDSCHECK="1")
    assert "BOUNDSCHECK=1" in checked[0] and checked[1] not in (default[1], at_o0[1])
