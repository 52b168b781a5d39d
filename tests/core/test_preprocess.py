import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.preprocess import OTHER, TabularPreprocessor


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
    assert Z[0, 0] == pytest.approx(Z[1, 0])  # missing imputed with the training median
    assert Z[1, 1] == len(pre.categories["c"]) - 1  # unseen -> (other)
    X = pre.encode(Z)
    assert X.shape == (2, 1 + len(pre.categories["c"]))
    assert X[:, 1:].sum(axis=1).tolist() == [1.0, 1.0]
    assert len(pre.feature_names) == X.shape[1]


def test_scaling_is_standard():
    pre = TabularPreprocessor(["x"], []).fit(pd.DataFrame({"x": [0.0, 2.0, 4.0]}))
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
