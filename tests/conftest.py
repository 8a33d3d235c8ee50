"""Shared test settings: hypothesis profile, a per-session Numba cache directory."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "opgraph", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("opgraph")

# Compiled-code cache shared by all tests of a run (and across runs on one machine).
os.environ.setdefault("OPGRAPH_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "opgraph-tests"))
