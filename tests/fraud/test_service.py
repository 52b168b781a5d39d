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
