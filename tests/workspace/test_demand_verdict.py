"""A demand run saves its verdict against the best baseline, like credit and fraud, so the Overview,
presenter mode and the model card judge the network the same way the demand page does."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.store.registry import read_metadata, save_run
from core.ml.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demand_saved(demand_run, tmp_path):
    from core.demand.inventory import PolicyParams
    from core.workspace.summary import build_demand_summary

    ws = build_demand_summary(demand_run, name="demand small", params=PolicyParams(lead_time=3, review_period=3))
    return save_run(tmp_path / "runs", model=None, metadata={"scenario": "demand", "workspace": ws})


def test_demand_summary_saves_the_pages_verdict(demand_run, demand_saved):
    from core.demand.verdict import compare_demand

    saved = read_metadata(demand_saved)["workspace"]["headline"]["verdict"]
    page = compare_demand(demand_run)  # what the demand page shows
    assert saved == pytest.approx(page.to_dict())
    bt = demand_run.backtest
    # MAE over every backtest forecast point, holiday weeks weighted 5 (the sample has a holiday
    # flag): lower is better.
    assert demand_run.holiday_col and saved["metric"] == "holiday-weighted MAE" and saved["higher_is_better"] is False
    w = np.where(bt["holiday"].to_numpy(float) > 0.5, 5.0, 1.0)

    def mae(col):
        return float(np.sum(w * (bt[col] - bt["y"]).abs().to_numpy()) / w.sum())

    assert saved["value"] == pytest.approx(mae("nn_p50"))
    best = min(mae(f"{m}_p50") for m in ("seasonal_naive", "moving_average"))
    assert saved["baseline_value"] == pytest.approx(best) and saved["baseline"] in ("seasonal naive", "moving average")
    assert saved["low"] <= saved["diff"] <= saved["high"] and saved["outcome"] == page.outcome


def test_overview_presenter_and_model_card_show_the_demand_verdict(demand_saved, monkeypatch):
    from core.workspace.present import PLAIN_VERDICT, plain_verdict
    from core.workspace.report import build_report_html

    meta = read_metadata(demand_saved)
    v = Verdict.from_dict(meta["workspace"]["headline"]["verdict"])
    words, _tone = plain_verdict(meta)
    flagged = bool(meta["workspace"]["headline"].get("trust"))  # trust warnings come before the verdict
    assert words.startswith("Not a result to present: ") if flagged else (
        words == PLAIN_VERDICT[v.outcome].format(b=v.baseline.lower()))
    card = build_report_html(demand_saved)
    assert f"<b>Against the baselines:</b> {html.escape(v.sentence())}" in card
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(demand_saved.parent))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    lines = [m.value for m in at.markdown if f"{v.metric} {v.diff:+.3f}" in m.value]
    assert len(lines) == 1 and v.baseline in lines[0].lower()  # the demand card's verdict line on the Overview
