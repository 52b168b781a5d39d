"""Column detection and validation of raw transaction logs, with every error message."""

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.columns import (
    FraudColumns,
    detect_columns,
    extra_feature_columns,
    make_columns,
    parse_labels,
    prepare_log,
)


def _df(**over):
    df = pd.DataFrame({
        "TX_DATETIME": ["2024-01-02 10:00:00", "2024-01-01 09:00:00", "2024-01-01 09:00:00"],
        "CUSTOMER_ID": [1, 2, 1], "TERMINAL_ID": [5, 5, 6], "TX_AMOUNT": [10.0, 20.0, 30.0],
        "TX_FRAUD": [0, 1, 0], "channel": ["web", "pos", "web"], "TRANSACTION_ID": [1, 2, 3]})
    for k, v in over.items():
        df[k] = v
    return df


def test_detects_handbook_and_sample_names():
    cols = make_columns(_df())
    assert cols == FraudColumns(time="TX_DATETIME", amount="TX_AMOUNT", target="TX_FRAUD",
                                customer="CUSTOMER_ID", terminal="TERMINAL_ID")
    sample = pd.DataFrame(columns=["timestamp", "customer_id", "terminal_id", "amount", "is_fraud"])
    assert detect_columns(sample) == {"time": "timestamp", "amount": "amount", "customer": "customer_id",
                                      "terminal": "terminal_id", "target": "is_fraud"}
    assert detect_columns(pd.DataFrame(columns=["x"]))["customer"] is None


def test_prepare_sorts_by_time_and_keeps_original_row():
    df = _df()
    log = prepare_log(df, make_columns(df))
    assert log["_row"].tolist() == [1, 2, 0]  # stable among equal timestamps
    assert log["TX_FRAUD"].tolist() == [1, 0, 0]
    assert log["CUSTOMER_ID"].tolist() == ["2", "1", "1"]


def test_extra_columns_skip_ids_and_row_numbers():
    df = _df(score=[0.5, 0.5, 0.1], row_number=[1, 2, 3], TX_FRAUD_SCENARIO=[0, 1, 0])
    assert extra_feature_columns(df, make_columns(df)) == ["channel", "score"]


def test_extra_columns_keep_engineered_measurements_distinct_on_every_row():
    """A log prepared with the handbook's features (CUSTOMER_ID_AVG_AMOUNT_*: averages, distinct on almost every
    row) keeps them as features; only whole numbers distinct per row (a row number) are left out. The leakage
    audit then checks them on the training rows like any other input."""
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"TX_DATETIME": pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
                       "CUSTOMER_ID": rng.integers(0, 20, n), "TERMINAL_ID": rng.integers(0, 30, n),
                       "TX_AMOUNT": rng.gamma(2, 30, n).round(2), "TX_FRAUD": (rng.random(n) < 0.1).astype(int),
                       "CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW": rng.gamma(2, 30, n),
                       "CUSTOMER_ID_NB_TX_7DAY_WINDOW": rng.integers(1, 9, n), "V1": rng.normal(size=n),
                       "row_counter": np.arange(n)})
    assert df["CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW"].nunique() > 0.9 * n
    cols = make_columns(df)
    assert extra_feature_columns(df, cols) == ["CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW", "CUSTOMER_ID_NB_TX_7DAY_WINDOW",
                                               "V1"]
    from core.fraud.pipeline import audit_fraud_inputs

    log = prepare_log(df, cols)
    audit = audit_fraud_inputs(log, cols, extra_feature_columns(df, cols), np.arange(n),
                               log["TX_FRAUD"].to_numpy(int))
    assert not audit.left_out


def test_labels_accept_words():
    assert parse_labels(pd.Series(["yes", "No", "fraud", None]), "y").tolist()[:3] == [1, 0, 1]
    assert np.isnan(parse_labels(pd.Series(["yes", None]), "y")[1])
    assert parse_labels(pd.Series([True, False]), "y").tolist() == [1, 0]


@pytest.mark.parametrize("df, kwargs, match", [
    (pd.DataFrame({"a": [1]}), {}, "Expected a timestamp column"),
    (_df(), {"amount": "price"}, "Expected column 'price' for the amount"),
    (_df(), {"customer": "TX_AMOUNT"}, "different column for each role"),
    (_df().drop(columns="TX_FRAUD"), {}, "Expected a fraud label column"),
])
def test_mapping_errors(df, kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        make_columns(df, **kwargs)


@pytest.mark.parametrize("over, match", [
    ({"TX_DATETIME": ["2024-01-01", "yesterday", "2024-01-03"]}, "could not be read as a date"),
    ({"TX_AMOUNT": ["10", "$5", None]}, "Expected numbers in the amount column"),
    ({"TX_FRAUD": [0, 1, None]}, "fraud label on every row"),
    ({"TX_FRAUD": [0, 1, "maybe"]}, "hold 0/1"),
])
def test_prepare_errors(over, match):
    df = _df(**over)
    with pytest.raises(DataValidationError, match=match):
        prepare_log(df, make_columns(df))


def test_empty_and_unlabelled():
    cols = FraudColumns(time="t", amount="a", target="y")
    with pytest.raises(DataValidationError, match="got an empty file"):
        prepare_log(pd.DataFrame(columns=["t", "a", "y"]), cols)
    with pytest.raises(DataValidationError, match="Expected a fraud label column; got none"):
        prepare_log(pd.DataFrame({"t": ["2024-01-01"], "a": [1]}), cols)
    log = prepare_log(pd.DataFrame({"t": ["2024-01-01"], "a": [1]}), cols, require_labels=False)
    assert len(log) == 1
