"""Runnable studies, one module each: ``python -m experiments.NAME --help``.

Run as ``python -m experiments.NAME``, this package first lays out the devices
(one per CPU core) and joins a multi-process run if asked to, because importing
gymnax starts JAX's backend and both must happen before that.
"""

import sys

if sys.argv[:1] == ["-m"]:  # Python sets argv[0] to "-m" while it locates the module
    from rlfa.devices import start

    start(sys.argv[1:])
