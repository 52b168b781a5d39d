"""Time-aware split: periods, gap, history, known compromised cards, and every error."""

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.columns import FraudColumns, prepare_log
from core.fraud.split import split_by_time, suggest_split

COLS = FraudColumns(time="ts", amount="amt", target="fraud", customer="card", terminal="term")


def _log(n_days=30, cards=None):
    """Every card makes one transaction a day; ``cards`` maps card -> day indices of fraud."""
    cards = cards or {"A": (), "F": (3, 12, 25)}
    rows = []
    for d in range(n_days):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)
        for h, (card, frauds) in enumerate(cards.items()):
            rows.append((day + pd.Timedelta(hours=8 + h), card, "T", 10.0, int(d in frauds)))
    return prepare_log(pd.DataFrame(rows, columns=["ts", "card", "term", "amt", "fraud"]), COLS)


def test_periods_gap_and_history():
    log = _log()
    s = split_by_time(log, COLS, train_start="2024-01-03", test_start="2024-01-20", gap_days=5,
                      drop_known_cards=False)
    days = log["ts"].dt.day.to_numpy()
    assert set(days[s.train_idx]) == set(range(3, 15))  # up to Jan 20 minus 5 days, exclusive
    assert set(days[s.test_idx]) == set(range(20, 31))
    assert s.n_history == 4 and s.train_end == pd.Timestamp("2024-01-15")
    assert "2024-01-14" in s.summary()["train"]


def test_known_compromised_cards_leave_the_test_period_once_their_label_is_known():
    # F's fraud of Jan 4 is known throughout the test period: all of F's test rows go. G's fraud
    # of Jan 13 is known only once the 7-day delay has passed (day - 7 days > Jan 13, so from
    # Jan 21): G keeps Jan 19 and 20. H's only fraud is in the test period itself and stays.
    log = _log(cards={"A": (), "F": (3, 5), "G": (12,), "H": (27,)})
    s = split_by_time(log, COLS, train_start="2024-01-01", test_start="2024-01-19", gap_days=7)
    test = log.iloc[s.test_idx]
    by_card = test.groupby("card")["ts"].apply(lambda t: sorted(t.dt.day))
    assert "F" not in by_card
    assert by_card["G"] == [19, 20]
    assert by_card["H"] == list(range(19, 31)) and by_card["A"] == list(range(19, 31))
    assert s.n_dropped_known_cards == 12 + 10
    # Frauds before train-start do not count as known (the handbook's convention).
    log2 = _log(cards={"A": (), "F": (1,), "G": (8, 9), "H": (27,)})
    s2 = split_by_time(log2, COLS, train_start="2024-01-05", test_start="2024-01-19", gap_days=7)
    assert s2.n_dropped_known_cards == 12  # G only
    s3 = split_by_time(log, COLS, train_start="2024-01-01", test_start="2024-01-19", gap_days=7,
                       drop_known_cards=False)
    assert len(s3.test_idx) == 4 * 12 and s3.n_dropped_known_cards == 0


def test_suggested_split_leaves_history_train_gap_and_test():
    log = _log(n_days=63)
    train_start, test_start = suggest_split(log["ts"], gap_days=7)
    assert (train_start - pd.Timestamp("2024-01-01")).days == 28
    assert (test_start - train_start).days == 14 + 7
    s = split_by_time(_log(n_days=63, cards={"A": (), "F": tuple(range(0, 63, 3))}), COLS,
                      drop_known_cards=False)
    assert s.train_start == train_start and s.test_start == test_start


@pytest.mark.parametrize("kwargs, match", [
    (dict(train_start="2024-01-15", test_start="2024-01-20", gap_days=7), "end after it starts"),
    (dict(test_start="2024-03-01"), "transactions in the test period"),
    (dict(train_start="2023-11-01", test_start="2023-12-15", gap_days=0, test_end="2024-01-10"),
     "transactions in the training period"),
    (dict(train_start="2024-01-14", test_start="2024-01-25", gap_days=0), "fraud cases in the training"),
    (dict(train_start="2024-01-01", test_start="2024-01-27", gap_days=0, drop_known_cards=False),
     "both fraud and legitimate"),
    (dict(test_start="not a date"), "Expected a date for test-start"),
    (dict(gap_days=-1), "gap of 0 or more"),
])
def test_split_errors(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        split_by_time(_log(), COLS, **kwargs)
