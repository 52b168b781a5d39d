"""Presenter screens: money a year from what a run saved, the chart behind it, the verdict in plain words."""

import numpy as np
import pandas as pd
import pytest

from core.monitor.reference import REFERENCE_FILE
from core.store.registry import save_run
from core.report.runsummary import demo_run_name
from core.workspace.present import get_demo_runs, get_pitch, plain_verdict

VERDICT = {"metric": "ROC-AUC", "value": 0.78, "baseline": "Logistic regression", "baseline_value": 0.70,
           "diff": 0.08, "low": 0.03, "high": 0.12, "higher_is_better": True, "level": 0.95}


def _ws(impact=(), **extra):
    return {"name": "x", "headline": {"quality": [{"label": "ROC-AUC", "value": 0.78, "fmt": ".3f"}],
                                      "impact": list(impact), "assumptions": []}, **extra}


def _money(label, value):
    return {"label": label, "value": value, "unit": "€", "fmt": ",.0f"}


def _credit(tmp_path, avoided=30000.0, scores=True, name="credit-1"):
    run = tmp_path / name
    run.mkdir()
    if scores:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 200)
        pd.DataFrame({"score": np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1), "label": y}).to_parquet(
            run / REFERENCE_FILE)
    impact = [] if avoided is None else [_money("Loss avoided", avoided)]
    meta = {"scenario": "credit", "path": str(run), "workspace": _ws(
        impact, decision={"threshold": 0.3, "loss_default": 5000.0, "margin_good": 1000.0},
        params={"test_rows": 200}, dataset={"rows": 1200})}
    return meta


def test_credit_scales_the_loss_avoided_from_test_applicants_to_the_sample_as_a_year(tmp_path):
    pitch = get_pitch(_credit(tmp_path))
    assert pitch.per_year == pytest.approx(30000.0 * 1200 / 200)
    assert pitch.sentence == ("At about 100 applications a month, the model's decline line saves ≈ €180,000 a year "
                              "against approving everyone.")
    assert any("1,200 applications taken as one year's" in a for a in pitch.assumptions)
    assert any("Loss €5,000 per defaulter approved, margin €1,000 per good loan" in a for a in pitch.assumptions)
    # The profit curve, with the model's decline line at the saved threshold.
    assert pitch.figure.data[0].name == "expected profit"
    assert pitch.figure.layout.shapes[0].x0 == 0.3
    assert not pitch.missing


def test_a_negative_saving_is_said_as_a_cost(tmp_path):
    assert "costs ≈ €12,000 a year" in get_pitch(_credit(tmp_path, avoided=-2000.0)).sentence


def test_a_run_without_the_figures_names_what_is_missing_instead_of_a_number(tmp_path):
    pitch = get_pitch(_credit(tmp_path, avoided=None, scores=False))
    assert pitch.per_year is None and pitch.figure is None
    assert pitch.missing == ["the loss avoided"]
    assert "cannot be stated: this run did not save the loss avoided" in pitch.sentence
    # The money is there but not the test scores: the sentence stands, the chart says why it is absent.
    pitch = get_pitch(_credit(tmp_path, scores=False, name="credit-2"))
    assert pitch.per_year is not None and pitch.figure is None
    assert "needs the test scores" in pitch.chart_caption


def test_fraud_scales_the_net_saving_by_the_test_period_in_days(tmp_path):
    run = tmp_path / "fraud-1"
    run.mkdir()
    times = pd.date_range("2024-01-01", periods=100, freq="2h20min")  # 100 transactions over 10 calendar days
    label = np.zeros(100)
    label[[3, 50]] = 1
    score = np.where(label == 1, 0.9, np.linspace(0, 0.5, 100))
    pd.DataFrame({"score": score, "label": label, "event_time": times, "amount": np.full(100, 20.0)}).to_parquet(
        run / REFERENCE_FILE)
    meta = {"scenario": "fraud", "path": str(run), "workspace": _ws(
        [_money("Net saving", 1000.0)], decision={"review_threshold": 0.8, "review_fee": 5.0})}
    pitch = get_pitch(meta)
    days = (times.max().normalize() - times.min().normalize()).days + 1
    assert pitch.per_year == pytest.approx(1000.0 * 365 / days)
    assert f"reviewing the model's {2 / days:,.0f} alerts a day" in pitch.sentence
    # Both frauds score above every other transaction: the first alerts catch all the fraud money.
    curve = pitch.figure.data[0]
    assert curve.name == "share of fraud money caught" and max(curve.y) == pytest.approx(1.0)
    assert curve.y[list(curve.x).index(next(x for x in curve.x if x >= 2 / days))] == pytest.approx(1.0)


