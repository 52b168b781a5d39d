"""Gradient boosting's trees walked in NumPy (core.ml.treewalk) give scikit-learn's predict_proba to the bit.

The models are fitted as the studio fits its baseline (core.ml.tabular._fit_baseline: categorical columns as
codes, blanks kept as NaN) on real rows with real blanks; the rows scored include blanks in every column,
categories the training never saw, infinities and single rows, as a request may send them."""

import numpy as np
import pandas as pd
import pytest

from core.data.preprocess import TabularPreprocessor
from core.ml.blend import Blend
from core.ml.tabular import _fit_baseline
from core.ml.treewalk import WALK_ROWS, compile_trees

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
CREDIT = ROOT / "sample_data" / "credit_applications.csv"
GERMAN = "credit_scoring/german_credit/germancredit.csv"


def _fit(df: pd.DataFrame, target: str, seed: int = 0):
    y = df[target].to_numpy()
    X = df.drop(columns=[target])
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    pre = TabularPreprocessor(numeric, categorical).fit(X)
    Z = pre.transform_codes(X)
    model, kind = _fit_baseline("gradient_boosting", pre, Z, None, y, None, seed)
    assert kind == "codes"
    return model, Z


def _awkward_rows(Z: np.ndarray, seed: int) -> np.ndarray:
    """Copies of real rows with blanks in every column, unseen category codes, infinities and exact
    split thresholds."""
    rng = np.random.default_rng(seed)
    rows = Z[rng.integers(0, len(Z), 600)].copy()
    rows[rng.random(rows.shape) < 0.15] = np.nan
    rows[:40, -1] = 97.0  # a category code the training never had
    rows[40:60] = np.nan  # a row of blanks only
    rows[60:70, 0] = np.inf
    rows[70:80, 0] = -np.inf
    return rows


def _assert_same(model, rows: np.ndarray) -> None:
    walk = compile_trees(model)
    assert walk is not None
    for start in range(0, len(rows), WALK_ROWS):
        part = rows[start:start + WALK_ROWS]
        np.testing.assert_array_equal(walk.proba(part), model.predict_proba(part)[:, 1])
    for i in range(0, len(rows), 37):  # one-row requests
        np.testing.assert_array_equal(walk.proba(rows[i:i + 1]), model.predict_proba(rows[i:i + 1])[:, 1])


def _split_kinds(model) -> tuple[int, int, int]:
    """Categorical splits, splits sending blanks left, splits sending them right."""
    cat = left = right = 0
    for (tree,) in model._predictors:
        inner = tree.nodes[tree.nodes["is_leaf"] == 0]
        cat += int(inner["is_categorical"].sum())
        left += int(inner["missing_go_to_left"].sum())
        right += int((inner["missing_go_to_left"] == 0).sum())
    return cat, left, right


def test_bundled_credit_applications_with_blanks_to_the_bit():
    df = pd.read_csv(CREDIT).drop(columns=["applicant_id"])
    model, Z = _fit(df, "default")
    assert np.isnan(Z).any()  # the sample's own blanks reach the model
    cat, left, right = _split_kinds(model)
    assert cat and left and right  # every kind of split is exercised
    _assert_same(model, Z)
    _assert_same(model, _awkward_rows(Z, seed=1))


@pytest.mark.realdata
def test_german_credit_categorical_splits_to_the_bit(shared_data):
    df = pd.read_csv(shared_data(GERMAN))
    df["creditability"] = (df["creditability"] == "bad").astype(int)
    rng = np.random.default_rng(2)
    for c in ("duration_in_month", "credit_amount", "purpose", "savings_account_and_bonds"):
        df.loc[rng.random(len(df)) < 0.1, c] = np.nan  # blanks in training, so splits learn where they go
    model, Z = _fit(df, "creditability", seed=3)
    assert _split_kinds(model)[0] > 0
    _assert_same(model, Z)
    _assert_same(model, _awkward_rows(Z, seed=4))


def test_blend_uses_the_walk_for_a_few_rows_and_the_model_for_many(monkeypatch):
    df = pd.read_csv(CREDIT).drop(columns=["applicant_id"])
    model, Z = _fit(df, "default")
    blend = Blend("gradient_boosting", 0.25, model)
    calls = []
    own = model.predict_proba
    monkeypatch.setattr(model, "predict_proba", lambda X: calls.append(len(X)) or own(X), raising=False)
    one = blend.baseline_codes(None, Z[:1])
    assert calls == []  # walked, not asked
    np.testing.assert_array_equal(one, own(Z[:1])[:, 1])
    many = blend.baseline_codes(None, Z[:WALK_ROWS + 1])
    assert calls == [WALK_ROWS + 1]
    np.testing.assert_array_equal(many, own(Z[:WALK_ROWS + 1])[:, 1])


def test_other_models_and_inputs_go_to_the_model():
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    walk = compile_trees(HistGradientBoostingClassifier(max_iter=5).fit(X, y))
    assert walk is not None
    np.testing.assert_array_equal(walk.proba(X[:3]), HistGradientBoostingClassifier(max_iter=5).fit(X, y)
                                  .predict_proba(X[:3])[:, 1])
    assert walk.proba(X[:3, :3]) is None  # a wrong width reaches the model (and its error)
    assert walk.proba(X[:3].astype(int)) is None
    assert walk.proba(X[:0]) is None
    three = HistGradientBoostingClassifier(max_iter=5).fit(X, np.digitize(X[:, 1], [-0.5, 0.5]))
    assert compile_trees(three) is None  # three trees per iteration: the model's own softmax
    assert compile_trees(HistGradientBoostingRegressor(max_iter=5).fit(X, X[:, 0])) is None


def test_a_category_the_trees_never_saw_goes_the_missing_way_as_in_scikit_learn():
    """scikit-learn sends a category its bins do not know (the encoder's does) the way blanks go; this
    version's bins know every category the encoder does, so the bins are narrowed by hand to reach that rule."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=400), rng.integers(0, 5, 400).astype(float)])
    X[rng.random(400) < 0.1, 1] = np.nan
    y = ((X[:, 0] + (np.isin(X[:, 1], [1, 3]) | np.isnan(X[:, 1]))) > 0.5).astype(int)  # blanks go with 1 and 3
    model = HistGradientBoostingClassifier(max_iter=30, categorical_features=[False, True], random_state=0).fit(X, y)
    trained = model.predict_proba(np.array([[0.0, 4.0]]))[0, 1]
    model._bin_mapper.bin_thresholds_[0] = np.arange(4.0)  # ordinal code 4 is now unknown to the trees
    rows = np.column_stack([rng.normal(size=200), np.full(200, 4.0)])
    np.testing.assert_array_equal(compile_trees(model).proba(rows), model.predict_proba(rows)[:, 1])
    assert model.predict_proba(np.array([[0.0, 4.0]]))[0, 1] != trained  # the narrowed bins changed the path
