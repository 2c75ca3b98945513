"""experiments.mountain_car: quick runs write their files (and redraw from them), a sweep gives one
headline per point; Mountain Car steps match gymnax's."""

import json

import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import mountain_car as mc
from rlfa.control import ControlHParams
from rlfa.envs.mountain_car import MountainCar
from rlfa.envs.noise import step_with_noise
from rlfa.study import redraw
from rlfa.sweep import Sweep


def check_quick_run_writes_both_figures(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    fig_10_2 = summary["figures"]["10.2"]
    assert set(fig_10_2["per_alpha"]) == {"alpha=0.1/8", "alpha=0.2/8", "alpha=0.5/8"}
    for key, entry in fig_10_2["per_alpha"].items():
        assert entry["steps_episode_1"]["n"] == 2
        mean = summary["headlines"][f"Fig 10.2: {key}"]["mean"]["value"]
        assert mean > 100  # the book's floor is ~100
        assert entry["capped_episodes"] == 0
    assert fig_10_2["run_s"] > 0
    assert summary["figures"]["10.1"]["snapshot_episodes"] == [1, 2, 4, 8, 12]
    arrays = np.load(path / "metrics.npz")
    assert arrays["steps_10_2"].shape == (3, 2, 20) and (arrays["steps_10_2"] > 0).all()
    assert np.isfinite(arrays["cost_to_go_10_1"]).all()
    (path / "figure.png").unlink()
    assert redraw(path) == path / "figure.png" and (path / "figure.png").is_file()


def test_sweep_gives_one_headline_per_point(tmp_path):
    # --sweep.step-size replaces the alphas; epsilon is crossed with it: 2 x 2 points.
    sweep = Sweep[ControlHParams](step_size=("0.5/8", "0.2/8"), epsilon=("0", "0.1"))
    config = mc.MountainCarConfig(quick=True, figure="10.2", num_seeds=1, out=str(tmp_path),
                                  progress=False, sweep=sweep)
    summary = json.loads((mc.STUDY.run(config) / "summary.json").read_text())
    assert list(summary["headlines"]) == [
        f"Fig 10.2: step_size={s:g}, epsilon={e:g}" for s in (0.0625, 0.025) for e in (0, 0.1)]
    entries = list(summary["figures"]["10.2"]["per_alpha"].values())
    assert [(e["step_size"], e["epsilon"]) for e in entries] == [
        (0.0625, 0.0), (0.0625, 0.1), (0.025, 0.0), (0.025, 0.1)]


def test_steps_match_gymnax():
    env, params = MountainCar(), MountainCar().default_params.replace(max_steps_in_episode=50)
    ref, ref_params = gymnax.make("MountainCar-v0")
    ref_params = ref_params.replace(max_steps_in_episode=50)
    obs, state = env.reset_from_noise(jnp.array([0.3]), params)
    ref_state = state
    actions = jax.random.randint(jax.random.key(0), (120,), 0, 3)
    for t, a in enumerate(actions):
        obs, state, r, term, trunc, info = step_with_noise(env, state, a, jnp.array([0.7, 0.3]),
                                                       params)
        ref_obs, ref_state, ref_r, ref_term, ref_trunc, ref_info = ref.step(
            jax.random.key(t), ref_state, a, ref_params)
        np.testing.assert_array_equal(info["final_observation"], ref_info["final_observation"])
        assert (float(r), bool(term), bool(trunc)) == (float(ref_r), bool(ref_term),
                                                       bool(ref_trunc))
        if bool(term | trunc):  # both reset, each from its own randomness, into the start band
            assert -0.6 <= float(obs[0]) < -0.4 and float(obs[1]) == 0.0
            ref_state = state
        else:
            np.testing.assert_array_equal(obs, ref_obs)


@pytest.mark.parametrize("kwargs, field", [
    ({"epsilon": 1.5}, "epsilon"),
    ({"epsilon": -0.1}, "epsilon"),
    ({"alphas": (0.1, 0.0)}, "alphas"),
    ({"alpha_10_1": -0.5}, "alpha_10_1"),
    ({"max_episode_steps": 0}, "max_episode_steps"),
    ({"tile_lows": (-1.0, -0.07)}, "tile_lows"),
    ({"tile_highs": (0.6, 0.05)}, "tile_highs"),
    ({"figure": "10.3"}, "figure"),
    ({"next_action": "later"}, "next_action"),
    ({"sweep": Sweep[ControlHParams](epsilon=("0.1", "1.5"))}, "epsilon"),
    ({"sweep": Sweep[ControlHParams](step_size=("-0.1",))}, "step_size"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        mc.MountainCarConfig(**kwargs)
