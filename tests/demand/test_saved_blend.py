"""The recommended demand forecast is the one saved and scored: when validation picks the network's
blend with a baseline, the run saves it under "blend" and every door (CLI score, the Score page's
engine, the prediction service on Keras and ONNX Runtime) forecasts P50 = w·network + (1−w)·baseline;
a run saved without it scores with the network alone, as before."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError

W = 0.25


def _rec(baseline="seasonal_naive", weight=W):
    return {"checked": True, "choice": "ensemble", "use": True, "metric": "mae", "baseline": baseline,
            "weight": weight, "label": f"Ensemble: {weight:.0%} network + {1 - weight:.0%} {baseline}",
            "validation_scores": {"network": 2.0, "seasonal_naive": 2.5, "moving_average": 3.0, "ensemble": 1.5}}


def _blended(run, baseline="seasonal_naive"):
    from core.demand.blend import apply_recommendation

    run = copy.copy(run)
    rec = apply_recommendation(run, _rec(baseline))
    return run, rec


@pytest.fixture(scope="module")
def saved(small_run, small_sales_frame, tmp_path_factory):
    """The same network saved twice: with the blend (seasonal naive) and without (a run saved before)."""
    from core.demand.export import save_demand_run

    root = tmp_path_factory.mktemp("blend")
    run, rec = _blended(small_run)
    hist = root / "history.csv"
    small_sales_frame.to_csv(hist, index=False)
    return {"blend": save_demand_run(run, root / "runs"), "old": save_demand_run(small_run, root / "runs"),
            "run": run, "rec": rec, "history": hist, "root": root}


def _cli(argv):
    from core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _score(run_dir, history, out):
    code, _, err = _cli(["score", "--model", str(run_dir), "--data", str(history), "--out", str(out), "--json"])
    assert code == 0, err
    return pd.read_csv(out)


def test_the_blend_replaces_the_runs_forecast_with_shifted_intervals(small_run):
    run, rec = _blended(small_run)
    assert rec["model"] == rec["saved"] == "ensemble" and rec["metrics"] == rec["test_metrics"]
    assert run.blend["baseline"] == "seasonal_naive" and run.blend["weight"] == W
    assert run.blend["chosen_on"] == "validation periods" and run.blend["validation_scores"]["ensemble"] == 1.5
    net, fut = small_run.future, run.future
    # The baseline from the windows' inputs is the plain seasonal naive value the forecast table shows.
    expect = W * net["p50"] + (1 - W) * net["naive_p50"]
    np.testing.assert_allclose(fut["p50"], expect, rtol=1e-5, atol=1e-4)
    shift = fut["p50"] - net["p50"]
    np.testing.assert_allclose(fut["p90"], net["p90"] + shift, atol=1e-4)
    np.testing.assert_allclose(fut["p10"], np.maximum(net["p10"] + shift, 0), atol=1e-4)
    assert not np.allclose(fut["p50"], net["p50"])  # the blend does move the forecast here
    # The test figures are the saved forecast's, on the held-out periods.
    assert rec["test_metrics"]["mae"] != pytest.approx(float(small_run.metrics.iloc[0]["mae"]))
    assert small_run.blend is None  # the network's own run is untouched
    cov = run.blend["validation_coverage_p10_p90"]
    assert set(cov) == {"network", "ensemble"} and all(0 <= v <= 100 for v in cov.values())


def test_a_baseline_alone_is_said_plainly_and_the_network_is_saved(small_run):
    from core.demand.blend import apply_recommendation

    run = copy.copy(small_run)
    rec = apply_recommendation(run, {**_rec(), "choice": "moving_average", "label": "Moving average"})
    assert rec["model"] == rec["saved"] == "network" and run.blend is None and run.future is small_run.future
    assert "Moving average alone did better than the network" in rec["note"]
    off = apply_recommendation(copy.copy(small_run), _rec(), enabled=False)
    assert off["saved"] == "network" and "--no-ensemble" in off["note"]


def test_cli_score_applies_the_saved_blend_and_an_old_run_scores_as_before(saved):
    meta = json.loads((saved["blend"] / "metadata.json").read_text())
    old_meta = json.loads((saved["old"] / "metadata.json").read_text())
    assert meta["blend"]["baseline"] == "seasonal_naive" and "blend" not in old_meta
    root = saved["root"]
    blend = _score(saved["blend"], saved["history"], root / "blend.csv")
    net = _score(saved["old"], saved["history"], root / "net.csv")
    np.testing.assert_allclose(blend["p50"], saved["run"].future["p50"], atol=2e-3)
    naive = saved["run"].future["naive_p50"].to_numpy()
    np.testing.assert_allclose(blend["p50"], W * net["p50"] + (1 - W) * naive, atol=2e-3)
    np.testing.assert_allclose(blend["p90"] - blend["p50"], net["p90"] - net["p50"], atol=2e-3)
    # The policy is built on the saved forecast: its reorder points move with it.
    assert not np.allclose(blend["reorder_point"], net["reorder_point"])


def test_serve_on_keras_and_onnx_agree_with_the_blend(saved):
    from core.demand.serving import make_predictor

    df = pd.read_csv(saved["history"])
    keras = make_predictor(saved["blend"], runtime="keras").predict(df)
    onnx = make_predictor(saved["blend"], runtime="onnx").predict(df)
    net = make_predictor(saved["old"], runtime="keras").predict(df)
    for q in ("p10", "p50", "p90"):
        np.testing.assert_allclose(onnx[q], keras[q], atol=1e-3)  # both rounded to 3 decimals
    naive = saved["run"].future["naive_p50"].to_numpy()
    np.testing.assert_allclose(keras["p50"], W * net["p50"] + (1 - W) * naive, atol=2e-3)


def test_onnx_export_says_the_blend_is_applied_outside_the_file(saved):
    code, out, err = _cli(["export", "--model", str(saved["blend"]), "--format", "onnx", "--json"])
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["blend"]["in_file"] is False and result["blend"]["baseline"] == "seasonal_naive"
    assert "The file holds the network alone" in err


def test_a_saved_blend_this_version_cannot_apply_is_refused(saved, tmp_path):
    from core.demand.blend import check_blend

    with pytest.raises(DataValidationError, match="must name a baseline in"):
        check_blend({"baseline": "drift", "weight": 0.5}, {"version": 2})
    with pytest.raises(DataValidationError, match="needs version 2 windows"):
        check_blend({"baseline": "seasonal_naive", "weight": 0.5}, {"version": 1})


def test_cli_train_saves_the_recommended_blend_and_no_ensemble_the_network(small_sales_frame, tmp_path, monkeypatch,
                                                                          one_network):
    import core.demand.recommend as recommend

    monkeypatch.setattr(recommend, "recommend_forecast", lambda run: _rec("moving_average", 0.5))
    data = tmp_path / "sales.csv"
    small_sales_frame.to_csv(data, index=False)
    base = ["train", "--scenario", "demand", "--data", str(data), "--horizon", "7", "--epochs", "1",
            "--event-level", "0", "--json"]
    code, out, err = _cli([*base, "--save", str(tmp_path / "blend")])
    assert code == 0, err
    rec = json.loads(out.strip().splitlines()[-1])["recommended"]
    assert rec["model"] == rec["saved"] == "ensemble" and "recommended forecast (saved and scored)" in err
    meta = json.loads((tmp_path / "blend" / "metadata.json").read_text())
    assert meta["blend"]["baseline"] == "moving_average" and meta["blend"]["weight"] == 0.5
    head = meta["workspace"]["headline"]["recommended"]
    assert head == {"model": "ensemble", "label": rec["label"], "metrics": rec["metrics"]}
    from core.workspace.runs import get_recommended_text

    assert get_recommended_text(meta).startswith(rec["label"] + " (MAE ")
    from core.workspace.report import build_report_html

    card = build_report_html(tmp_path / "blend")  # the model card names it, and its verdict judges it
    assert f"<b>Recommended model</b> (saved, scored and explained): {rec['label']} (MAE " in card
    assert "The ensemble" in card
    code, out, err = _cli([*base, "--no-ensemble", "--save", str(tmp_path / "net")])
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["recommended"]["saved"] == "network"
    assert "blend" not in json.loads((tmp_path / "net" / "metadata.json").read_text())


def test_the_page_names_the_saved_forecast(small_run):
    from core.demand.blend import recommended_text

    _run, rec = _blended(small_run)
    level, text = recommended_text(rec)
    assert level == "info" and rec["label"] in text and "MAE 1.5 against the network's 2.0" in text
    assert "P10 and P90 are the network's P10 and P90 shifted" in text
    base = {**_rec(), "choice": "seasonal_naive", "label": "Seasonal naive"}
    from core.demand.blend import apply_recommendation

    level, text = recommended_text(apply_recommendation(copy.copy(small_run), base))
    assert level == "warning" and "Seasonal naive alone did better than the network" in text
    assert recommended_text({"checked": False}) is None


class _Quiet:
    """A job reporter that keeps nothing (the page job's progress is not under test here)."""

    def status(self, text):
        pass

    def epoch(self, *a, **k):
        pass


def _page_job(small_sales, monkeypatch, search):
    """The demand page's training job with the recommendation fixed to a 50/50 blend with seasonal naive (one
    network, not the average of three: what is saved and explained is under test, not the average)."""
    import core.demand.recommend as recommend
    from core.demand.forecast import DemandConfig
    from core.demand.jobs import train_page

    monkeypatch.setattr(recommend, "recommend_forecast", lambda run: _rec("seasonal_naive", 0.5))
    return train_page(small_sales, config=DemandConfig(horizon=7, epochs=1, seed=0, members=1), search=search,
                      report=_Quiet())


def test_the_page_job_saves_and_explains_the_recommended_blend(small_sales, monkeypatch):
    out = _page_job(small_sales, monkeypatch, None)
    run = out["run"]
    assert run.blend["baseline"] == "seasonal_naive" and run.recommended["saved"] == "ensemble"
    assert out["ensemble_shap"] is not None  # SHAP of the saved blend, in units, as the search's ensemble


def test_the_page_job_saves_the_network_when_the_blend_is_unticked(small_sales, monkeypatch):
    """The page's "Blend with the best baseline" unticked (``search["ensemble"]`` False): the network is saved."""
    out = _page_job(small_sales, monkeypatch, {"enabled": False, "budget": 30.0, "ensemble": False})
    run = out["run"]
    assert not run.blend and run.recommended["saved"] == "network" and out["ensemble_shap"] is None
