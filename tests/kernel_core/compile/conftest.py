"""Compile tests exercise function() semantics; run them on the Python VM by default
(tests that need the fast_run pipeline pass ``mode=`` explicitly)."""

import pytest

import opgraph


@pytest.fixture(autouse=True)
def _python_vm_default_mode():
    with opgraph.config.change(mode="FAST_COMPILE"):
        yield
