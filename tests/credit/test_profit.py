import numpy as np
import pytest

from core.credit.profit import (
    break_even_threshold,
    compute_decision_kpis,
    compute_profit_curve,
    find_optimal_threshold,
)
from core.errors import DataValidationError

Y = np.array([0, 0, 0, 1, 0, 1])
P = np.array([0.05, 0.10, 0.30, 0.40, 0.60, 0.90])


def test_kpis_by_hand():
    k = compute_decision_kpis(Y, P, threshold=0.35, loss_default=10, margin_good=2)
    # Approved: the three rows below 0.35, all good.
    assert k["approved"] == 3 and k["declined"] == 3
    assert k["approval_rate"] == 0.5
    assert k["bad_rate"] == 0.0
    assert k["profit"] == 6.0
    assert k["defaults_caught"] == 1.0
    assert k["goods_declined"] == 1
    k2 = compute_decision_kpis(Y, P, threshold=0.5, loss_default=10, margin_good=2)
    assert k2["approved"] == 4 and k2["bad_rate"] == 0.25 and k2["profit"] == 2 * 3 - 10


def test_curve_matches_kpis_at_every_grid_point():
    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    curve = compute_profit_curve(y, p, loss_default=5, margin_good=1, n_thresholds=51)
    for _, row in curve.iloc[::7].iterrows():
        k = compute_decision_kpis(y, p, threshold=row["threshold"], loss_default=5, margin_good=1)
        assert row["approved"] == k["approved"]
        assert row["profit"] == pytest.approx(k["profit"])
        assert row["bad_rate"] == pytest.approx(k["bad_rate"])
    assert curve["approval_rate"].is_monotonic_increasing
    assert curve["profit"].iloc[0] == 0  # threshold 0 approves nobody


def test_optimum_near_break_even_for_calibrated_scores():
    rng = np.random.default_rng(1)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    curve = compute_profit_curve(y, p, loss_default=4, margin_good=1)
    best = find_optimal_threshold(curve)
    assert break_even_threshold(loss_default=4, margin_good=1) == pytest.approx(0.2)
    assert abs(best["threshold"] - 0.2) < 0.03
    assert best["profit"] == curve["profit"].max()


def test_curve_on_a_large_input_with_tied_scores_counts_like_a_direct_count():
    rng = np.random.default_rng(2)
    p = np.round(rng.random(100_000), 2)  # many applicants share a score: the grid lands on ties
    y = (rng.random(100_000) < p).astype(int)
    curve = compute_profit_curve(y, p, loss_default=5, margin_good=1)
    for _, row in curve.iloc[::20].iterrows():
        approved = p < row["threshold"]
        assert row["approved"] == approved.sum()
        assert row["approved_bads"] == y[approved].sum()
        assert row["profit"] == pytest.approx(1 * (approved & (y == 0)).sum() - 5 * y[approved].sum())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=[0, 1], p=[0.1]), "same length"),
        (dict(y=[], p=[]), "needs scored applicants"),
        (dict(loss_default=-1), "Loss from approving a defaulter must be a non-negative"),
        (dict(margin_good=float("nan")), "Margin lost by rejecting a good applicant must be"),
    ],
)
def test_profit_errors(kwargs, match):
    args = dict(y=Y, p=P, loss_default=1, margin_good=1) | kwargs
    with pytest.raises(DataValidationError, match=match):
        compute_profit_curve(args["y"], args["p"], loss_default=args["loss_default"],
                             margin_good=args["margin_good"])


def test_kpi_threshold_out_of_range():
    with pytest.raises(DataValidationError, match="threshold must be a probability"):
        compute_decision_kpis(Y, P, threshold=1.5, loss_default=1, margin_good=1)
