import numpy as np
import pandas as pd
import pytest

from core.credit.reasons import (
    aggregate_by_source,
    compute_reference_values,
    describe_reason,
    format_value,
    get_reason_codes,
    humanise,
)


def test_format_value():
    assert format_value(0.6234) == "0.62"
    assert format_value(3.0) == "3"
    assert format_value(45250.0) == "45,250"
    assert format_value(125.55) == "125.5"
    assert format_value(float("nan")) == "missing"
    assert format_value("debt_consolidation") == "debt consolidation"


def test_describe_reason_directions():
    assert describe_reason("debt_to_income", 0.62, reference=0.3) == "Debt-to-income ratio is high (62%)"
    assert describe_reason("employment_years", 0.5, reference=4.0) == "Years in employment is low (0.50)"
    assert describe_reason("purpose", "business") == "Loan purpose is business"
    assert describe_reason("employment_years", np.nan, reference=4.0) == "Years in employment is not reported"
    assert describe_reason("my_col", 7) == "My col (7) raises the risk"
    assert humanise("x", {"x": "Custom"}) == "Custom"


def test_describe_reason_says_values_in_their_units():
    # A utilisation is a share, an income an amount of money (in the page's currency); counts stay counts.
    assert describe_reason("credit_utilisation", 0.893, reference=0.4) == "Credit utilisation is high (89%)"
    assert describe_reason("annual_income", 73600.0, reference=90000.0, currency="USD") == "Annual income is low ($73,600)"
    assert describe_reason("open_accounts", 12.0, reference=5.0) == "Number of open accounts is high (12)"


def test_reason_codes_pick_top_positive_contributions_in_order():
    names = ["annual_income", "debt_to_income", "purpose", "past_delinquencies", "age", "housing"]
    contrib = [0.02, 0.10, 0.05, 0.07, -0.2, 0.01]
    row = {"annual_income": 21000.0, "debt_to_income": 0.62, "purpose": "business",
           "past_delinquencies": 3, "age": 30, "housing": "rent"}
    refs = {"annual_income": 45000.0, "debt_to_income": 0.3, "past_delinquencies": 0, "age": 40}
    reasons = get_reason_codes(contrib, names, row, k=4, references=refs)
    assert reasons == [
        "Debt-to-income ratio is high (62%)",
        "Past delinquencies is high (3)",
        "Loan purpose is business",
        "Annual income is low (€21,000)",
    ]


def test_reason_codes_never_list_risk_lowering_features():
    reasons = get_reason_codes([-0.1, 0.05, 0.0], ["a", "b", "c"], {"a": 1, "b": 2, "c": 3}, k=4)
    assert reasons == ["B (2) raises the risk"]


def test_reason_codes_length_mismatch():
    with pytest.raises(ValueError, match="2 contributions for 3 features"):
        get_reason_codes([0.1, 0.2], ["a", "b", "c"], {})


def test_aggregate_by_source_sums_one_hot_columns():
    values = np.array([[0.1, 0.2, -0.05, 0.3]])
    names = ["income", "purpose_car", "purpose_business", "dti"]
    groups = {"purpose_car": "purpose", "purpose_business": "purpose"}
    out, sources = aggregate_by_source(values, names, groups)
    assert sources == ["income", "purpose", "dti"]
    np.testing.assert_allclose(out, [[0.1, 0.15, 0.3]])


def test_reference_values_are_medians():
    df = pd.DataFrame({"a": [1, 2, 3, None], "b": ["x", "y", "z", "w"]})
    assert compute_reference_values(df, ["a", "missing_col"]) == {"a": 2.0}


def test_unknown_columns_read_as_words_including_camel_case():
    from core.credit.reasons import humanise

    assert humanise("NumberOfDependents") == "Number of dependents"
    assert humanise("RevolvingUtilizationOfUnsecuredLines") == "Revolving utilization of unsecured lines"
    assert humanise("credit_history_years") == "Length of credit history (years)"  # a known label wins
