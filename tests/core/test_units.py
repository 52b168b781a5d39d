"""A feature's values in its own units (core.units)."""

import pandas as pd

from core.units import axis_format, axis_title, value_kind, value_text


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
