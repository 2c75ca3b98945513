"""What the benchmarks share: options, cases in fresh processes, peers, tables, results.

Options: every benchmark's config subclasses :class:`BenchmarkOptions` (``--quick``,
``--out``), through :class:`DevicesOptions` (adds ``--num-devices``) where its runs
spread over devices, or :class:`IsolatedOptions` (adds ``--isolate``) where its cases
run in fresh processes.

Fresh processes: a benchmark that isolates its cases runs each in a fresh ``python -m
benchmarks.NAME --worker JSON`` (:func:`run_worker`), so the case's compile and peak
memory are its own; the module's ``__main__`` hands ``--worker`` to its timing function
and anything else to its command line (:func:`worker_or_cli`). The worker prints its
result as JSON on its last stdout line.

Timing: :func:`bare_update_us` times an agent's update alone in a compiled loop (the
floor a training loop's update is compared with); :func:`run_steady` times a program's
steady state, its first chunk dropped; :func:`time_cases` runs a benchmark's cases,
printing each row as it comes.

Peers: a reference implementation runs its own, unmodified script in its own Python
(with its own packages) through a small driver, ``python -c DRIVER JSON``, that prints
its result as JSON on its last stdout line (:func:`run_peer`). rlfa's cases and the
peer's run interleaved in rounds (:func:`interleaved_rounds`) and are compared within a
round (:func:`paired_median`), so a load that drifts over minutes on a shared machine
slows both sides of a ratio alike.

Results: every benchmark prints its cases through one fixed-width table
(:class:`Column`, :func:`table`) and writes ``<out>/benchmark_NAME/<timestamp>/``
through :func:`write_results`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax

from rlfa import config as cfg
from rlfa import files, runner
from rlfa.study import absolute_paths, cli
from rlfa.types import Agent

STDERR_TAIL = 3000  # characters of a failed child's stderr kept in the error


# --- options --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BenchmarkOptions:
    """Options every benchmark shares."""

    quick: bool = False
    """A tiny workload that runs in seconds, for tests and smoke checks (what it runs: see
    the description above)."""
    out: str = "runs"
    """Root directory for results."""

    def __post_init__(self):
        absolute_paths(self, "out")

    def check_counts(self, *names: str) -> None:
        """Raise unless each named field is an integer >= 1 (each entry, for a tuple)."""
        for name in names:
            value = getattr(self, name)
            for n in value if isinstance(value, tuple) else (value,):
                cfg.check_positive_int(name, n)

    def check_choices(self, name: str, choices: Sequence[str]) -> None:
        """Raise unless the tuple field ``name`` is non-empty and each entry is one of
        ``choices``."""
        cfg.check_nonempty(name, getattr(self, name))
        for value in getattr(self, name):
            cfg.check_choice(name, value, choices)

    def check_chunks(self, steps: str, chunks: str) -> None:
        """Raise unless the ``steps`` field splits into the ``chunks`` field's count of equal
        chunks, at least 2 (:func:`run_steady` drops the first)."""
        n = getattr(self, chunks)
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"{chunks}={n!r} is invalid: must be an integer >= 2 (the first "
                             f"chunk is dropped from the timing).")
        if getattr(self, steps) % n:
            raise ValueError(f"{steps}={getattr(self, steps)} is invalid: must be a multiple "
                             f"of {chunks}={n}.")

    def check_peer(self, python: str, script: str, peer: str) -> None:
        """Make a peer's two path fields absolute and check them: each an existing file,
        both given (to time ``peer``) or neither (rlfa alone)."""
        absolute_paths(self, python, script)
        if (getattr(self, python) is None) != (getattr(self, script) is None):
            raise ValueError(f"{python} and {script} are invalid: give both (to time {peer}) "
                             "or neither (rlfa only).")
        for name in (python, script):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}={path!r} is invalid: no such file.")

    def effective(self) -> BenchmarkOptions:
        """The settings actually run: a benchmark whose ``--quick`` shrinks its workload
        returns the shrunk copy here."""
        return self


@dataclasses.dataclass(frozen=True)
class DevicesOptions(BenchmarkOptions):
    """The options of a benchmark whose runs spread over the local devices."""

    num_devices: int | None = None
    """Local devices to spread the runs over (default: all; one per core on CPU)."""

    def __post_init__(self):
        super().__post_init__()
        if self.num_devices is not None:
            cfg.check_positive_int("num_devices", self.num_devices)


@dataclasses.dataclass(frozen=True)
class IsolatedOptions(BenchmarkOptions):
    """The options of a benchmark that times each case in a fresh process."""

    isolate: bool = True
    """Run every case in a fresh process (its own compile, peak memory and environment
    variables); --quick runs them in this process."""

    @property
    def isolated(self) -> bool:
        """Whether cases run in fresh processes: ``--quick`` checks that the benchmark runs,
        and a fresh process per case would dwarf its work."""
        return self.isolate and not self.quick


# --- fresh processes ------------------------------------------------------------------------


def run_command(argv: Sequence[str], what: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``argv`` in a child process, its output captured as text.

    Args:
      argv: the command line.
      what: names the command in the error.
      env: the child's environment (default: this process's).

    Raises:
      RuntimeError: the child exited non-zero; the message ends with its stderr's tail.
    """
    out = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {out.returncode}):\n"
                           f"{out.stderr[-STDERR_TAIL:]}")
    return out


