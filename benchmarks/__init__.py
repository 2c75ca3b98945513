"""Benchmarks, one module each: ``python -m benchmarks.NAME --help``.

``random_walk``, ``mountain_car``, ``book_figures``, ``backprop``, ``dqn``, ``scaling``
and ``minatar`` time rlfa's workloads (compile time apart from run time) and write
``runs/benchmark_NAME/<timestamp>/``. ``harness`` holds what they share: the common
options, a case timed in a fresh process, a reference implementation (a peer) run
beside rlfa in rounds, a bare update's time, one fixed-width table and the run
directory.

Run as ``python -m benchmarks.NAME``, this package first lays out the devices
(one per CPU core) and joins a multi-process run if asked to, exactly as
``experiments`` does (both call :func:`rlfa.devices.start`), because
importing gymnax starts JAX's backend and both must happen before that.
"""

import sys

if sys.argv[:1] == ["-m"]:  # Python sets argv[0] to "-m" while it locates the module
    from rlfa.devices import start

    start(sys.argv[1:])
