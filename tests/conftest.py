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
