import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.ml.metrics import (
    compute_binary_metrics,
    compute_calibration,
    compute_confusion,
    compute_cost_curve,
    compute_ks,
    compute_recall_at_precision,
    compute_threshold_grid,
    get_best_threshold,
)

Y = np.array([0, 0, 1, 1, 0, 1])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])


def test_confusion_and_point_metrics():
    c = compute_confusion(Y, P, 0.5)
    assert c == {"tp": 2, "fp": 0, "tn": 3, "fn": 1}
    m = compute_binary_metrics(Y, P, 0.5)
    assert m["precision"] == 1.0
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(0.8)
    assert m["accuracy"] == pytest.approx(5 / 6)
    # 8 of the 9 positive/negative pairs are ordered correctly.
    assert m["roc_auc"] == pytest.approx(8 / 9)
    assert m["gini"] == pytest.approx(2 * 8 / 9 - 1)
    assert m["brier"] == pytest.approx(np.mean((P - Y) ** 2))


def test_ks_matches_definition():
    # Positives' CDF vs negatives' CDF: largest gap is after 0.4 (neg all seen, pos 1/3 seen).
    assert compute_ks(Y, P) == pytest.approx(2 / 3)
    assert compute_ks([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_single_class_gives_nan_aucs_not_error():
    m = compute_binary_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert np.isnan(m["roc_auc"]) and np.isnan(m["ks"])


def test_length_mismatch_and_empty():
    with pytest.raises(DataValidationError, match="same length; got 2 labels and 3 scores"):
        compute_binary_metrics([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match="empty evaluation set"):
        compute_binary_metrics([], [])


def test_threshold_grid_matches_confusion_at_every_threshold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 2)  # ties on purpose
    grid = compute_threshold_grid(y, p, n=21)
    for _, row in grid.iterrows():
        c = compute_confusion(y, p, row["threshold"])
        assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (c["tp"], c["fp"], c["tn"], c["fn"])


def test_cost_curve_and_best_threshold():
    grid = compute_threshold_grid(Y, P, n=11)
    curve = compute_cost_curve(grid, cost_fp=1, cost_fn=10)
    best = get_best_threshold(curve)
    # Missing a positive costs 10x a false alarm: the best threshold catches all 3 positives.
    row = curve[curve["threshold"] == best].iloc[0]
    assert row["fn"] == 0 and row["value"] == -row["fp"]
    with pytest.raises(DataValidationError, match="cost_fp must be zero or more"):
        compute_cost_curve(grid, cost_fp=-1)


def test_calibration_bins_and_recall_at_precision():
    cal = compute_calibration(Y, P, n_bins=2)
    assert cal["count"].sum() == 6
    assert cal.loc[cal["bin"] == 1, "observed_rate"].iloc[0] == 1.0
    assert compute_recall_at_precision(Y, P, 1.0) == pytest.approx(2 / 3)
