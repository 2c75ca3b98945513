"""experiments.random_walk end to end on quick settings, and its bad inputs."""

import json

import pytest

from experiments import random_walk as exp
from rlfa.prediction import PredictionHParams


def test_quick_run_writes_results(tmp_path):
    config = exp.RandomWalkConfig(figure="9.2", quick=True, out=str(tmp_path), progress=False)
    path = exp.STUDY.run(config)
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).stat().st_size > 0
    summary = json.loads((path / "summary.json").read_text())
    configs = summary["figures"]["9.2"]["configs"]
    assert set(configs) == {"semi-gradient TD(0)", "residual-gradient TD"}
    td = configs["semi-gradient TD(0)"]
    assert len(td["final_weights"]) == 10 and len(td["final_values"]) == 1000
    # 2000 quick episodes from zero weights already move the outer groups the right way.
    assert td["final_weights"][0] < 0 < td["final_weights"][-1]
    final = summary["headlines"]["Fig 9.2: semi-gradient TD(0)"]
    assert 0 < final["mean"]["value"] < 0.5 and td["diverged_seeds"] == []
    rows = (path / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:4] == ["figure", "config", "step_size", "seed"]
    assert len(rows) == 1 + 2 * 100  # 2 configs x 1 seed x 100 logged points


@pytest.mark.slow
def test_tile_coding_figure_runs_with_several_seeds(tmp_path):
    config = exp.RandomWalkConfig(figure="9.10", quick=True, num_seeds=2, num_episodes=50,
                                  out=str(tmp_path), progress=False)
    summary = json.loads((exp.STUDY.run(config) / "summary.json").read_text())
    for label in ("1 tiling", "50 tilings"):
        final = summary["headlines"][f"Fig 9.10: {label}"]
        assert final["n"] == 2 and final["mean"]["value"] > 0


@pytest.mark.parametrize("kwargs, field", [
    ({"figure": "9.3"}, "figure"), ({"num_seeds": 0}, "num_seeds"),
    ({"num_episodes": -5}, "num_episodes"), ({"max_episode_steps": 0}, "max_episode_steps"),
])
def test_bad_config_names_the_field_and_lists_choices(kwargs, field):
    with pytest.raises(ValueError, match=field) as err:
        exp.RandomWalkConfig(**kwargs)
    if field == "figure":
        assert "9.10" in str(err.value) and "all" in str(err.value)


def test_step_sizes_sweep_from_the_command_line(tmp_path):
    import tyro

    config = tyro.cli(exp.RandomWalkConfig, args=[
        "--figure", "9.1", "--quick", "--num-episodes", "100", "--no-progress",
        "--out", str(tmp_path), "--sweep.step-size", "1e-3", "0.1/8"])
    points = config.grid(PredictionHParams(2e-5, 1.0), structural=exp.STRUCTURAL)
    assert [float(p.step_size) for p in points] == [1e-3, 0.0125]
    summary = json.loads((exp.STUDY.run(config) / "summary.json").read_text())
    configs = summary["figures"]["9.1"]["configs"]
    assert set(configs) == {"gradient MC (alpha=0.001, gamma=1)",
                            "gradient MC (alpha=0.0125, gamma=1)"}
    assert configs["gradient MC (alpha=0.0125, gamma=1)"]["step_size"] == 0.0125
    # One program (Job) for the curve, one headline per grid point.
    assert list(summary["timings"]) == ["Fig 9.1 gradient MC"]
    assert set(summary["headlines"]) == {f"Fig 9.1: {label}" for label in configs}


def test_structural_fields_are_refused_by_name():
    # --sweep.* offers only alpha and gamma; a sweep naming a shape-changing field is refused
    # when its grid is built, before anything compiles.
    with pytest.raises(ValueError, match="sweep.num_tilings is structural"):
        next(exp.jobs(exp.RandomWalkConfig(sweep={"num_tilings": ("8",)})))


@pytest.mark.parametrize("args, match", [
    (["--sweep.step-size", "-1"], "sweep.step_size"),
    (["--sweep.gamma", "1.5"], "sweep.gamma"),
    (["--sweep.step-size", "abc"], "sweep.step_size"),
    (["--sweep-mode", "zip"], "sweep_mode"),
])
def test_bad_sweeps_are_refused_when_the_config_is_built(args, match, capsys):
    import tyro

    # tyro turns the config's ValueError into a usage error: exit code 2 and the message.
    with pytest.raises(SystemExit) as exit_info:
        tyro.cli(exp.RandomWalkConfig, args=args)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert match in captured.out + captured.err
