"""Test-wide JAX setup: deterministic CPU math (see rlfa.devices.configure_cpu).

Importing rlfa.runner does not start JAX's backend, so the flag is set in time;
subprocesses started by tests inherit it through the environment.
"""

import os

from rlfa.devices import deterministic_cpu_math

deterministic_cpu_math()
os.environ.setdefault("MPLBACKEND", "Agg")