def test_demand_scales_the_saving_by_the_backtest_and_draws_the_saved_band(tmp_path):
    band = {"series": "S1 / P1", "date": ["2024-01-01", "2024-01-02"], "y": [5, 7], "p10": [3, 4], "p50": [5, 6],
            "p90": [8, 9]}
    meta = {"scenario": "demand", "workspace": _ws(
        [_money("Inventory cost saved", 10.0)], params={"horizon": 28, "origins": 2, "frequency": "daily",
                                                        "n_series": 3},
        decision={"holding_cost": 0.1, "stockout_cost": 2.0, "review_period": 7, "lead_time": 7,
                  "service_level": 0.95}, band=band)}
    pitch = get_pitch(meta)
    assert pitch.per_year == pytest.approx(10.0 * 365 / 56)
    assert "For the sample's 3 store-product lines" in pitch.sentence
    assert [t.name for t in pitch.figure.data] == ["forecast range (P10–P90)", "forecast", "actual demand"]
    meta["workspace"]["params"].pop("frequency")
    assert "the data's frequency" in get_pitch(meta).sentence


def test_quality_shows_good_and_defect_parts_from_the_saved_predictions(tmp_path):
    run = tmp_path / "quality-1"
    run.mkdir()
    pd.DataFrame({"file": list("abcde"), "actual": ["ok", "ok", "ok", "scratch", "pit"],
                  "verdict": ["pass", "pass", "reject", "reject", "pass"]}).to_csv(run / "test_predictions.csv")
    meta = {"scenario": "quality", "path": str(run), "workspace": _ws(
        [_money("Net saving", 50.0)], decision={"ok_class": "ok", "cost_escape": 50.0, "cost_false_reject": 2.0},
        dataset={"rows": 600})}
    pitch = get_pitch(meta)
    assert pitch.per_year == pytest.approx(50.0 * 600 / 5)
    assert [list(r) for r in pitch.figure.data[0].z] == [[2, 1], [1, 1]]  # good passed, good rejected / defect passed, caught


def test_verdict_in_plain_words_and_trust_first():
    def meta(**head):
        return {"workspace": {"headline": head}}

    assert plain_verdict(meta(verdict=VERDICT)) == (
        "Better than the best simple rule (logistic regression), outside the noise.", "good")
    on_par = {**VERDICT, "low": -0.01}
    assert "do not present it as a win" in plain_verdict(meta(verdict=on_par))[0]
    worse = {**VERDICT, "diff": -0.08, "low": -0.12, "high": -0.03}
    assert plain_verdict(meta(verdict=worse))[0].startswith("The simple rule (logistic regression) does better")
    flags = [{"kind": "chance", "headline": "No better than chance", "why": "interval holds 0.5"}]
    assert plain_verdict(meta(verdict=VERDICT, trust=flags)) == (
        "Not a result to present: No better than chance.", "warn")
    assert plain_verdict(meta())[1] == "none"


def test_demo_runs_are_the_newest_runs_saved_under_the_demo_name(tmp_path):
    save_run(tmp_path, model=None, run_id="credit-demo-old", metadata={
        "scenario": "credit", "saved_at": 1.0, "workspace": {"name": demo_run_name("credit")}})
    save_run(tmp_path, model=None, run_id="credit-demo-new", metadata={
        "scenario": "credit", "saved_at": 2.0, "workspace": {"name": demo_run_name("credit")}})
    save_run(tmp_path, model=None, run_id="credit-analyst", metadata={
        "scenario": "credit", "saved_at": 3.0, "workspace": {"name": "my own run"}})
    demos, _ = get_demo_runs(tmp_path)
    assert list(demos) == ["credit"] and demos["credit"]["run_id"] == "credit-demo-new"


def test_quality_shows_the_saved_gallery_of_caught_defects_instead_of_the_confusion(tmp_path):
    from core.quality.export import GALLERY_FILE

    run = tmp_path / "quality-2"
    run.mkdir()
    pd.DataFrame({"file": ["a", "b"], "actual": ["ok", "pit"], "verdict": ["pass", "reject"]}).to_csv(
        run / "test_predictions.csv")
    images = np.zeros((2, 8, 8, 1), np.uint8)
    np.savez_compressed(run / GALLERY_FILE, images=images, maps=np.ones((2, 8, 8), np.float16),
                        classes=np.array(["pit", "crack"]), p_defect=np.array([0.97, 0.9], np.float32))
    meta = {"scenario": "quality", "path": str(run), "workspace": _ws(
        [_money("Net saving", 50.0)], decision={"ok_class": "ok", "cost_escape": 50.0, "cost_false_reject": 2.0},
        dataset={"rows": 600})}
    pitch = get_pitch(meta)
    assert pitch.figure is None
    assert [f.layout.title.text for f in pitch.gallery] == ["pit · 97% sure it is defective",
                                                           "crack · 90% sure it is defective"]
    assert "2 held-out defective parts" in pitch.chart_caption
