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
