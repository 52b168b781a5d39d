"""Window features on tiny hand-made logs with exact expectations, no leakage, the label delay."""

import numpy as np
import pandas as pd
import pytest

from core.fraud.columns import FraudColumns, prepare_log
from core.fraud.features import FeatureConfig, compute_features

COLS = FraudColumns(time="ts", amount="amt", target="fraud", customer="card", terminal="term")


def _log(rows):
    df = pd.DataFrame(rows, columns=["ts", "card", "term", "amt", "fraud"])
    return prepare_log(df, COLS)


def _feats(rows, **kw):
    log = _log(rows)
    fs = compute_features(log, COLS, config=FeatureConfig(**kw))
    return log, fs.frame


def test_customer_windows_count_and_average_include_only_past_and_self():
    rows = [
        ("2024-01-01 10:00", "A", "T1", 10.0, 0),
        ("2024-01-01 20:00", "A", "T1", 30.0, 0),
        ("2024-01-02 11:00", "A", "T1", 50.0, 0),  # 25 h after the first: outside its 1-day window
        ("2024-01-05 09:00", "A", "T1", 70.0, 0),
        ("2024-01-01 12:00", "B", "T1", 99.0, 0),  # another card never mixes in
    ]
    log, f = _feats(rows)
    a = f[log["card"] == "A"]
    assert a["cust_nb_tx_1d"].tolist() == [1, 2, 2, 1]
    assert a["cust_avg_amount_1d"].tolist() == [10, 20, 40, 70]
    assert a["cust_nb_tx_7d"].tolist() == [1, 2, 3, 4]
    assert a["cust_avg_amount_7d"].tolist() == [10, 20, 30, 40]
    assert f.loc[log["card"] == "B", "cust_nb_tx_30d"].tolist() == [1]
    assert a["amount_to_cust_avg_30d"].tolist() == pytest.approx([1, 1.5, 50 / 30, 70 / 40])


def test_future_rows_never_change_past_features():
    rows = [(f"2024-01-{d:02d} 12:00", "A", "T1", 10.0 * d, d % 2) for d in range(1, 20)]
    log, full = _feats(rows)
    cut = 10
    _, part = _feats(rows[:cut])
    pd.testing.assert_frame_equal(full.iloc[:cut].reset_index(drop=True), part.reset_index(drop=True))
    # And changing a future label or amount leaves every earlier row as it was.
    changed = list(rows)
    changed[15] = (changed[15][0], "A", "T1", 9999.0, 1)
    _, full2 = _feats(changed)
    pd.testing.assert_frame_equal(full.iloc[:15], full2.iloc[:15])


def test_terminal_risk_uses_labels_only_after_the_delay():
    # Terminal T1: a fraud on Jan 1, then one transaction a day. With a 7-day delay the fraud of
    # Jan 1 enters the 1-day window of transactions on Jan 8 (the day ending 7 days before).
    rows = [("2024-01-01 12:00", "X", "T1", 5.0, 1)]
    rows += [(f"2024-01-{d:02d} 12:00", "Y", "T1", 5.0, 0) for d in range(2, 12)]
    log, f = _feats(rows, delay_days=7)
    days = log["ts"].dt.day.to_numpy()
    risk1 = dict(zip(days, f["term_risk_1d"]))
    n1 = dict(zip(days, f["term_nb_tx_1d"]))
    assert all(risk1[d] == 0 for d in range(1, 8))  # label not known yet
    assert risk1[8] == 1.0 and n1[8] == 1  # window (Jan 0 12:00, Jan 1 12:00]
    assert risk1[9] == 0.0 and n1[9] == 1  # window holds only Jan 2
    risk7 = dict(zip(days, f["term_risk_7d"]))
    assert risk7[8] == 1.0 and risk7[9] == pytest.approx(1 / 2) and risk7[11] == pytest.approx(1 / 4)


def test_terminal_features_never_see_current_label_even_with_zero_delay():
    rows = [("2024-01-01 12:00", "A", "T1", 5.0, 1),
            ("2024-01-01 12:00", "B", "T1", 5.0, 1),  # same second: not the past either
            ("2024-01-01 13:00", "C", "T1", 5.0, 0)]
    log, f = _feats(rows, delay_days=0)
    assert f["term_risk_1d"].tolist() == [0.0, 0.0, 1.0]
    assert f["term_nb_tx_1d"].tolist() == [0, 0, 2]


def test_unknown_labels_count_as_not_fraud():
    df = pd.DataFrame({"ts": ["2024-01-01 10:00", "2024-01-08 10:00"], "card": ["A", "A"],
                       "term": ["T", "T"], "amt": [1.0, 2.0], "fraud": [np.nan, 0]})
    log = prepare_log(df, COLS, require_labels=False)
    f = compute_features(log, COLS).frame
    assert f["term_nb_tx_1d"].tolist() == [0, 1] and f["term_risk_1d"].tolist() == [0, 0]


def test_time_flags_and_descriptions():
    rows = [("2024-03-09 06:59", "A", "T", 1.0, 0),  # Saturday, night (hour 6)
            ("2024-03-11 07:00", "A", "T", 1.0, 0)]  # Monday morning
    log = _log(rows)
    fs = compute_features(log, COLS)
    assert fs.frame["tx_during_night"].tolist() == [1, 0]
    assert fs.frame["tx_during_weekend"].tolist() == [1, 0]
    assert fs.frame["tx_hour"].iloc[1] == 7.0
    table = fs.describe()
    assert len(table) == len(fs.names) == 4 + 6 + 3 + 6
    assert table["description"].str.len().min() > 20


def test_optional_roles_and_extra_columns():
    df = pd.DataFrame({"ts": ["2024-01-01", "2024-01-02"], "amt": [1.0, 2.0], "fraud": [0, 1],
                       "channel": ["web", "pos"], "score": [0.1, 0.2]})
    cols = FraudColumns(time="ts", amount="amt", target="fraud")
    fs = compute_features(prepare_log(df, cols), cols, extra=["channel", "score"])
    assert not any(n.startswith(("cust_", "term_")) for n in fs.names)
    assert fs.categorical == ["channel"] and "score" in fs.numeric


def test_features_of_a_large_log_are_complete_and_finite():
    """A log of 300,000 transactions over two months (the speed is measured by bench/, not here)."""
    rng = np.random.default_rng(0)
    n = 300_000
    log = pd.DataFrame({
        "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 60 * 86400, n)), unit="s"),
        "card": rng.integers(0, 8000, n).astype(str), "term": rng.integers(0, 16000, n).astype(str),
        "amt": rng.uniform(1, 100, n), "fraud": (rng.random(n) < 0.01).astype(float)})
    fs = compute_features(log, COLS)
    assert fs.frame.shape == (n, 19)
    assert np.isfinite(fs.frame.select_dtypes("number").to_numpy(dtype=float)).all()
