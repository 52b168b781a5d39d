"""The outcome column: spellings of yes/no, the positive value guessed and changeable, and an
outcome with more than two values never turned into two unasked."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.datasets import read_table
from core.errors import DataValidationError
from core.data.outcome import (as_binary_labels, choose_outcome_rows, describe_counts, guess_negative, guess_positive,
                          match_value, outcome_counts, validate_binary_target)


@pytest.mark.parametrize("values, positive", [
    (["+", "-"], "+"), (["N", "Y"], "Y"), (["no", "yes"], "yes"), (["NO", "YES"], "YES"), ([False, True], True),
    (["FALSE", "TRUE"], "TRUE"), (["f", "t"], "t"), ([0, 1], 1), (["bad", "good"], "bad"),
    (["default", "paid"], "default"), (["n", "y"], "y"),
])
def test_binary_spellings_guess_the_event(values, positive):
    assert guess_positive(values) == positive
    assert str(guess_negative(values, positive)) == str(next(v for v in values if str(v) != str(positive)))


def test_spellings_read_from_a_file_train_labels_with_the_guess_and_can_be_changed():
    """Generator: a CSV whose outcome is 'Y' / 'N' (and one whose outcome is TRUE / FALSE, read as booleans)."""
    df = read_table(b"x,ok\n1,Y\n2,N\n3,Y\n4,N\n", name="yn.csv").df
    y, pos = validate_binary_target(df, "ok")
    assert pos == "Y" and y.tolist() == [1, 0, 1, 0]
    y, pos = validate_binary_target(df, "ok", positive="n")  # another case names the same value
    assert pos == "N" and y.tolist() == [0, 1, 0, 1]
    df = read_table(b"x,flag\n1,TRUE\n2,FALSE\n3,true\n", name="tf.csv").df
    y, pos = validate_binary_target(df, "flag", positive="true")
    assert y.tolist() == [1, 0, 1]


def test_match_value_by_text_case_and_number():
    assert match_value("Yes", ["no", "yes"]) == "yes"
    assert match_value("1", [0.0, 1.0]) == 1.0
    assert match_value("maybe", ["no", "yes"]) is None


def _three(n_bad=30, n_good=60, n_unknown=10, n_missing=0) -> pd.DataFrame:
    """An outcome column with good / bad / unknown (and missing) in the given numbers."""
    values = ["bad"] * n_bad + ["good"] * n_good + ["unknown"] * n_unknown + [None] * n_missing
    return pd.DataFrame({"status": values, "x": range(len(values))})


def test_counts_are_listed_for_an_outcome_of_three_values():
    df = _three()
    assert outcome_counts(df, "status") == [("bad", 30), ("good", 60), ("unknown", 10)]
    assert describe_counts(outcome_counts(df, "status")) == "'bad' (30 rows), 'good' (60), 'unknown' (10)"
    with pytest.raises(DataValidationError, match=r"got 3: 'bad' \(30 rows\), 'good' \(60\), 'unknown' \(10\)\. "
                                                  r"Pick the positive value .*--positive VALUE --negative VALUE"):
        validate_binary_target(df, "status")


def test_nothing_is_counted_as_negative_unasked():
    with pytest.raises(DataValidationError, match=r"must have two values; got 3: 'bad' \(30 rows\)"):
        choose_outcome_rows(_three(), "status", positive="bad")


def test_rows_of_other_values_and_without_an_outcome_are_left_out_with_a_notice():
    rows, notices = choose_outcome_rows(_three(n_missing=5), "status", positive="bad", negative=["good"])
    assert len(rows) == 90 and set(rows["status"]) == {"bad", "good"}
    assert notices == ["Left out 15 row(s) whose 'status' is neither 'bad' (positive) nor 'good' (negative) "
                       "('unknown': 10, '(no outcome)': 5); 90 rows remain."]
    y, _ = validate_binary_target(rows, "status", positive="bad")
    assert y.sum() == 30


def test_every_other_value_can_count_as_negative():
    rows, notices = choose_outcome_rows(_three(), "status", positive="BAD", negative=["good", "Unknown"])
    assert len(rows) == 100
    assert notices == ["'good' and 'unknown' count as negative (not 'bad') in 'status'."]


@pytest.mark.parametrize("kwargs, match", [
    ({"positive": "bad", "negative": ["fine"]}, r"\['fine'\] do\(es\) not occur in 'status'; its values are 'bad' \(30 rows\)"),
    ({"positive": "bad", "negative": ["bad"]}, r"'bad' was given as both the positive and a negative value"),
    ({"negative": ["good"]}, r"Negative value\(s\) \['good'\] were given for 'status' but no positive value.*--positive"),
])
def test_outcome_choices_that_cannot_work_say_why(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        choose_outcome_rows(_three(), "status", **kwargs)


def test_labels_as_0_1_for_a_pipeline_that_reads_numbers():
    rows, pos, notices = as_binary_labels(pd.DataFrame({"y": ["+", "-", "-", "+"]}), "y")
    assert pos == "+" and rows["y"].tolist() == [1, 0, 0, 1]
    assert notices == ["'y': '+' read as 1 (the event), '-' as 0."]
    rows, pos, notices = as_binary_labels(_three(), "status", positive="bad", negative=["good"])
    assert rows["status"].sum() == 30 and len(rows) == 90 and "Left out 10 row(s)" in notices[1]
    with pytest.raises(DataValidationError, match="has only one value"):
        as_binary_labels(pd.DataFrame({"y": ["+", "+"]}), "y")
