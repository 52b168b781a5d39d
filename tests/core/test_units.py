"""A feature's values in its own units (core.present.units)."""

import pandas as pd

from core.present.units import axis_format, axis_title, value_kind, value_text


def test_kind_from_name_and_values():
    assert value_kind("credit_utilisation", [0.1, 0.89, 1.2]) == "percent"
    assert value_kind("debt_to_income", [0.2, 3.5]) == "number"  # a ratio above 150 % is not a share
    assert value_kind("annual_income", [73600.0, 123300.5]) == "money"
    assert value_kind("TX_AMOUNT", [12.5, 40.0]) == "money"
    assert value_kind("loan_term_months", [12, 24, 60]) == "whole"
    assert value_kind("nb_tx_7d", [1.0, 2.0]) == "whole"  # a count of amounts is no amount
    assert value_kind("housing", ["rent", "own", None]) == "category"
    assert value_kind("employment_years", [1.7, 9.8]) == "number"
    assert value_kind("anything", [None, None]) == "number"
    assert value_kind("terminal_risk_7d", [0.0, 0.4]) == "percent"


def test_text_and_axes():
    assert value_text(0.893, "percent") == "89%" and value_text(0.052, "percent") == "5.2%"
    assert value_text(73600, "money", "EUR") == "€73,600" and value_text(73600, "money", "USD") == "$73,600"
    assert value_text(24.0, "whole") == "24" and value_text(3.14159, "number") == "3.14"
    assert value_text("home_improvement", "category") == "home improvement"
    assert value_text(float("nan"), "number") == "missing"
    assert axis_title("annual_income", "money", "GBP") == "Annual income (GBP)"
    assert axis_title("credit_utilisation", "percent") == "Credit utilisation (%)"
    assert axis_format("percent") == {"tickformat": ".0%"} and axis_format("category") == {}
    assert value_kind("x", pd.Series([1, 2, 3])) == "whole"


def test_few_plain_numbers_get_the_kind_the_column_path_gives():
    """A reason code's value and reference skip pandas; the kind must be the one a column of them gets."""
    import numpy as np

    from core.present import units

    rng = np.random.default_rng(7)
    pool = [0.0, 0.5, 1.0, 1.5, 1.51, -0.2, 3, 24, 73600.0, 0.893, float("nan"), float("inf"), -float("inf"),
            np.float32(0.25), np.int64(12), np.float64(2.5), 10 ** 6]
    names = ["credit_utilisation", "annual_income", "debt_to_income", "loan_term_months", "age", "x",
             "terminal_risk_7d", "TX_AMOUNT"]
    fast = 0
    for _ in range(400):
        values = [pool[i] for i in rng.integers(0, len(pool), size=int(rng.integers(1, 4)))]
        name = names[int(rng.integers(0, len(names)))]
        fast += units._plain_numbers(values) is not None
        with np.errstate(invalid="ignore"):
            assert value_kind(name, values) == value_kind(name, pd.Series(values, dtype=object)), (name, values)
    assert fast == 400  # every case above took the path without pandas
    assert units._plain_numbers([1.0, "2"]) is None and units._plain_numbers([True, 0.5]) is None
    assert units._plain_numbers(list(range(40))) is None  # a whole column goes through pandas
    assert value_kind("flag", [True, False]) == value_kind("flag", pd.Series([True, False]))
