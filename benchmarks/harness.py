"""What the benchmarks share: a case timed in a fresh process, peak memory, a table.

A benchmark that isolates its cases runs each in a fresh ``python -m
benchmarks.NAME --worker JSON`` (:func:`run_worker`), so the case's compile and
peak memory are its own; the module's ``__main__`` hands ``--worker`` to its
timing function and anything else to its command line (:func:`worker_or_cli`).
The worker prints its result as JSON on its last stdout line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rlfa.study import cli

STDERR_TAIL = 3000  # characters of a failed child's stderr kept in the error


def run_module(module: str, args: Sequence[str], cpu_devices: int | None = None,
               what: str | None = None) -> subprocess.CompletedProcess:
    """``python -m module args...`` in a fresh process; its output, captured as text.

    Args:
      module: the dotted module to run, e.g. ``"benchmarks.dqn"``.
      args: its command-line arguments.
      cpu_devices: if given, the child lays out this many CPU devices
        (``RLFA_CPU_DEVICES``, read by the package's start-up); else as this process.
      what: names the run in the error (default: the command line).

    Raises:
      RuntimeError: the child exited non-zero; the message ends with its stderr's tail.
    """
    env = dict(os.environ)
    if cpu_devices is not None:
        env["RLFA_CPU_DEVICES"] = str(cpu_devices)
    out = subprocess.run([sys.executable, "-m", module, *args], env=env, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        what = what or f"python -m {module} {' '.join(args)}"
        raise RuntimeError(f"{what} failed (exit {out.returncode}):\n"
                           f"{out.stderr[-STDERR_TAIL:]}")
    return out


def run_worker(module: str, case: dict, cpu_devices: int | None = None) -> dict:
    """Time one case in a fresh ``python -m module --worker JSON``; the dict it printed last."""
    what = f"{module} case {case}"
    out = run_module(module, ["--worker", json.dumps(case)], cpu_devices, what)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{what} printed no result:\n{out.stderr[-STDERR_TAIL:]}")
    return json.loads(lines[-1])


def worker_or_cli(worker: Callable[[dict], dict], config_type: type,
                  main: Callable[[Any], Any]) -> None:
    """A benchmark's ``__main__``: ``--worker JSON`` times one case and prints its result as
    JSON (for :func:`run_worker`); any other command line goes to :func:`rlfa.study.cli`."""
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
    else:
        cli(config_type, main)


def peak_rss_mb() -> float:
    """This process's peak resident set so far (``ru_maxrss``), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a fixed-width table.

    Attributes:
      title: the heading.
      width: characters, heading and cells alike (padding included).
      value: the row's key, or a function of the row; None (or "") leaves the cell blank.
      spec: the value's format spec after the width, e.g. ``".2f"``.
      align: ``">"`` (right) or ``"<"`` (left), heading and cells alike.
    """

    title: str
    width: int
    value: str | Callable[[dict], Any]
    spec: str = ""
    align: str = ">"

    def heading(self) -> str:
        return f"{self.title:{self.align}{self.width}}"

    def cell(self, row: dict) -> str:
        v = row[self.value] if isinstance(self.value, str) else self.value(row)
        if v is None or v == "":
            return f"{'':{self.align}{self.width}}"
        return f"{v:{self.align}{self.width}{self.spec}}"


def table_header(columns: Sequence[Column], sep: str = "") -> str:
    """The headings, and a rule of dashes as long as them."""
    head = sep.join(c.heading() for c in columns)
    return f"{head}\n{'-' * len(head)}"


def table_row(row: dict, columns: Sequence[Column], sep: str = "") -> str:
    """One row's cells, each ``column.width`` wide, joined by ``sep``."""
    return sep.join(c.cell(row) for c in columns)


def table(rows: Sequence[dict], columns: Sequence[Column], sep: str = "") -> str:
    """The header and every row."""
    return "\n".join([table_header(columns, sep), *(table_row(r, columns, sep) for r in rows)])
