"""experiments.baird: semi-gradient TD and DP diverge; residual gradient, TDC (sampled and
expected) and expected emphatic TD do not; files written."""

import json

import numpy as np
import pytest

from experiments import baird
from rlfa.book import baird_figures as bf
from rlfa.prediction import PredictionHParams
from rlfa.sweep import Sweep

BOOK = baird.BairdConfig.hparams  # alpha 0.01, gamma 0.99


def check_quick_run_diverges_under_semi_gradient_only(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    semi, residual = summary["methods"]["semi_gradient_td"], summary["methods"]["residual_gradient_td"]
    assert semi["diverged_seeds"] == [0, 1]
    assert all(s["diverged_at"] > 0 for s in semi["per_seed"])
    assert residual["diverged_seeds"] == []
    assert all(s["final_weights_finite"] for s in residual["per_seed"])
    # True values are 0: residual gradient heads there, semi-gradient TD runs away.
    heads = summary["headlines"]
    final_ve = {name: heads[name]["mean"]["value"] for name in ("residual_gradient_td",
                                                                "semi_gradient_td")}
    assert final_ve["residual_gradient_td"] < 5.0 < final_ve["semi_gradient_td"]
    # Sampled TDC (Figure 11.5 left): sqrt(PBE) from 7.9 at the start to near 0, sqrt(VE) not.
    tdc = summary["methods"]["tdc"]
    assert tdc["diverged_seeds"] == [] and tdc["hparams"]["beta"] == pytest.approx(0.05)
    assert all(s["final sqrt(PBE)"] < 0.5 for s in tdc["per_seed"])
    assert 1.5 < heads["tdc sqrt(VE)"]["mean"]["value"] < 2.5
    check_expected_updates(path, ("semi_gradient_dp", "expected_tdc", "expected_emphatic_td"))


def check_expected_updates(path, names):
    """The runner's expected-update curves are the library's trajectories, logged every 10,
    and behave as the book's Figures 11.2 (right), 11.5 (right) and 11.6 show."""
    summary = json.loads((path / "summary.json").read_text())
    runs = summary["methods"]
    assert [n for n in runs if n in names] == list(names)
    with np.load(path / "metrics.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    library = {"semi_gradient_dp": lambda: {"w": bf.baird_semi_gradient_dp(0.01, 1000)},
               "expected_tdc": lambda: bf.baird_expected_tdc()._asdict(),
               "expected_emphatic_td": lambda: bf.baird_expected_emphatic_td()._asdict()}
    for name in names:
        for key, curve in library[name]().items():
            if f"{name}_{key}" in arrays:
                np.testing.assert_allclose(arrays[f"{name}_{key}"][0], np.asarray(curve)[10::10],
                                           rtol=1e-4, atol=1e-5, err_msg=f"{name}_{key}")
    final = {name: runs[name]["per_seed"][0] for name in names}
    if "semi_gradient_dp" in final:  # diverges like sampled semi-gradient TD
        assert final["semi_gradient_dp"]["diverged_at"] > 0
        assert final["semi_gradient_dp"]["final max |w|"] > 300
    if "expected_tdc" in final:  # sqrt(PBE) to about 0, sqrt(VE) not
        tdc = final["expected_tdc"]
        assert tdc["diverged_at"] is None and tdc["final sqrt(PBE)"] < 0.05
        assert 1.5 < tdc["final sqrt(VE)"] < 2.5
        assert {"expected_tdc", "expected_tdc sqrt(VE)"} <= set(summary["headlines"])
    if "expected_emphatic_td" in final:  # sqrt(VE) to 0
        assert final["expected_emphatic_td"]["final sqrt(VE)"] < 1e-3
    check_float32_floor(summary, names)


def check_float32_floor(summary, names):
    """A float32 expected run is set beside the same iteration in float64: only emphatic
    TD's sqrt(VE) (heading to 0) is stopped short by float32, and the study says so."""
    runs, notes = summary["methods"], summary.get("notes", [])
    for name in names:
        run = runs[name]
        assert run["precision"] == "float32"
        reference, ran = run["float64_reference"], run["per_seed"][0]
        floored = {"sqrt(VE)"} if name == "expected_emphatic_td" else set()
        assert set(run["float32_floor"]) == floored
        for metric in ("max |w|", "sqrt(VE)", "sqrt(PBE)"):
            if reference[f"final {metric}"] > 1e-3:  # away from float32's round-off they agree
                assert ran[f"final {metric}"] == pytest.approx(reference[f"final {metric}"],
                                                               rel=1e-4)
    if "expected_emphatic_td" in names:
        floor = runs["expected_emphatic_td"]["float32_floor"]["sqrt(VE)"]
        assert floor["float32"] == runs["expected_emphatic_td"]["per_seed"][0]["final sqrt(VE)"]
        assert 1e-7 < floor["float32"] < 1e-5 and floor["float64"] < 1e-12
        assert floor["float64"] == runs["expected_emphatic_td"]["float64_reference"][
            "final sqrt(VE)"]
        [note] = [n for n in notes if n.startswith("expected_emphatic_td:")]
        assert "float32 floor" in note and f"{floor['float32']:.4g}" in note
        assert f"{floor['float64']:.4g}" in note and "--x64" in note
    assert len(notes) == ("expected_emphatic_td" in names)


@pytest.mark.parametrize("kwargs, field", [
    ({"hparams": BOOK._replace(step_size=0.0)}, "step_size"),
    ({"hparams": BOOK._replace(gamma=1.5)}, "gamma"),
    ({"num_steps": 0}, "num_steps"),
    ({"num_steps": 105, "log_every": 10}, "num_steps"),
    ({"num_updates": 105, "log_every": 10}, "num_updates"),
    ({"figure": "11.3"}, "figure"),
    ({"tdc_beta": 0.0}, "tdc_beta"),
    ({"emphatic_step_size": -1.0}, "emphatic_step_size"),
    ({"x64": "yes"}, "x64"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        baird.BairdConfig(**kwargs)


@pytest.mark.slow
def test_a_sweep_runs_every_point_in_one_program_and_labels_it(tmp_path):
    path = baird.STUDY.run(baird.BairdConfig(
        quick=True, out=str(tmp_path), progress=False, figure="11.2",
        sweep=Sweep[PredictionHParams](step_size=("0.01", "0.005"))))
    summary = json.loads((path / "summary.json").read_text())
    # One program per sampled method, the grid inside it, and DP at the book's point.
    assert len(summary["timings"]) == 3
    labels = set(summary["headlines"])
    assert "residual_gradient_td (alpha=0.005, gamma=0.99)" in labels and len(labels) == 5
    # The book's point in a sweep is the same run as alone (seeds are shared by grid points).
    alone = json.loads((baird.STUDY.run(baird.BairdConfig(
        quick=True, out=str(tmp_path), progress=False, figure="11.2")) / "summary.json"
    ).read_text())
    assert summary["methods"]["semi_gradient_td (alpha=0.01, gamma=0.99)"]["per_seed"] == \
        alone["methods"]["semi_gradient_td"]["per_seed"]


def test_one_figure_runs_only_its_programs(tmp_path):
    path = baird.STUDY.run(baird.BairdConfig(quick=True, out=str(tmp_path), progress=False,
                                             figure="11.6"))
    summary = json.loads((path / "summary.json").read_text())
    assert list(summary["timings"]) == ["Baird expected_emphatic_td"]
    assert list(summary["headlines"]) == ["expected_emphatic_td"]
    check_expected_updates(path, ("expected_emphatic_td",))
    assert (path / "metrics.csv").read_text() == ""  # the expected curves are in metrics.npz
    assert (path / "figure.png").stat().st_size > 0


def test_x64_runs_the_expected_updates_in_float64_past_the_float32_floor(tmp_path, capsys):
    path = baird.STUDY.run(baird.BairdConfig(quick=True, out=str(tmp_path), progress=False,
                                             figure="11.6", x64=True))
    summary = json.loads((path / "summary.json").read_text())
    run = summary["methods"]["expected_emphatic_td"]
    assert run["precision"] == "float64" and "float32_floor" not in run
    assert "notes" not in summary and "float32 floor" not in capsys.readouterr().out
    with np.load(path / "metrics.npz") as npz:
        rms_ve = npz["expected_emphatic_td_rms_ve"][0]
    assert rms_ve.dtype == np.float64
    # On towards 0 past float32's 2.7e-6: the host's float64 iteration, to 8 digits.
    reference = bf.expected_reference("expected_emphatic_td", PredictionHParams(0.03, 0.99), 1000)
    assert rms_ve[-1] < 1e-10
    assert rms_ve[-1] == pytest.approx(reference["sqrt(VE)"], rel=1e-8)
    # The flags' values, not float32's roundings of them.
    assert run["hparams"] == {"step_size": 0.03, "gamma": 0.99}
