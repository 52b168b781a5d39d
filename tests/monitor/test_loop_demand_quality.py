"""Demand and quality through the same loop, on the tiny demo runs: forecasts and image verdicts are
logged by the command-line scorers, the actual sales / inspected outcomes come back, and the
realized figures equal those computed from the scored files directly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.monitor import store
from core.monitor.report import compute_monitor
from tests.monitor.test_loop_credit import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _own_copy(run: Path, tmp_path: Path) -> Path:
    """The demo run with a prediction log of its own: other tests on this worker score the same session
    run, and their rows would count here."""
    return Path(shutil.copytree(run, tmp_path / "run" / run.name, ignore=shutil.ignore_patterns("monitor")))


def test_demand_forecasts_meet_their_actual_sales(saved_demo_runs, tmp_path):
    run = _own_copy(saved_demo_runs["demand"], tmp_path)
    sales = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv")
    out = tmp_path / "forecast.csv"
    done = run_cli("score", "--model", run, "--data", ROOT / "sample_data" / "demand_sales.csv", "--out", out, "--quiet")
    forecast = pd.read_csv(out)
    assert done["prediction_log"]["rows"] == len(forecast) == len(store.read_table(run, "predictions"))
    # The sales of the forecast dates come back (drawn around the forecast, seeded), in the sales file's shape.
    rng = np.random.default_rng(0)
    stores, products = zip(*(s.split(" / ") for s in forecast["series"]))
    actual = pd.DataFrame({"date": forecast["date"], "store": stores, "product": products,
                           "units": np.maximum(0, forecast["p50"] + rng.normal(0, 5, len(forecast))).round()})
    actual.to_csv(tmp_path / "actual.csv", index=False)
    fed = run_cli("feedback", "--model", run, "--data", tmp_path / "actual.csv")
    assert fed["matched"] == len(forecast) and fed["unmatched"] == 0
    report = compute_monitor(run, by="month")
    y, f = actual["units"].to_numpy(), forecast["p50"].to_numpy()
    months = pd.to_datetime(forecast["date"]).dt.to_period("M").dt.start_time
    for period in report.periods:
        rows = (months == period.start).to_numpy()
        assert period.realized["labelled_rows"] == rows.sum()
        assert period.realized["mae"] == pytest.approx(np.abs(f[rows] - y[rows]).mean(), abs=1e-3)
        assert period.realized["wape"] == pytest.approx(100 * np.abs(f[rows] - y[rows]).sum() / y[rows].sum(), abs=1e-3)
        inside = (y[rows] >= forecast["p10"].to_numpy()[rows]) & (y[rows] <= forecast["p90"].to_numpy()[rows])
        assert period.realized["coverage_p10_p90"] == pytest.approx(100 * inside.mean(), abs=1e-6)
        assert "score" in period.psi  # forecasts against the training history's quantities
    assert report.test.get("wape") is not None and report.calibration is None


def test_quality_verdicts_meet_their_inspection(saved_demo_runs, tmp_path):
    run = _own_copy(saved_demo_runs["quality"], tmp_path)
    out = tmp_path / "scored.csv"
    run_cli("score", "--model", run, "--data", ROOT / "sample_data" / "quality_images", "--out", out, "--quiet")
    scored = pd.read_csv(out)
    log = store.read_table(run, "predictions")
    assert sorted(log["row_id"]) == sorted(scored["file"]) and set(log["decision"]) <= {"pass", "reject"}
    scored[["file", "actual"]].rename(columns={"actual": "label"}).to_csv(tmp_path / "inspected.csv", index=False)
    fed = run_cli("feedback", "--model", run, "--data", tmp_path / "inspected.csv")
    assert fed["matched"] == len(scored)
    realized = compute_monitor(run, by="week").periods[-1].realized
    import json

    ok = json.loads((run / "metadata.json").read_text())["ok_class"]
    defect = (scored["actual"] != ok).to_numpy()
    passed = (scored["verdict"] == "pass").to_numpy()
    assert realized["escape_rate"] == pytest.approx((defect & passed).sum() / defect.sum())
    assert realized["false_reject_rate"] == pytest.approx((~defect & ~passed).sum() / (~defect).sum())
    assert realized["defect_rate"] == pytest.approx(defect.mean())
