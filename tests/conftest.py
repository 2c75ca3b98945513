"""Test-wide JAX setup: deterministic CPU math (see rlfa.devices.configure_cpu) and one
persistent compilation cache for the whole session.

Importing rlfa.devices does not start JAX's backend, so the flag is set in time;
subprocesses started by tests (and pytest-xdist's workers) inherit both settings
through the environment. The suite compiles the same programs many times (a study
in-process, then as a user runs it in a subprocess, a run then its resumption):
the cache compiles each once. A cached executable is the compiled program itself,
so no number changes; traces (what "compiles once" tests count) still happen.
"""

import atexit
import os
import shutil
import tempfile

if "JAX_COMPILATION_CACHE_DIR" not in os.environ:  # the first process of the session
    _cache = tempfile.mkdtemp(prefix="rlfa-test-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

from rlfa.devices import deterministic_cpu_math  # noqa: E402  (after the cache's settings)

deterministic_cpu_math()
os.environ.setdefault("MPLBACKEND", "Agg")


# The suite's longest tests (tens of seconds each: a study or notebook in a subprocess),
# started first: with xdist's work stealing the short ones then fill in around them,
# instead of one long test starting last while the other workers sit idle.
LONG_FIRST = ("tests/test_notebooks.py::test_notebook_runs_top_to_bottom",
              "tests/test_cli.py::test_quick_run_from_a_fresh_directory",
              "tests/test_cli.py::test_dqn_sigint", "tests/test_cli.py::test_random_walk_sigterm")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))  # stable: else as is
