"""The runner's progress bar (in the study's unit, with a postfix) and its host-side hooks.

A tiny deterministic program: x grows by ``rate`` each step, so after logged point t
(1-based, 4 steps each) x is ``4 t rate``; with rates 1 and 2 the mean over the grid and
seeds of the latest point is ``6 t``. tqdm writes to stderr, captured by capsys.
"""

from __future__ import annotations

import os
import re
import signal
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import runner

NUM_LOGS, STEPS_PER_LOG, LOGS_PER_CHUNK = 6, 4, 2
LOG_X = 10 * np.arange(1, NUM_LOGS + 1)  # e.g. environment steps per seed at each point


class Rate(NamedTuple):
    rate: jax.Array


def program(finished=None):
    def step(carry, hp):
        return {"x": carry["x"] + hp.rate, "n": carry["n"] + 1}

    return runner.Program(lambda key, hp: {"x": jnp.float32(0.0), "n": jnp.int32(0)}, step,
                          lambda c, hp: {"x": c["x"], "pair": jnp.stack([c["x"], -c["x"]])},
                          finished=finished)


def run(**kwargs):
    hparams = runner.stack_hparams([Rate(1.0), Rate(2.0)])
    return runner.run(program(kwargs.pop("finished", None)), hparams, **{
        "seed": 0, "num_seeds": 3, "num_logs": NUM_LOGS, "steps_per_log": STEPS_PER_LOG,
        "logs_per_chunk": LOGS_PER_CHUNK, "progress": False, **kwargs})


def latest_mean(metrics):
    return {"latest": float(metrics["x"][..., -1].mean()), "points": metrics["x"].shape[2]}


def bar_states(text: str) -> list[str]:
    """Every state tqdm drew (it redraws a line after a carriage return)."""
    return [s.strip() for s in re.split(r"[\r\n]", text) if "|" in s]


def counts(states: list[str]) -> list[str]:
    return [re.search(r"\| (\S+/\S+) \[", s).group(1) for s in states]


def test_bar_counts_in_the_unit_and_shows_the_postfix(capsys):
    run(progress="demo", log_x=LOG_X, unit="env steps", postfix=latest_mean)
    states = bar_states(capsys.readouterr().err)
    assert counts(states)[0] == "0/60" and counts(states)[-1] == f"{LOG_X[-1]}/60"
    assert {"20/60", "40/60"} <= set(counts(states))  # one redraw per chunk
    assert all(s.startswith("demo:") for s in states)
    assert re.search(r"env steps/s, latest=36, points=6\]$", states[-1]), states[-1]
    assert "latest=12, points=2]" in " ".join(states)  # after the first chunk: 6 * 2


def test_large_counts_are_abbreviated_with_their_rate(capsys):
    run(progress=True, log_x=LOG_X * 1000, unit="env steps")
    last = bar_states(capsys.readouterr().err)[-1]
    assert counts([last]) == ["60.0k/60.0k"] and re.search(r"\d[kM]? env steps/s\]$", last)


def test_default_bar_counts_chunks_and_numbers_do_not_change(capsys):
    plain = run(progress=True)
    states = bar_states(capsys.readouterr().err)
    assert counts(states)[0] == "0/3" and counts(states)[-1] == "3/3"
    assert "it/s" in states[-1] and "env steps" not in states[-1]
    seen = []
    hooked = run(progress=True, log_x=LOG_X, unit="env steps", postfix=latest_mean,
                 derive=lambda m: {"twice": 2 * m["x"]}, logger=lambda *a: seen.append(a))
    for k in plain.metrics:
        np.testing.assert_array_equal(plain.metrics[k], hooked.metrics[k])
    assert set(hooked.metrics) == {"x", "pair"}  # derived metrics are not results
    assert len(seen) == NUM_LOGS // LOGS_PER_CHUNK


def test_unit_alone_counts_program_steps(capsys):
    run(progress=True, unit="updates")
    last = bar_states(capsys.readouterr().err)[-1]
    assert counts([last]) == ["24/24"] and "updates/s" in last


def test_logger_gets_each_chunks_new_points_laid_out_grid_seed_log():
    calls = []
    res = run(log_x=LOG_X, unit="env steps", derive=lambda m: {"twice": 2 * m["x"]},
              logger=lambda x, metrics, unit: calls.append((x, metrics, unit)))
    assert [list(x) for x, _, _ in calls] == [[10, 20], [30, 40], [50, 60]]
    assert all(unit == "env steps" for *_, unit in calls)
    x = np.concatenate([m["x"] for _, m, _ in calls], axis=2)
    np.testing.assert_array_equal(x, res.metrics["x"])  # [grid, seed, log]
    np.testing.assert_array_equal(np.concatenate([m["twice"] for _, m, _ in calls], axis=2),
                                  2 * res.metrics["x"])
    assert calls[0][1]["pair"].shape == (2, 3, 2, 2) and "diverged" not in calls[0][1]


def test_without_log_x_the_logger_steps_are_program_steps():
    calls = []
    run(logger=lambda x, metrics, unit: calls.append((list(x), unit)))
    assert calls == [([4, 8], "steps"), ([12, 16], "steps"), ([20, 24], "steps")]


def test_resume_starts_the_bar_where_the_checkpoint_was_and_logs_only_new_points(
        tmp_path, capsys):
    with pytest.raises(runner.Interrupted):
        run(checkpoints=runner.Checkpoints(tmp_path), on_chunk=lambda done, _: done == 1
            and os.kill(os.getpid(), signal.SIGINT))
    capsys.readouterr()
    calls = []
    run(checkpoints=runner.Checkpoints(resume=tmp_path), progress=True, log_x=LOG_X, unit="env steps", postfix=latest_mean,
        logger=lambda x, metrics, unit: calls.append(list(x)))
    states = bar_states(capsys.readouterr().err)
    assert counts(states)[0] == "20/60" and counts(states)[-1] == "60/60"
    # the restored points' postfix, before any new chunk
    assert any("20/60" in s and s.endswith("latest=12, points=2]") for s in states)
    assert calls == [[30, 40], [50, 60]]


def test_early_stop_fills_the_bar_and_logs_the_repeated_points(capsys):
    calls = []
    res = run(progress=True, log_x=LOG_X, unit="env steps", postfix=latest_mean,
              finished=lambda carry: carry["n"] >= 2 * STEPS_PER_LOG,
              logger=lambda x, metrics, unit: calls.append((list(x), metrics["x"])))
    states = bar_states(capsys.readouterr().err)
    assert counts(states)[-1] == "60/60" and "latest=12, points=6]" in states[-1]
    assert [x for x, _ in calls] == [[10, 20, 30, 40, 50, 60]]
    np.testing.assert_array_equal(calls[0][1], res.metrics["x"])


def test_early_stop_fills_the_default_bar(capsys):
    run(progress=True, finished=lambda carry: carry["n"] >= 2 * STEPS_PER_LOG)
    assert counts(bar_states(capsys.readouterr().err)) == ["0/3", "3/3"]


@pytest.mark.parametrize("log_x", [LOG_X[:-1], LOG_X[::-1], np.r_[LOG_X[:-1], np.nan]])
def test_bad_log_x_is_refused_before_compiling(log_x):
    with pytest.raises(ValueError, match=r"log_x of shape .* is invalid"):
        run(log_x=log_x)
