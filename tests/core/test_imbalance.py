import numpy as np
import pytest

from core.errors import DataValidationError
from core.data.imbalance import IMBALANCE_METHODS, compute_class_weight, rebalance


def _data(n_pos=20, n_neg=180, seed=0):
    rng = np.random.default_rng(seed)
    X = np.c_[rng.normal(size=(n_pos + n_neg, 2)), rng.integers(0, 3, n_pos + n_neg)]
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)].astype(int)
    return X.astype(np.float32), y


@pytest.mark.parametrize("method", list(IMBALANCE_METHODS))
def test_every_method_runs_and_reports_counts(method):
    X, y = _data()
    r = rebalance(X, y, method=method, categorical_idx=[2], seed=0)
    assert r.counts_before == {0: 180, 1: 20}
    assert sum(r.counts_after.values()) == len(r.y) == len(r.X)
    if method in ("oversample", "smote"):
        assert r.counts_after == {0: 180, 1: 180}
    if method == "undersample":
        assert r.counts_after == {0: 20, 1: 20}
    if method in ("none", "class_weight"):
        assert r.counts_after == r.counts_before
    if method == "class_weight":
        assert r.class_weight == pytest.approx({0: 200 / 360, 1: 200 / 40})
    else:
        assert r.class_weight is None


def test_smote_nc_keeps_categories_whole():
    X, y = _data()
    r = rebalance(X, y, method="smote", categorical_idx=[2], seed=0)
    assert set(np.unique(r.X[:, 2])) <= {0.0, 1.0, 2.0}


def test_deterministic():
    X, y = _data()
    a = rebalance(X, y, method="smote", seed=3)
    b = rebalance(X, y, method="smote", seed=3)
    assert np.array_equal(a.X, b.X)


def test_too_few_minority_rows_for_smote():
    X, y = _data(n_pos=4)
    with pytest.raises(DataValidationError, match="SMOTE needs at least 6 rows of the rare class .* has 4"):
        rebalance(X, y, method="smote")
    # Random over-sampling works with few rows.
    assert rebalance(X, y, method="oversample").counts_after[1] == 180


def test_errors_for_unknown_method_and_single_class():
    X, y = _data()
    with pytest.raises(DataValidationError, match="must be one of .* got 'magic'"):
        rebalance(X, y, method="magic")
    with pytest.raises(DataValidationError, match="has only class 0"):
        rebalance(X, np.zeros(len(y), int), method="none")


def test_balanced_weights():
    assert compute_class_weight([0, 0, 0, 1]) == {0: 4 / 6, 1: 2.0}