def last_json(out: subprocess.CompletedProcess, what: str) -> dict:
    """The JSON object a child printed on its last stdout line."""
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{what} printed no result:\n{out.stderr[-STDERR_TAIL:]}")
    return json.loads(lines[-1])


def run_module(module: str, args: Sequence[str], cpu_devices: int | None = None,
               what: str | None = None) -> subprocess.CompletedProcess:
    """``python -m module args...`` in a fresh process (see :func:`run_command`).

    Args:
      module: the dotted module to run, e.g. ``"benchmarks.dqn"``.
      args: its command-line arguments.
      cpu_devices: if given, the child lays out this many CPU devices
        (``RLFA_CPU_DEVICES``, read by the package's start-up); else as this process.
      what: names the run in the error (default: the command line).
    """
    env = dict(os.environ)
    if cpu_devices is not None:
        env["RLFA_CPU_DEVICES"] = str(cpu_devices)
    return run_command([sys.executable, "-m", module, *args],
                       what or f"python -m {module} {' '.join(args)}", env)


def run_worker(module: str, case: dict, cpu_devices: int | None = None) -> dict:
    """Time one case in a fresh ``python -m module --worker JSON``; the dict it printed last."""
    what = f"{module} case {case}"
    return last_json(run_module(module, ["--worker", json.dumps(case)], cpu_devices, what), what)


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


ISAS = ("capped", "fast")  # XLA's CPU instruction set: capped at AVX (rlfa's default), or not


def isa_in_effect() -> str:
    """``capped`` if XLA's CPU instruction set is capped in this process, else ``fast``."""
    return "capped" if "xla_cpu_max_isa" in os.environ.get("XLA_FLAGS", "") else "fast"


