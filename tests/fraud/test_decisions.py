"""Precision@k per day, card precision@k, cost curve, decision bands, recall at precision."""

import numpy as np
import pytest

from core.errors import DataValidationError
from core.fraud.decisions import (
    compute_card_precision_at_k,
    compute_cost_curve,
    compute_decision_bands,
    compute_precision_at_k_per_day,
    compute_recall_at_precision,
    get_optimal_threshold,
)


def test_precision_at_k_per_day_divides_by_k():
    days = [1, 1, 1, 2, 2, 2]
    y = [1, 0, 1, 0, 0, 1]
    p = [0.9, 0.8, 0.1, 0.7, 0.6, 0.5]
    mean, per_day = compute_precision_at_k_per_day(days, y, p, k=2)
    assert per_day["precision_at_k"].tolist() == [0.5, 0.0]
    assert mean == 0.25
    mean3, _ = compute_precision_at_k_per_day(days, y, p, k=4)  # only 3 rows a day: 2/4 and 1/4
    assert mean3 == pytest.approx((2 / 4 + 1 / 4) / 2)


def test_card_precision_groups_by_card_and_day():
    # Day 1: card A has two transactions (max score 0.9, one fraud), B one legit at 0.8,
    # C one fraud at 0.1. Top 2 cards: A (fraud), B (legit) -> 0.5.
    # Day 2: A again at 0.95 (fraud), D legit at 0.6, E fraud at 0.5.
    days = [1, 1, 1, 1, 2, 2, 2]
    cards = ["A", "A", "B", "C", "A", "D", "E"]
    y = [0, 1, 0, 1, 1, 0, 1]
    p = [0.9, 0.2, 0.8, 0.1, 0.95, 0.6, 0.5]
    keep, per_day = compute_card_precision_at_k(days, cards, y, p, k=2, remove_detected=False)
    assert per_day["card_precision_at_k"].tolist() == [0.5, 0.5]  # day 2: A, D
    assert keep == 0.5
    # With the handbook's removal, A (caught on day 1) is gone on day 2: top 2 are D and E.
    removed, per_day = compute_card_precision_at_k(days, cards, y, p, k=2, remove_detected=True)
    assert per_day["card_precision_at_k"].tolist() == [0.5, 0.5]
    assert per_day["cards"].tolist() == [3, 2]
    assert per_day["compromised_cards"].tolist() == [2, 1]


def test_card_precision_removal_changes_the_result():
    days = [1, 1, 2, 2]
    cards = ["A", "B", "A", "B"]
    y = [1, 0, 1, 0]
    p = [0.9, 0.1, 0.9, 0.1]
    assert compute_card_precision_at_k(days, cards, y, p, k=1, remove_detected=False)[0] == 1.0
    assert compute_card_precision_at_k(days, cards, y, p, k=1, remove_detected=True)[0] == 0.5


def test_cost_curve_and_optimum():
    y = [1, 0, 1, 0]
    p = [0.9, 0.8, 0.3, 0.1]
    amounts = [100.0, 50.0, 3.0, 20.0]
    curve = compute_cost_curve(y, p, amounts, review_fee=5.0)
    # alerts 0: lose 103; 1: 3 + 5; 2: 3 + 10; 3: 0 + 15; 4: 0 + 20.
    assert curve["alerts"].tolist() == [0, 1, 2, 3, 4]
    assert curve["total_cost"].tolist() == [103, 8, 13, 15, 20]
    assert curve["savings"].tolist() == [0, 95, 90, 88, 83]
    best = get_optimal_threshold(curve)
    assert best["threshold"] == 0.9 and best["alerts"] == 1 and best["fraud_amount_caught"] == 100
    # A free review makes alerting everything optimal.
    free = compute_cost_curve(y, p, amounts, review_fee=0.0)
    assert get_optimal_threshold(free)["fraud_amount_missed"] == 0


def test_cost_curve_ties_and_thinning():
    rng = np.random.default_rng(0)
    p = rng.random(5000).round(2)  # many ties
    y = (rng.random(5000) < 0.05).astype(int)
    curve = compute_cost_curve(y, p, np.ones(5000), review_fee=1.0, n_points=50)
    assert len(curve) <= 51
    assert curve["alerts"].is_monotonic_increasing
    for _, r in curve.iloc[1:].iterrows():  # each cut-off alerts exactly the rows >= threshold
        assert r["alerts"] == (p >= r["threshold"]).sum()


def test_decision_bands():
    y = [1, 0, 1, 0, 0]
    p = [0.95, 0.7, 0.5, 0.2, 0.05]
    a = [100.0, 10.0, 30.0, 5.0, 1.0]
    b = compute_decision_bands(y, p, a, review_threshold=0.5, block_threshold=0.9).set_index("band")
    assert b["transactions"].tolist() == [2, 2, 1]
    assert b.loc["block", "fraud_amount"] == 100 and b.loc["review", "fraud"] == 1
    assert b.loc["approve", "fraud"] == 0 and b.loc["approve", "amount"] == 6
    assert b["share_of_all_fraud"].sum() == pytest.approx(1)


def test_recall_at_precision():
    y = [1, 1, 0, 1, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.1]
    assert compute_recall_at_precision(y, p, 1.0) == pytest.approx(2 / 3)
    assert compute_recall_at_precision(y, p, 0.75) == 1.0
    assert compute_recall_at_precision([0, 1], [0.9, 0.1], 0.9) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: compute_precision_at_k_per_day([1], [1], [0.5], k=0), "k \\(alerts per day\\)"),
    (lambda: compute_card_precision_at_k([1], ["A"], [1], [0.5], k=0), "at least 1"),
    (lambda: compute_cost_curve([1], [0.5], [1.0], review_fee=-1), "review fee of 0 or more"),
    (lambda: compute_decision_bands([1], [0.5], [1.0], review_threshold=0.8, block_threshold=0.3),
     "block threshold at or above"),
])
def test_decision_errors(call, match):
    with pytest.raises(DataValidationError, match=match):
        call()
