"""A demand challenger through the command line: the demo run forecasts two series, their next weeks of
sales come back (fed back as actuals, and appended to the history), and ``retrain`` trains the
champion's recipe on the history before the champion's forecast origin, forecasts the same dates and
judges both on the mean absolute error over the same series-days."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.monitor.retrain import retrain
from tests.monitor.test_loop_credit import run_cli

ROOT = Path(__file__).resolve().parents[2]
SERIES = [("S1", "P1"), ("S1", "P2")]


@pytest.fixture(scope="module")
def demand_loop(saved_demo_runs, tmp_path_factory):
    return forecasts_with_sales(saved_demo_runs["demand"], tmp_path_factory.mktemp("demand-retrain"))


def forecasts_with_sales(demo_run: Path, work: Path, name: str = "demand-1") -> dict:
    """A copy of the demo run in ``work/runs/<name>`` whose forecasts of two series were logged and
    whose actual sales came back; ``work/history_new.csv`` is the history with those days appended."""
    run = Path(shutil.copytree(demo_run, work / "runs" / name, ignore=shutil.ignore_patterns("monitor")))
    sales = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv")
    sales = sales[[(s, p) in SERIES for s, p in zip(sales["store"], sales["product"])]].reset_index(drop=True)
    sales.to_csv(work / "history.csv", index=False)
    run_cli("score", "--model", run, "--data", work / "history.csv", "--out", work / "forecast.csv", "--quiet")
    forecast = pd.read_csv(work / "forecast.csv")
    rng = np.random.default_rng(0)
    stores, products = zip(*(s.split(" / ") for s in forecast["series"]))
    new = pd.DataFrame({"date": forecast["date"], "store": stores, "product": products,
                        "units": np.maximum(0, forecast["p50"] + rng.normal(0, 4, len(forecast))).round(),
                        "price": 2.5, "promo": 0, "holiday": 0})
    new[["date", "store", "product", "units"]].to_csv(work / "actual.csv", index=False)
    run_cli("feedback", "--model", run, "--data", work / "actual.csv")
    pd.concat([sales, new], ignore_index=True).to_csv(work / "history_new.csv", index=False)
    return {"work": work, "run": run, "forecast": forecast, "new": new}


def test_a_demand_run_without_its_history_says_to_pass_it(demand_loop, tmp_path):
    with pytest.raises(DataValidationError, match="Expected the sales history with the new weeks appended"):
        retrain(demand_loop["run"], by="month", save=tmp_path / "c")


def test_a_demand_challenger_forecasts_the_latest_period_and_is_judged_on_mae(demand_loop):
    out = run_cli("retrain", "--model", demand_loop["run"], "--data", demand_loop["work"] / "history_new.csv",
                  "--by", "month")
    forecast, new = demand_loop["forecast"], demand_loop["new"]
    challenger = Path(out["challenger"])
    meta = json.loads((challenger / "metadata.json").read_text())
    lineage = meta["workspace"]["lineage"]
    # The champion forecast from the end of the history: the challenger learnt nothing from that day on.
    assert lineage["champion"] == "demand-1" and lineage["origin"] == forecast["date"].min()
    months = pd.to_datetime(forecast["date"]).dt.to_period("M")
    latest = (months == months.max()).to_numpy()
    assert out["comparison"]["rows"] == latest.sum()
    verdict = out["verdict"]
    assert verdict["metric"] == ("holiday-weighted MAE" if "holiday" in meta["window"]["covariates"] else "MAE")
    # No holiday among the new days, so every weight is 1: the champion's figure is its plain MAE there.
    champion_mae = np.abs(forecast["p50"].to_numpy() - new["units"].to_numpy())[latest].mean()
    assert verdict["baseline_value"] == pytest.approx(champion_mae, abs=2e-3)  # the scored file's p50 is rounded
    assert verdict["low"] <= verdict["diff"] <= verdict["high"] and not verdict["higher_is_better"]
    assert verdict["outcome"] in ("better", "on par", "worse") and "MAE" in verdict["sentence"]
    status = json.loads((challenger / "monitor" / "status.json").read_text())
    assert status["role"] == "challenger" and status["champion"] == "demand-1"
    promoted = run_cli("promote", "--model", challenger)
    assert promoted["promoted"] == challenger.name and promoted["retired"] == "demand-1"


def test_the_monitor_page_asks_for_the_history_then_trains_a_demand_challenger(demand_loop, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    root = tmp_path / "runs"
    shutil.copytree(demand_loop["run"], root / "demand-page", ignore=shutil.ignore_patterns("status.json"))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    at = AppTest.from_file(str(ROOT / "pages" / "monitor.py"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert at.button(key="monitor.retrain").disabled  # outcomes are in, the history is not
    assert "Upload the sales history" in at.button(key="monitor.retrain").help
    assert any("up to this run's forecast origin" in m.value for m in at.markdown)
    history = (demand_loop["work"] / "history_new.csv").read_bytes()
    at.file_uploader(key="monitor.history").set_value(("history_new.csv", history, "text/csv")).run()
    at.button(key="monitor.retrain").click().run()  # by week: the latest week has 3 days of 2 series
    assert at.error and "Expected at least 20 forecasts with actual sales in the latest labelled period (the week " \
                        "from 2026-01-26); got 6" in at.error[0].value
    at.radio(key="monitor.by").set_value("month").run()
    at.file_uploader(key="monitor.history").set_value(("bad.csv", b"when,what\n1,2\n", "text/csv")).run()
    at.button(key="monitor.retrain").click().run()
    assert not at.exception, at.exception
    assert at.error and "Expected the sales file to name each row's series and date" in at.error[0].value
    at.file_uploader(key="monitor.history").set_value(("history_new.csv", history, "text/csv")).run()
    at.button(key="monitor.retrain").click().run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in [*at.success, *at.info, *at.warning])
    assert "Challenger `demand-page-challenger-1` saved" in shown and "MAE on 56 comparison rows" in shown
    assert (root / "demand-page-challenger-1" / "metadata.json").is_file()
