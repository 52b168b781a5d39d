import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.ml.explain import compute_permutation_shap, compute_shap_tabular


def test_linear_model_gets_exact_shap_values():
    rng = np.random.default_rng(0)
    w = np.array([1.0, -2.0, 0.5, 0.0])
    bg, X = rng.normal(size=(20, 4)), rng.normal(size=(7, 4))
    values, base = compute_permutation_shap(lambda z: z @ w, bg, X, seed=1)
    assert np.allclose(values, w * (X - bg.mean(axis=0)), atol=1e-5)
    assert base == pytest.approx(float(np.mean(bg @ w)), abs=1e-5)


def test_values_add_up_and_agree_with_shap_library():
    import shap

    rng = np.random.default_rng(1)
    bg, X = rng.normal(size=(15, 3)), rng.normal(size=(4, 3))

    def f(z):
        return 1 / (1 + np.exp(-(z[:, 0] * z[:, 1] + z[:, 2])))

    values, base = compute_permutation_shap(f, bg, X, n_permutations=30, seed=0)
    assert np.allclose(values.sum(axis=1), f(X) - f(bg).mean(), atol=1e-5)
    reference = shap.explainers.Permutation(f, shap.maskers.Independent(bg, max_samples=15))(X, max_evals=600)
    assert np.abs(values - reference.values).max() < 0.02


def test_batching_the_walks_in_fewer_model_calls_gives_the_same_values():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(6, 4))
    bg, X = rng.normal(size=(12, 6)), rng.normal(size=(9, 6))
    calls = []

    def f(z):
        calls.append(len(z))
        return np.tanh(z @ w).sum(axis=1)

    # A walk's 5 states between its ends (the background alone, the row alone: predicted once) x 12 background rows.
    one_row = [compute_permutation_shap(f, bg, X[:1], n_permutations=5, seed=4, max_batch_rows=b) for b in (60, 10**6)]
    assert calls == [12 + 1 + 60] + [60] * 9 + [12 + 1 + 10 * 60]  # each walk in its own call, then all in one
    assert np.array_equal(one_row[0][0], one_row[1][0]) and one_row[0][1] == one_row[1][1]
    calls.clear()
    many = [compute_permutation_shap(f, bg, X, n_permutations=2, seed=4, max_batch_rows=b) for b in (60 * 4, 10**6)]
    assert len(calls) == 4 * 3 + 1  # blocks of 4 rows (4, 4, 1) per walk, then everything at once
    assert np.array_equal(many[0][0], many[1][0])
    assert np.allclose(many[1][0].sum(axis=1), f(X) - f(bg).mean(), atol=1e-9)


def _every_state_walked(f, bg, X, n_permutations, seed):
    """The estimator written plainly: every state of every walk, its ends included, sent to the model."""
    rng = np.random.default_rng(seed)
    n, m = X.shape
    values = np.zeros((n, m))
    for order in [rng.permutation(m) for _ in range(n_permutations)]:
        for direction in (order, order[::-1]):
            for i in range(n):
                on = np.zeros(m, dtype=bool)
                means = [f(bg).mean()]
                for j in direction:
                    on[j] = True
                    means.append(f(np.where(on, X[i], bg)).mean())
                values[i, direction] += np.diff(means)
    return values / (2 * n_permutations), f(bg).mean()


def test_predicting_the_walks_ends_once_gives_the_values_of_walking_every_state():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(7, 3))
    bg, X = rng.normal(size=(11, 7)), rng.normal(size=(6, 7))

    def f(z):
        return np.tanh(np.asarray(z, dtype=float) @ w).sum(axis=1)

    for n_permutations, rows in ((5, 1), (1, 6), (2, 6)):
        values, base = compute_permutation_shap(f, bg, X[:rows], n_permutations=n_permutations, seed=3)
        plain, plain_base = _every_state_walked(f, bg.astype(np.float32), X[:rows].astype(np.float32),
                                                n_permutations, 3)
        np.testing.assert_allclose(values, plain, rtol=0, atol=1e-12)
        assert base == pytest.approx(plain_base, abs=1e-12)

    def g(z):  # one feature: no states between a walk's ends
        return np.tanh(2 * np.asarray(z, dtype=float)[:, 0])

    one, base = compute_permutation_shap(g, bg[:, :1], X[:, :1], n_permutations=2, seed=0)
    x1, b1 = X[:, :1].astype(np.float32), bg[:, :1].astype(np.float32)
    np.testing.assert_allclose(one[:, 0], g(x1) - g(b1).mean(), rtol=0, atol=1e-12)


def test_the_model_is_asked_a_few_rows_at_a_time_and_the_values_stay_the_same():
    """A call's batch goes to the model in slices of ``predict_rows`` (its working copies stay small)."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=(5, 3))
    bg, X = rng.normal(size=(10, 5)), rng.normal(size=(7, 5))
    calls = []

    def f(z):
        calls.append(len(z))
        return np.tanh(z @ w).sum(axis=1)

    whole = compute_permutation_shap(f, bg, X, n_permutations=2, seed=1, predict_rows=10**6)
    assert max(calls) > 100
    calls.clear()
    sliced = compute_permutation_shap(f, bg, X, n_permutations=2, seed=1, predict_rows=37)
    assert max(calls) == 37 and len(calls) > 10
    assert np.array_equal(whole[0], sliced[0]) and whole[1] == sliced[1]


def test_result_helpers_and_errors():
    bg = np.zeros((5, 2))
    X = np.array([[1.0, -1.0], [1.0, 0.0]])
    res = compute_shap_tabular(lambda z: z[:, 0] - 3 * z[:, 1], bg, X, ["a", "b"],
                               pd.DataFrame({"a": [1, 1], "b": [-1, 0]}))
    assert res.importance()["feature"].tolist() == ["b", "a"]
    top = res.top_reasons(0, k=4)
    assert top["feature"].tolist() == ["b", "a"] and top["shap"].tolist() == pytest.approx([3.0, 1.0])
    assert res.contributions(1)["shap"].tolist() == pytest.approx([1.0, 0.0])
    with pytest.raises(DataValidationError, match="between 0 and 1; got 5"):
        res.contributions(5)
    with pytest.raises(DataValidationError, match="no rows to explain"):
        compute_shap_tabular(lambda z: z[:, 0], bg, np.zeros((0, 2)), ["a", "b"], pd.DataFrame())
    with pytest.raises(DataValidationError, match="3 feature names"):
        compute_shap_tabular(lambda z: z[:, 0], bg, X, ["a", "b", "c"], pd.DataFrame())
