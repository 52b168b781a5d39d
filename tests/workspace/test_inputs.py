"""What a file to score must contain, and the report of how an upload differs from it."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.workspace.inputs import (ColumnMismatchError, check_columns, coerce_numbers, get_expected_input)

CREDIT = {"scenario": "credit", "credit": {"numeric": ["income", "debt_ratio"], "categorical": ["housing"]}}


def test_expected_input_per_scenario():
    assert get_expected_input(CREDIT)["columns"] == {"income": "number", "debt_ratio": "number",
                                                     "housing": "category"}
    fraud = {"scenario": "fraud", "columns": {"time": "ts", "amount": "amt", "customer": "card", "terminal": None},
             "extra_columns": ["channel", "mcc_risk"], "workspace": {"input": {"numeric": ["amt", "mcc_risk"]}}}
    assert get_expected_input(fraud)["columns"] == {"ts": "date", "amt": "number", "card": "category",
                                                    "channel": "category", "mcc_risk": "number"}
    demand = {"scenario": "demand", "column_map": {"date": "day", "target": "units", "series": ["store"],
                                                   "covariates": ["price"]}}
    assert get_expected_input(demand)["columns"] == {"day": "date", "units": "number", "store": "category",
                                                     "price": "number"}
    quality = {"scenario": "quality", "image_size": 64, "channels": 1, "class_names": ["ok", "scratch"]}
    assert get_expected_input(quality) == {"kind": "images", "columns": {}, "image_size": 64, "channels": 1,
                                           "class_names": ["ok", "scratch"]}


def test_matching_file_passes_and_extra_columns_are_ignored():
    df = pd.DataFrame({"id": [1, 2], "income": [10.0, 20.0], "debt_ratio": [0.1, 0.2], "housing": ["own", "rent"]})
    r = check_columns(CREDIT, df)
    assert r.ok and r.missing == () and r.extra == ("id",)
    assert r.error_message() == ""
    assert r.table().set_index("column")["status"].to_dict() == {
        "income": "ok", "debt_ratio": "ok", "housing": "ok", "id": "ignored"}
    assert any("ignored" in n and n.endswith(": id.") for n in r.notices())  # names as words, not a list repr


def test_missing_and_wrong_type_columns_block_with_expected_got_fix():
    df = pd.DataFrame({"income": ["high", "low", "mid"], "housing": ["own", "rent", "own"]})
    r = check_columns(CREDIT, df)
    assert not r.ok
    assert r.missing == ("debt_ratio",)
    assert [c for c, _, _ in r.wrong_type] == ["income"]
    msg = r.error_message()
    assert "Expected the columns ['income', 'debt_ratio', 'housing']" in msg
    assert "missing: ['debt_ratio']" in msg
    assert "'income' should hold numbers, got values such as 'high'" in msg
    assert "Fix:" in msg
    statuses = r.table().set_index("column")["status"]
    assert statuses["debt_ratio"] == "missing" and statuses["income"] == "wrong type"
    err = ColumnMismatchError(r)
    assert isinstance(err, DataValidationError) and err.report is r and str(err) == msg


def test_a_few_unreadable_numbers_become_missing_with_a_notice():
    df = pd.DataFrame({"income": ["10", "20", "n/a?", "1,500"], "debt_ratio": [0.1, 0.2, 0.3, 0.4],
                       "housing": ["own"] * 4})
    r = check_columns(CREDIT, df)
    assert r.ok and r.partly_invalid == (("income", 1, "'n/a?'"),)
    assert "'income': 1 value(s) are not readable as numbers" in r.notices()[0]
    out = coerce_numbers(df, r)
    assert out["income"].tolist()[:2] == [10.0, 20.0] and pd.isna(out["income"].iloc[2])
    assert out["income"].iloc[3] == 1500.0
    assert df["income"].iloc[0] == "10"  # the upload itself is left as it was


def test_dates_that_are_not_dates_block():
    meta = {"scenario": "demand", "column_map": {"date": "day", "target": "units", "series": [], "covariates": []}}
    r = check_columns(meta, pd.DataFrame({"day": ["soon", "later", "never"], "units": [1, 2, 3]}))
    assert [c for c, k, _ in r.wrong_type] == ["day"] and "should hold dates" in r.error_message()
    ok = check_columns(meta, pd.DataFrame({"day": ["2024-01-01", "2024-01-02"], "units": [1, 2]}))
    assert ok.ok


def test_image_runs_refuse_a_table():
    with pytest.raises(DataValidationError, match="scores images, not a table"):
        check_columns({"scenario": "quality", "class_names": ["ok"]}, pd.DataFrame({"a": [1]}))
