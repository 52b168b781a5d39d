import numpy as np
import pandas as pd
import pytest

from core.credit.psi import (
    compute_psi_categorical,
    compute_psi_numeric,
    compute_psi_table,
    psi_status,
)
from core.errors import DataValidationError


def test_status_bands():
    assert [psi_status(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501, 1.0)] == [
        "stable", "stable", "watch", "watch", "shifted", "shifted"]


def test_identical_population_has_zero_psi():
    x = np.random.default_rng(0).normal(size=2000)
    assert compute_psi_numeric(x, x) == pytest.approx(0.0, abs=1e-12)
    assert compute_psi_categorical(list("aabbc"), list("aabbc")) == pytest.approx(0.0, abs=1e-12)


def test_psi_grows_with_shift():
    rng = np.random.default_rng(0)
    base = rng.normal(size=5000)
    small = compute_psi_numeric(base, rng.normal(0.1, 1, 5000))
    big = compute_psi_numeric(base, rng.normal(1.0, 1, 5000))
    assert small < 0.1 < 0.25 < big


def test_categorical_psi_by_hand():
    # expected 50/50, actual 80/20: (0.8-0.5)ln(1.6) + (0.2-0.5)ln(0.4)
    v = compute_psi_categorical(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20)
    assert v == pytest.approx(0.3 * np.log(1.6) + (-0.3) * np.log(0.4))


def test_missing_values_count_as_a_bin():
    e = [1.0, 2.0, 3.0, 4.0] * 100
    a = [1.0, 2.0, np.nan, np.nan] * 100
    assert compute_psi_numeric(e, a) > 0.25


def test_table_orders_score_first_then_worst():
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"x": rng.normal(size=1000), "z": rng.normal(size=1000),
                          "c": rng.choice(["a", "b"], 1000)})
    new = pd.DataFrame({"x": rng.normal(2, 1, 1000), "z": rng.normal(size=1000),
                        "c": rng.choice(["a", "b"], 1000), "extra": 1})
    table = compute_psi_table(train, new, numeric=["x", "z"], categorical=["c"],
                              score_train=rng.random(1000), score_new=rng.random(1000))
    assert table["variable"].tolist()[:2] == ["score", "x"]
    assert table.loc[table["variable"] == "x", "status"].item() == "shifted"
    assert table.loc[table["variable"] == "z", "status"].item() == "stable"


def test_table_errors():
    train = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="has no rows"):
        compute_psi_table(train, train.iloc[:0], numeric=["x"], categorical=[])
    with pytest.raises(DataValidationError, match=r"missing \['x'\]"):
        compute_psi_table(train, pd.DataFrame({"y": [1]}), numeric=["x"], categorical=[])