@contextlib.contextmanager
def isa_environment(isa: str) -> Iterator[None]:
    """This process's environment, for the duration, set so a child gets ``isa``: the cap
    (which this process may have put in ``XLA_FLAGS``) removed and ``RLFA_CPU_FAST=1`` for
    ``fast``; ``RLFA_CPU_FAST`` unset for ``capped`` (the child's start-up caps it)."""
    saved = {k: os.environ.get(k) for k in ("XLA_FLAGS", "RLFA_CPU_FAST")}
    os.environ.pop("RLFA_CPU_FAST", None)
    if isa == "fast":
        flags = os.environ.get("XLA_FLAGS", "").split()
        os.environ["XLA_FLAGS"] = " ".join(f for f in flags if "xla_cpu_max_isa" not in f)
        os.environ["RLFA_CPU_FAST"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_isa(case: dict) -> None:
    """Raise unless this process runs with the ISA the case asks for (``case["isa"]``)."""
    if case["isa"] != isa_in_effect():
        raise RuntimeError(f"case asks for isa={case['isa']!r} but XLA_FLAGS="
                           f"{os.environ.get('XLA_FLAGS', '')!r} gives {isa_in_effect()!r}.")


# --- timing ---------------------------------------------------------------------------------


def bare_update_us(agent: Agent, hparams: Any, state: Any, batches: Any, repeats: int) -> float:
    """Microseconds per jitted ``agent.update``, alone in a ``lax.fori_loop``: best of 3.

    Iteration ``i`` takes batch ``i mod num_batches``: with one fixed batch XLA hoists
    the target network's forward pass (loop-invariant) out of the loop, and the "bare"
    update would skip work the real one does.

    Args:
      agent: the agent whose ``update(state, hparams, batch) -> (state, metrics)`` is timed.
      hparams: its traced hyperparameters.
      state: its state, as ``agent.init`` returns it.
      batches: a pytree of mini-batches, leading axis ``num_batches``.
      repeats: updates per timed loop (the compile and one warm loop come first).
    """
    num_batches = jax.tree.leaves(batches)[0].shape[0]

    def one_update(i, s):
        batch = jax.tree.map(lambda x: x[i % num_batches], batches)
        return agent.update(s, hparams, batch)[0]

    loop = jax.jit(lambda s: jax.lax.fori_loop(0, repeats, one_update, s)).lower(state).compile()
    jax.block_until_ready(loop(state))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(loop(state))
        best = min(best, time.perf_counter() - start)
    return best / repeats * 1e6


def run_steady(program: Any, hparams: Any, num_seeds: int, steps: int, chunks: int,
               vectorize: bool = True) -> tuple[runner.Results, float]:
    """Run ``program`` (one point ``hparams``, ``num_seeds`` seeds from seed 0, ``vectorize``
    as :func:`rlfa.runner.run`) for ``steps`` program steps per seed in ``chunks`` equal
    compiled chunks, one logged point each.

    Returns the results and the seconds of every chunk but the first: the first pays
    for first-touch of memory (a replay's pages) and cold caches, so the rest is the
    steady state. ``steps`` must be a multiple of ``chunks``, and ``chunks >= 2``.
    """
    stamps = []
    results = runner.run(program, runner.stack_hparams([hparams]), seed=0, num_seeds=num_seeds,
                         num_logs=chunks, steps_per_log=steps // chunks, logs_per_chunk=1,
                         vectorize=vectorize, progress=False,
                         on_chunk=lambda *_: stamps.append(time.perf_counter()))
    return results, stamps[-1] - stamps[0]


def time_cases(cases: Iterable[dict], run: Callable[[dict], dict],
               columns: Sequence[Column], sep: str = "") -> list[dict]:
    """``run`` every case in order; the table's header first, then each result's row as it
    comes (so a long benchmark shows its progress)."""
    print(table_header(columns, sep), flush=True)
    rows = []
    for case in cases:
        rows.append(run(case))
        print(table_row(rows[-1], columns, sep), flush=True)
    return rows


# --- peers ----------------------------------------------------------------------------------


def run_peer(python: str, driver: str, spec: dict, what: str,
             env: dict[str, str] | None = None) -> dict:
    """Run a peer's driver in the peer's own Python: ``python -c driver JSON(spec)``.

    The driver imports the peer's script from its path and times it; it prints its
    result as JSON on its last stdout line, which is returned.

    Args:
      python: the peer's interpreter (with the peer's packages installed).
      driver: Python source; ``sys.argv[1]`` is ``spec`` as JSON.
      spec: what the driver needs (the script's path, the workload, seeds, threads).
      what: names the peer in the error.
      env: variables set for the driver on top of this process's environment.

    Raises:
      RuntimeError: the driver exited non-zero or printed nothing.
    """
    out = run_command([python, "-c", driver, json.dumps(spec)], what,
                      {**os.environ, **(env or {})})
    return last_json(out, what)


def run_case_with_peers(case: dict, module: str, isolate: bool,
                        run_here: Callable[[dict], dict],
                        peers: dict[str, Callable[[dict], dict]]) -> dict:
    """Time one case of a benchmark beside peers: a peer's (``case["impl"]`` in ``peers``)
    through its function; rlfa's in a fresh ``python -m module --worker`` with its XLA
    ISA (``case["isa"]``) set (``isolate``), or by ``run_here`` in this process."""
    if case["impl"] in peers:
        return peers[case["impl"]](case)
    if not isolate:
        return run_here(case)
    with isa_environment(case["isa"]):
        return run_worker(module, case)


def time_rounds_and_profile(rounds: Sequence[Sequence[dict]], profile: Sequence[dict],
                            module: str, isolate: bool, run_here: Callable[[dict], dict],
                            peers: dict[str, Callable[[dict], dict]],
                            columns: Sequence[Column]) -> tuple[list[dict], list[dict]]:
    """Time every round's cases, then the profile's (each with :func:`run_case_with_peers`),
    printing the table as they come: ``(the rounds' rows, the profile's rows)``."""
    timed = time_cases([*(c for r in rounds for c in r), *profile],
                       lambda case: run_case_with_peers(case, module, isolate, run_here, peers),
                       columns, " ")
    return timed[:len(timed) - len(profile)], timed[len(timed) - len(profile):]


def interleaved_rounds(ours: Sequence[dict], peers: Sequence[dict],
                       repeats: int) -> list[list[dict]]:
    """``repeats`` rounds, each every case once, tagged with its ``round``: a peer's case
    and ours alternate while both last, then the rest of either, in order."""
    order = [c for pair in zip(peers, ours) for c in pair]
    order += [*ours[len(peers):], *peers[len(ours):]]
    return [[dict(c, round=r) for c in order] for r in range(repeats)]


def spread(rows: Sequence[dict], label: Callable[[dict], str],
           value: Callable[[dict], float]) -> dict[str, dict[str, float]]:
    """Per case name (``label``, in order of first appearance): the ``median``, ``min``
    and ``max`` of ``value`` over its rows, and their count ``n``."""
    out = {}
    for name in dict.fromkeys(map(label, rows)):
        values = [value(r) for r in rows if label(r) == name]
        out[name] = {"median": statistics.median(values), "min": min(values),
                     "max": max(values), "n": len(values)}
    return out


def paired_median(rows: Sequence[dict], label: Callable[[dict], str], a: str, b: str,
                  ratio: Callable[[dict, dict], float]) -> float | None:
    """The median over rounds of ``ratio(a's row, b's row)``, each ratio taken within one
    round (rows carry their ``round``; ``label`` names a row's case), so a load that drifts
    between rounds cancels in each ratio; None if no round has both cases."""
    by_round = {(label(r), r["round"]): r for r in rows}
    ratios = [ratio(by_round[a, k], by_round[b, k]) for k in dict.fromkeys(r["round"] for r in rows)
              if (a, k) in by_round and (b, k) in by_round]
    return statistics.median(ratios) if ratios else None


def speedups(rows: Sequence[dict], label: Callable[[dict], str],
             rate: Callable[[dict], float]) -> dict[str, float | None]:
    """``{"a / b": paired median of rate(a) / rate(b)}`` for every rlfa case ``a``
    (``impl`` "rlfa") and every peer's case ``b`` (any other ``impl``)."""
    names = {label(r): r["impl"] == "rlfa" for r in rows}
    return {f"{a} / {b}": paired_median(rows, label, a, b, lambda x, y: rate(x) / rate(y))
            for a, ours in names.items() if ours for b, peer in names.items() if not peer}


def seeds_time_ratios(rows: Sequence[dict], label: Callable[[dict], str],
                      rate: Callable[[dict], float]) -> dict[str, float]:
    """``{"n seeds / 1 seed": ...}``: for every rlfa case of ``seeds`` n > 1, the paired
    median of its time for the same work per seed over the same case's at one seed
    (``rate`` is per seed: ``rate(one) / rate(n)``); cases without a one-seed twin are
    left out."""
    out = {}
    for r in rows:
        many, one = label(r), label(dict(r, seeds=1))
        if r["impl"] == "rlfa" and r["seeds"] > 1 and f"{many} / {one}" not in out:
            ratio = paired_median(rows, label, many, one, lambda x, y: rate(y) / rate(x))
            if ratio is not None:
                out[f"{many} / {one}"] = ratio
    return out


# --- results --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a fixed-width table.

    Attributes:
      title: the heading.
      width: characters, heading and cells alike (padding included).
      value: the row's key, or a function of the row; None, "" or a missing key leaves
        the cell blank.
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
        v = row.get(self.value) if isinstance(self.value, str) else self.value(row)
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


def table(rows: Iterable[dict], columns: Sequence[Column], sep: str = "") -> str:
    """The header and every row."""
    return "\n".join([table_header(columns, sep), *(table_row(r, columns, sep) for r in rows)])


def metric_rows(rows: Sequence[dict], lead: Sequence[str] = ()) -> list[dict]:
    """``metrics.csv`` rows: every row with the same columns, None where a row has none
    (cases of different kinds measure different things), ``lead`` first, then every
    other key in order of first appearance."""
    columns = list(dict.fromkeys([*lead, *(k for r in rows for k in r)]))
    return [{k: r.get(k) for k in columns} for r in rows]


def write_results(name: str, config: BenchmarkOptions, summary: dict, rows: Sequence[dict],
                  figure: Any, lead: Sequence[str] = ()) -> Path:
    """Write a benchmark's run directory and print ``results: DIR`` (its last line).

    ``<config.out>/benchmark_<name>/<timestamp>/`` holds ``config.json`` (``config``),
    ``metrics.csv`` (``rows`` through :func:`metric_rows` with ``lead``),
    ``summary.json`` (``summary``) and ``figure.png`` (``figure``, a matplotlib figure).
    """
    path = files.write_run(f"benchmark_{name}", config, summary, metric_rows(rows, lead),
                           {"figure": figure}, root=config.out)
    print(f"results: {path}", flush=True)
    return path
