import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.data.preprocess import OTHER, TabularPreprocessor, find_sentinels, is_sentinel_code


def _df():
    return pd.DataFrame({
        "x": [1.0, 2.0, np.nan, 3.0, 4.0],
        "c": ["a", "a", "b", None, "rare"],
    })


def test_fit_uses_training_rows_only_and_transforms_new_rows():
    pre = TabularPreprocessor(["x"], ["c"], rare_min_frac=0.2).fit(_df())
    assert pre.medians["x"] == 2.5
    # 'rare' (1 of 5 = 0.2) is kept, categories ordered by frequency; '(other)' last.
    assert pre.categories["c"][0] == "a" and pre.categories["c"][-1] == OTHER
    Z = pre.transform_codes(pd.DataFrame({"x": [np.nan, 2.5], "c": ["a", "never-seen"]}))
    assert np.isnan(Z[0, 0])  # 'x' had missing training rows: missing stays visible as such
    assert Z[1, 1] == len(pre.categories["c"]) - 1  # unseen -> (other)
    X = pre.encode(Z)
    assert X.shape == (2, 1 + 1 + len(pre.categories["c"]))
    assert X[0, 0] == pytest.approx(X[1, 0])  # missing imputed with the training median ...
    assert X[:, 1].tolist() == [1.0, 0.0]  # ... and flagged by the indicator
    assert X[:, 2:].sum(axis=1).tolist() == [1.0, 1.0]
    assert len(pre.feature_names) == X.shape[1]


def test_scaling_is_standard():
    pre = TabularPreprocessor(["x"], [], scaling="standard").fit(pd.DataFrame({"x": [0.0, 2.0, 4.0]}))
    z = pre.transform(pd.DataFrame({"x": [0.0, 2.0, 4.0]}))[:, 0]
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)


def test_high_cardinality_grouped_with_notice():
    df = pd.DataFrame({"c": [f"v{i % 50}" for i in range(500)]})
    pre = TabularPreprocessor([], ["c"], max_categories=10).fit(df)
    assert len(pre.categories["c"]) == 10
    assert pre.grouping_notices() == [
        "'c': 41 rare or surplus categories grouped as '(other)' (kept the 9 most frequent)."]


def test_round_trip_json():
    pre = TabularPreprocessor(["x"], ["c"]).fit(_df())
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert np.array_equal(pre.transform(_df()), again.transform(_df()))
    assert pre.decode_codes(pre.transform_codes(_df().fillna({"x": 2.5})))["x"].round(6).tolist() == [1, 2, 2.5, 3, 4]


def test_errors():
    with pytest.raises(DataValidationError, match="at least one feature column"):
        TabularPreprocessor([], [])
    pre = TabularPreprocessor(["x"], ["c"]).fit(_df())
    with pytest.raises(DataValidationError, match=r"missing \['c'\]"):
        pre.transform(pd.DataFrame({"x": [1.0]}))


