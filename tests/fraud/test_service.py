"""The fraud service's thresholds and history reach, shared by every door."""

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.features import FeatureConfig
from core.fraud.service import decision_thresholds, history_keep, roll_history


def _meta(review, block):
    return {"scenario": "fraud", "workspace": {"decision": {"review_threshold": review, "block_threshold": block}}}


def test_decision_thresholds_read_the_saved_ones_and_never_block_below_review():
    assert decision_thresholds(_meta(0.3, 0.8)) == (0.3, 0.8)
    assert decision_thresholds(_meta(0.3, 0.8), 0.5) == (0.5, 0.8)
    assert decision_thresholds(_meta(0.3, 0.8), 0.95) == (0.95, 0.95)


def test_decision_thresholds_refuse_a_review_threshold_outside_0_1():
    with pytest.raises(DataValidationError, match=r"Expected --threshold between 0 and 1; got 1.5\. Fix: e\.g\. 0\.3"):
        decision_thresholds(_meta(0.3, 0.8), 1.5)


def test_history_keep_and_roll_drop_rows_out_of_reach():
    keep = history_keep(FeatureConfig(windows=(1, 7), delay_days=3))
    assert keep == pd.Timedelta(days=11)
    t = pd.Timestamp("2024-01-01")
    history = pd.DataFrame({"time": [t, t + pd.Timedelta(days=5)], "amount": [1.0, 2.0], "_row": [-1, -1]})
    new_log = pd.DataFrame({"time": [t + pd.Timedelta(days=15)], "amount": [3.0], "_row": [0]})
    rolled, last = roll_history(history, new_log, "time", None, keep)
    assert last == t + pd.Timedelta(days=15)
    assert rolled["amount"].tolist() == [2.0, 3.0] and rolled["_row"].tolist() == [-1, -1]


def test_one_default_block_threshold_for_every_door(monkeypatch):
    """A run or page with no block threshold chosen blocks at ``default_block``: the saved run's settings (Score
    page, CLI, Dask, service, monitor) and the page's unsaved model read the same constant."""
    from core.fraud import service
    from core.store.scenarios import get_scenario

    monkeypatch.setattr(service, "DEFAULT_BLOCK", 0.8)
    unsaved = {"scenario": "fraud", "workspace": {"decision": {"review_threshold": 0.3}}}
    assert get_scenario("fraud").decision_settings(unsaved)["block_threshold"] == 0.8
    assert decision_thresholds(unsaved) == (0.3, 0.8)
    assert decision_thresholds(None, 0.3) == (0.3, 0.8)  # the fraud page before a block line is chosen
    assert decision_thresholds(None, 0.85) == (0.85, 0.85)  # never below the review line
    assert service.default_block(0.95) == 0.95


def test_the_page_rule_refuses_a_block_threshold_below_review():
    assert decision_thresholds(None, 0.3, 0.6) == (0.3, 0.6)
    with pytest.raises(DataValidationError, match=r"The block threshold \(0.2\) must be at or above the review "
                                                  r"threshold \(0.5\)\. Fix: raise the block threshold"):
        decision_thresholds(None, 0.5, 0.2, review_name="the review threshold")
    with pytest.raises(DataValidationError, match=r"Expected the review threshold between 0 and 1; got 1.5"):
        decision_thresholds(None, 1.5, review_name="the review threshold")


def test_the_default_block_rule_is_written_once():
    """No door keeps its own copy of the 0.9 block default (``max(0.9, review)``)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    copies = [str(p.relative_to(root)) for folder in ("core", "ui", "pages") for p in (root / folder).rglob("*.py")
              if re.search(r"max\(\s*0\.9\s*,", p.read_text(encoding="utf-8"))]
    assert copies == [], copies


def test_train_and_decide_save_load_round_trip(tmp_path):
    """One service call trains, decides at the review fee and explains; the saved run decides with that record
    and loads back to score the test transactions as the run did."""
    from dataclasses import replace
    from pathlib import Path

    import numpy as np

    from core.fraud import service
    from core.fraud.columns import make_columns
    from core.fraud.decisions import compute_cost_curve
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig
    from core.store.registry import read_metadata

    df = pd.read_csv(Path(__file__).resolve().parents[2] / "sample_data" / "fraud_transactions.csv.gz")
    cols = make_columns(df)
    keep = df[cols.customer].drop_duplicates().sample(frac=1.0, random_state=0).iloc[:400]
    df = df[df[cols.customer].isin(set(keep))].reset_index(drop=True)
    config = FraudConfig(tabular=replace(FRAUD_TABULAR, epochs=1, seed=0, baselines=("logistic_regression",)))
    stages = []
    out = service.train_and_decide(df, cols, config=config, review_fee=7.0, digits=3, block=service.default_block,
                                   explain_alerts=5, explain_global=20, verdict=True, status=stages.append)
    test = out.run.test
    curve = compute_cost_curve(test["label"], test[out.run.score_column], test["amount"], review_fee=7.0)
    assert out.decision.policy["total_cost"] == pytest.approx(curve["total_cost"].min())
    assert out.decision.review == round(min(out.decision.policy["threshold"], 1.0), 3)
    assert out.decision.block == service.default_block(out.decision.review)
    assert service.EXPLAINING in stages and len(out.explanations.alert_positions) == 5
    assert out.verdict is not None and "trust" in out.verdict and out.timings["total"] >= out.timings["explain"]
    folder = service.save(out, tmp_path / "fraud_run", name="service test", data=df)
    assert folder == tmp_path / "fraud_run"
    meta = read_metadata(folder)
    assert service.decision_thresholds(meta) == (out.decision.review, out.decision.block)
    assert meta["workspace"]["decision"]["review_fee"] == 7.0
    saved = service.load(folder)
    assert np.allclose(saved.predict_proba(out.run.feature_frame_test.iloc[:5]),
                       test[out.run.score_column].to_numpy()[:5], atol=1e-5)


def test_train_and_decide_without_shap_explains_nothing():
    from dataclasses import replace
    from pathlib import Path

    from core.fraud import service
    from core.fraud.columns import make_columns
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig

    df = pd.read_csv(Path(__file__).resolve().parents[2] / "sample_data" / "fraud_transactions.csv.gz")
    cols = make_columns(df)
    keep = df[cols.customer].drop_duplicates().sample(frac=1.0, random_state=1).iloc[:300]
    df = df[df[cols.customer].isin(set(keep))].reset_index(drop=True)
    config = FraudConfig(tabular=replace(FRAUD_TABULAR, epochs=1, seed=0, baselines=("logistic_regression",)))
    out = service.train_and_decide(df, cols, config=config, explain_global=0)
    assert out.explanations is None and "explain" not in out.timings and out.verdict is None
    assert out.decision.block is None and out.decision.review_fee == service.REVIEW_FEE
