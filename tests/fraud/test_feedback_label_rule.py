"""Fraud outcomes fed back are read with the label rule the run was trained with: a log whose label is
'Y' / 'N' / 'pending' trains a run that records the rule, and outcomes written the same way (any case)
are read as 1 / 0, 'pending' left out with a notice; a run saved without a rule reads labels as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.monitoring import MONITOR
from core.monitor import store
from core.data.outcome import RULE_ATTR, LabelRule, as_binary_labels
from tests.monitor.test_loop_credit import run_cli

ROOT = Path(__file__).resolve().parents[2]
RULE = {"target": "is_fraud", "positive": "Y", "negatives": ["N"]}


def test_the_rule_reads_its_own_values_in_any_case_and_leaves_others_out():
    rule = LabelRule.from_dict(RULE)
    got = rule.read(pd.Series(["Y", "n", " y ", "N", "pending", None]))
    assert got[:4].tolist() == [1.0, 0.0, 1.0, 0.0] and np.isnan(got[4:]).all()
    assert LabelRule.from_dict(rule.to_dict()) == rule
    assert LabelRule.from_dict(None) is None and LabelRule.from_dict({"positive": "Y"}) is None


def test_binary_labels_leave_their_rule_on_the_rows():
    df = pd.DataFrame({"is_fraud": ["+", "-", "-", "?", "+"], "x": range(5)})
    rows, _, _ = as_binary_labels(df, "is_fraud", positive="+", negative=["-"])
    assert rows.attrs[RULE_ATTR] == {"target": "is_fraud", "positive": "+", "negatives": ["-"]}
    assert rows["is_fraud"].tolist() == [1, 0, 0, 1]


def test_a_run_with_a_rule_reads_feedback_with_it_and_0_1_still():
    meta = {"label_rule": {"target": "is_fraud", "positive": "fraud", "negatives": ["ok", "refunded"]}}
    got = MONITOR.read_labels(meta, pd.Series(["Fraud", "ok", "REFUNDED", "1", "0", "pending"]))
    assert got[:5].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0] and np.isnan(got[5])


def test_a_run_with_a_rule_refuses_a_column_it_cannot_read_at_all():
    with pytest.raises(DataValidationError, match=r"as this run's training read 'is_fraud': 'Y' for fraud, 'N' "
                                                  r"for legitimate .* got none of these, only values such as 'C0001'"):
        MONITOR.read_labels({"label_rule": RULE}, pd.Series(["C0001", "C0002"]))
    with pytest.raises(DataValidationError, match="Expected a label on every outcome; got 1 empty"):
        MONITOR.read_labels({"label_rule": RULE}, pd.Series(["Y", None]))


def test_a_run_without_a_rule_reads_labels_as_before():
    assert MONITOR.read_labels({}, pd.Series(["yes", "0", "fraud"])).tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(DataValidationError, match="to hold 0/1"):
        MONITOR.read_labels({}, pd.Series(["Y", "N"]))


@pytest.fixture(scope="module")
def yn_run(tmp_path_factory):
    """A run trained (2 epochs) on 120 customers of the bundled log, its label written Y / N / pending."""
    work = tmp_path_factory.mktemp("fraud-yn")
    log = pd.read_csv(ROOT / "sample_data" / "fraud_transactions.csv.gz")
    new = pd.read_csv(ROOT / "sample_data" / "fraud_new_month.csv.gz")
    cards = log["customer_id"].drop_duplicates().sample(120, random_state=1)
    log = log[log["customer_id"].isin(cards)].reset_index(drop=True)
    spelled = np.where(log["is_fraud"] == 1, "Y", "N").astype(object)
    spelled[::97] = "pending"
    log.assign(is_fraud=spelled).to_csv(work / "log.csv", index=False)
    new = new[new["customer_id"].isin(cards)].head(400).reset_index(drop=True)
    new.drop(columns=["is_fraud"]).to_csv(work / "new.csv", index=False)
    run = work / "runs" / "fraud-yn"
    run_cli("train", "--scenario", "fraud", "--data", work / "log.csv", "--positive", "Y", "--negative", "N",
            "--epochs", "1", "--no-explain", "--save", run)
    run_cli("score", "--model", run, "--data", work / "new.csv", "--out", work / "scored.csv", "--quiet")
    return {"work": work, "run": run, "new": new}


def test_a_run_trained_on_y_n_labels_reads_y_n_feedback(yn_run):
    meta = json.loads((yn_run["run"] / "metadata.json").read_text())
    assert meta["label_rule"] == RULE
    new = yn_run["new"]
    outcomes = pd.DataFrame({"transaction_id": new["transaction_id"],
                             "is_fraud": np.where(new["is_fraud"] == 1, "y", "N").astype(object)})
    outcomes.loc[:4, "is_fraud"] = "pending"
    outcomes.to_csv(yn_run["work"] / "labels.csv", index=False)
    fed = run_cli("feedback", "--model", yn_run["run"], "--data", yn_run["work"] / "labels.csv")
    assert fed["received"] == len(new) and fed["matched"] == len(new) - 5
    assert any("5 outcome(s) were left out" in n and "'pending': 5" in n for n in fed["notices"])
    labels = store.read_table(yn_run["run"], "labels").set_index("row_id")["label"]
    expected = new.iloc[5:].set_index(new["transaction_id"].iloc[5:].astype(str))["is_fraud"].astype(float)
    assert labels.sort_index().tolist() == expected.sort_index().tolist()


def test_the_rule_survives_the_pages_preparation_of_the_log():
    """The Fraud page trains on ``prepare_log``'s copy of the labelled rows, without its ``_row`` column."""
    from core.fraud.columns import make_columns, prepare_log

    df = pd.read_csv(ROOT / "sample_data" / "fraud_transactions.csv.gz", nrows=2000)
    df["is_fraud"] = np.where(df["is_fraud"] == 1, "Y", "N")
    rows, _, _ = as_binary_labels(df, "is_fraud", positive="Y", negative=["N"])
    log = prepare_log(rows, make_columns(rows)).drop(columns="_row")
    assert log.attrs[RULE_ATTR] == RULE