def _bureau_like(n=2000, seed=0):
    """Past-due counts 0..13 with the codes 96 / 98, a heavy-tailed ratio, income missing for 20 %."""
    rng = np.random.default_rng(seed)
    late = np.minimum(rng.poisson(0.3, n), 13).astype(float)
    late[:6] = [96, 98, 98, 98, 98, 13]
    ratio = rng.beta(1, 3, n)
    tail = rng.random(n) < 0.05
    ratio[tail] = rng.uniform(500, 50_000, tail.sum())
    income = rng.lognormal(8.5, 0.6, n)
    income[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({"late": late, "ratio": ratio, "income": income})


def test_sentinel_codes_look_like_codes_and_lie_far_beyond_the_bulk():
    assert [is_sentinel_code(v) for v in (96, 98, 99, 999, 9998, -999, 97.5, 89, 100, 13)] == [
        True, True, True, True, True, True, False, False, False, False]
    counts = pd.Series([0] * 90 + [1] * 5 + [13, 96, 96, 98, 98])
    assert find_sentinels(counts) == [96.0, 98.0]
    # An age column with a few people of 99 and an income of exactly 9,999 are ordinary values.
    assert find_sentinels(pd.Series([30, 45, 60, 95, 99, 99, 70, 80] * 10)) == []
    assert find_sentinels(pd.Series([2_000.0, 5_000, 9_999, 9_999, 25_000, 40_000] * 10)) == []
    # A code seen once is not a pattern, and the tail of an ordinary count is not a code.
    assert find_sentinels(pd.Series([0] * 50 + [1, 2, 98])) == []
    assert find_sentinels(pd.Series([0] * 50 + [5] * 20 + [40, 60, 99, 99])) == []


def test_sentinels_become_missing_with_an_indicator_and_a_notice():
    df = _bureau_like()
    pre = TabularPreprocessor(["late", "ratio", "income"], [], scaling="quantile").fit(df)
    assert pre.sentinels == {"late": [96.0, 98.0]}
    assert pre.indicators == ["late", "income"]  # ratio has no missing values, so no indicator
    assert pre.feature_names == ["late", "ratio", "income", "late (missing)", "income (missing)"]
    assert pre.feature_groups["late (missing)"] == "late" and pre.feature_groups["income (missing)"] == "income"
    Z = pre.transform_codes(pd.DataFrame({"late": [98, 0, np.nan], "ratio": [0.2] * 3, "income": [np.nan, 3e3, 4e3]}))
    assert np.isnan(Z[0, 0]) and np.isnan(Z[2, 0]) and not np.isnan(Z[1, 0])  # 98 and empty are both missing
    X = pre.encode(Z)
    assert not np.isnan(X).any()
    assert X[:, 3].tolist() == [1, 0, 1] and X[:, 4].tolist() == [1, 0, 0]
    median_code = pre.transform_codes(pd.DataFrame({"late": [pre.medians["late"]], "ratio": [0.2],
                                                    "income": [1.0]}))[0, 0]
    assert X[0, 0] == pytest.approx(median_code)
    notes = pre.fit_notices()
    assert any("'late': the value(s) 96, 98 (5 training rows)" in n and "codes for 'unknown'" in n for n in notes)
    assert any(n.startswith("'income': ") and "missing-value indicator" in n for n in notes)


def test_sentinels_and_clipping_are_learned_on_training_rows_only():
    df = _bureau_like()
    train, test = df.iloc[:1500], df.iloc[1500:].copy()
    test.loc[test.index[:3], "ratio"] = [1e9, -5.0, 0.5]
    test.loc[test.index[:2], "late"] = [999, 50]
    pre = TabularPreprocessor(["late", "ratio", "income"], [], scaling="quantile").fit(train)
    fitted = json.dumps(pre.to_dict(), sort_keys=True)
    Z = pre.transform_codes(test)
    assert json.dumps(pre.to_dict(), sort_keys=True) == fitted  # transforming never refits
    refit = TabularPreprocessor(["late", "ratio", "income"], [], scaling="quantile").fit(train)
    assert json.dumps(refit.to_dict(), sort_keys=True) == fitted
    top = pre.transform_codes(pd.DataFrame({"late": [0], "ratio": [train["ratio"].max()], "income": [1.0]}))[0, 1]
    assert Z[0, 1] == pytest.approx(top)  # 1e9 is clipped to the training maximum's code
    # 999 never occurred in training, so it is not a learned code: an extreme count, clipped.
    assert not np.isnan(Z[0, 0]) and Z[0, 0] == pytest.approx(Z[1, 0])


def test_heavy_tail_does_not_dominate_with_quantile_scaling():
    df = _bureau_like()
    q = TabularPreprocessor(["ratio"], [], scaling="quantile").fit(df).transform(df)[:, 0]
    s = TabularPreprocessor(["ratio"], [], scaling="standard").fit(df).transform(df)[:, 0]
    assert np.abs(q).max() < 3.1 and abs(q.mean()) < 0.05 and 0.9 < q.std() < 1.1
    assert np.abs(s).max() > 4  # standard scaling leaves thousands far out ...
    bulk = df["ratio"] < 1
    assert np.ptp(s[bulk]) < 0.1  # ... and squeezes 95 % of the rows into a sliver
    assert np.ptp(q[bulk]) > 4  # the quantile codes spread them out
    # Order is kept: a larger ratio never gets a smaller code.
    order = np.argsort(df["ratio"].to_numpy())
    assert np.all(np.diff(q[order]) >= -1e-6)


def test_round_trip_json_with_sentinels_indicators_and_quantiles():
    df = _bureau_like().assign(c=["a", "b"] * 1000)
    pre = TabularPreprocessor(["late", "ratio", "income"], ["c"], scaling="quantile").fit(df)
    text = json.dumps(pre.to_dict(), allow_nan=False)  # strict JSON: no NaN, no numpy types
    again = TabularPreprocessor.from_dict(json.loads(text))
    assert again.scaling == "quantile" and again.sentinels == pre.sentinels and again.indicators == pre.indicators
    assert np.array_equal(pre.transform(df), again.transform(df))
    back = again.decode_codes(again.transform_codes(df.iloc[:50]))
    assert np.allclose(back["ratio"], df["ratio"].iloc[:50], rtol=1e-3)
    assert back["income"].isna().tolist() == df["income"].iloc[:50].isna().tolist()


def test_old_saved_preprocessor_loads_and_transforms_as_before():
    old = {"numeric": ["x"], "categorical": ["c"], "rare_min_frac": 0.01, "max_categories": 30,
           "medians": {"x": 2.5}, "means": {"x": 2.5}, "stds": {"x": 1.118033988749895},
           "categories": {"c": ["a", "b", "(missing)", "rare", OTHER]}, "grouped": {"c": 0}}
    pre = TabularPreprocessor.from_dict(old)
    assert pre.scaling == "standard" and pre.indicators == [] and pre.sentinels == {}
    X = pre.transform(_df())
    assert X.shape == (5, 1 + 5) and not np.isnan(X).any()
    assert X[:, 0] == pytest.approx((np.array([1, 2, 2.5, 3, 4]) - 2.5) / 1.118033988749895)
    assert pre.feature_names[0] == "x" and pre.feature_groups["c=a"] == "c"


def test_missing_values_travel_through_a_resampler_as_categories():
    df = _bureau_like(200)
    pre = TabularPreprocessor(["late", "ratio", "income"], [], scaling="quantile").fit(df)
    Z = pre.transform_codes(df)
    Zc, cat_idx = pre.missing_to_categories(Z)
    assert Zc.shape == (200, 5) and cat_idx == [3, 4] and not np.isnan(Zc).any()
    back = pre.missing_from_categories(Zc)
    assert np.array_equal(np.isnan(back), np.isnan(Z)) and np.allclose(np.nan_to_num(back), np.nan_to_num(Z))


def test_unknown_scaling_is_refused():
    with pytest.raises(DataValidationError, match=r"Numeric scaling must be one of \['standard', 'quantile'\]"):
        TabularPreprocessor(["x"], [], scaling="log")


def test_categorical_blanks_are_a_category_of_their_own_however_rare():
    """A blank job in 0.5 % of rows (below the 1 % rare cut) keeps its own one-hot column instead of
    joining the rare jobs in '(other)', with a notice; a file without blanks gets no such column."""
    jobs = ["Other"] * 600 + ["Office"] * 390 + ["Astronaut"] * 5 + [None] * 5
    df = pd.DataFrame({"job": jobs, "x": np.arange(1000.0)})
    pre = TabularPreprocessor(["x"], ["job"]).fit(df)
    assert pre.categories["job"] == ["Other", "Office", "(missing)", OTHER]
    assert pre.grouped["job"] == 1  # only 'Astronaut'
    X = pre.transform(pd.DataFrame({"job": [None, "Astronaut", "Office"], "x": [1.0, 2.0, 3.0]}))
    onehot = X[:, -4:]
    assert onehot.argmax(axis=1).tolist() == [2, 3, 1]
    assert "'job': 5 training rows are blank; the model sees the blanks as a category of their own " \
           "('(missing)')." in pre.fit_notices()
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert again.fit_notices() == pre.fit_notices()
    tidy = TabularPreprocessor(["x"], ["job"]).fit(df.fillna({"job": "Other"}))
    assert "(missing)" not in tidy.categories["job"]
    assert not any("blank" in n for n in tidy.fit_notices())
    # With a category cap the blank still keeps its place; the surplus goes to '(other)'.
    capped = TabularPreprocessor(["x"], ["job"], max_categories=3).fit(df)
    assert capped.categories["job"] == ["Other", "(missing)", OTHER]


@pytest.mark.parametrize("scaling", ["quantile", "standard"])
def test_a_few_rows_get_the_same_codes_as_a_large_frame(scaling):
    """A prediction request's few rows take a faster path (one conversion of the frame); every value must
    match the column-by-column path a file of many rows takes: sentinels, blanks, ints, text numbers,
    unseen and missing categories, columns in another order."""
    rng = np.random.default_rng(3)
    train = _bureau_like(600).assign(kind=rng.choice(["a", "b", "c"], 600), grade=rng.choice([1, 2, 3], 600))
    train.loc[:20, "kind"] = None
    pre = TabularPreprocessor(["late", "ratio", "income"], ["kind", "grade"], scaling=scaling).fit(train)
    new = _bureau_like(400, seed=9).assign(kind=rng.choice(["a", "b", "zz", None], 400),
                                           grade=rng.choice([1, 2, 3, 7], 400), extra="x")
    new["late"] = new["late"].fillna(0).astype(int)  # an int column, with the 96 / 98 codes in it
    new = new[["extra", "grade", "income", "kind", "ratio", "late"]]
    whole = pre.transform_codes(new)  # more rows than SMALL_FRAME: the column-by-column path
    parts = np.vstack([pre.transform_codes(new.iloc[i:i + 7]) for i in range(0, len(new), 7)])
    np.testing.assert_array_equal(parts, whole)
    assert np.isnan(whole[:, 0]).any() and (whole[:, 3] == len(pre.categories["kind"]) - 1).any()
    # numbers sent as text (a column that is not numeric) still parse, through the column-by-column path
    text = new.head(5).assign(ratio=new["ratio"].head(5).map(repr))
    np.testing.assert_array_equal(pre.transform_codes(text), whole[:5])
