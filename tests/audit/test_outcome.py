"""The credit and fraud leakage audit on generated files with known leaks (tests/audit/leaks.py): a column
that separates the outcome alone, one named like something recorded after it and an identifier that encodes it
are flagged with their evidence and left out, the keep choice keeps them, honest columns stay, and a column
with one value per row never passes by memorising rows."""

import numpy as np
import pandas as pd
import pytest

from core.audit import KEPT, LEFT_OUT, MAPPED, NOT_INPUT, LeakAudit, audit_outcome, post_outcome_word
from core.audit.separation import fold_of, out_of_fold_rate, roc_auc, separation
from core.credit.pipeline import audit_credit, get_credit_audit, prepare_credit_data, split_rows, train_credit
from core.errors import DataValidationError
from core.fraud.columns import make_columns
from core.fraud.pipeline import FraudConfig, prepare_fraud_inputs
from tests.audit.leaks import credit_applications, fraud_log, fraud_log_leaky_amount

HONEST = ["annual_income", "debt_to_income", "credit_utilisation", "purpose"]


@pytest.fixture(scope="module")
def credit():
    return credit_applications()


def _by_column(audit: LeakAudit) -> dict:
    return {f.column: f for f in audit.findings}


def test_credit_chargeback_and_ids_are_flagged_with_evidence_and_left_out(credit):
    audit = get_credit_audit(credit, target="default")
    by = _by_column(audit)
    assert set(by) == {"chargeback_flag", "account_no", "loan_ref"}
    assert by["chargeback_flag"].action == LEFT_OUT and by["chargeback_flag"].score >= 0.98
    assert by["chargeback_flag"].evidence.startswith("'chargeback_flag' alone separates default at ROC-AUC 0.9")
    assert by["account_no"].kind == "id" and by["account_no"].evidence == (
        "'account_no' looks like an identifier, and its last digit alone separates default at ROC-AUC 1.000 on "
        f"{audit.rows:,} training rows")
    assert by["loan_ref"].action == NOT_INPUT and "first character of identifier 'loan_ref'" in by["loan_ref"].evidence
    assert audit.rows == 900 and audit.checked == ["account_no", *HONEST[:3], "chargeback_flag", "purpose"]
    notice = next(n for n in audit.notices() if "chargeback_flag" in n)
    assert notice.startswith("Possible leak, left out: 'chargeback_flag' alone separates default")
    assert "keep it with --keep-column chargeback_flag" in notice


def test_credit_keep_keeps_a_suspect_as_a_feature_and_honest_columns_stay(credit):
    data, y, setup = prepare_credit_data(credit, target="default")
    tr, _ = split_rows(y, seed=0)
    train = data.iloc[tr].reset_index(drop=True)
    out = audit_credit(train, y[tr], setup)
    assert out.features == HONEST and "chargeback_flag" not in out.numeric
    kept = audit_credit(train, y[tr], setup, keep=["chargeback_flag"])
    assert kept.numeric == ["annual_income", "debt_to_income", "credit_utilisation", "chargeback_flag"]
    assert {f["column"]: f["action"] for f in kept.leakage["findings"]}["chargeback_flag"] == KEPT
    assert any(n.startswith("Possible leak kept at your request: 'chargeback_flag'") for n in kept.notices)


def test_credit_keep_names_must_exist_and_every_feature_leaking_is_an_error(credit):
    data, y, setup = prepare_credit_data(credit, target="default")
    with pytest.raises(DataValidationError, match=r"--keep-column must name columns of the data; \['chargeback'\] "
                                                  r"is not among"):
        audit_credit(data, y, setup, keep=["chargeback"])
    only = credit[["loan_ref", "chargeback_flag", "default"]]
    with pytest.raises(DataValidationError, match=r"Every feature column is a suspected leak \(\['chargeback_flag'\]\)"):
        train_credit(only, target="default")


def test_a_name_recorded_after_the_outcome_is_left_out_whatever_its_figure():
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.2).astype(int)
    frame = pd.DataFrame({"RecoveryAmount": rng.normal(size=n), "collection_status": rng.choice(["a", "b"], n),
                          "income": rng.normal(size=n)})
    audit = audit_outcome(frame, y, numeric=["RecoveryAmount", "income"], categorical=["collection_status"],
                          outcome="default")
    by = _by_column(audit)
    assert set(by) == {"RecoveryAmount", "collection_status"} and by["RecoveryAmount"].kind == "name"
    assert "named like something recorded after the outcome (recovery)" in by["RecoveryAmount"].evidence
    assert [post_outcome_word(w) for w in ("ChargeBack_flag", "written_off", "status_after_default", "settled",
                                           "personal_status_sex", "NumberOfTime30-59DaysPastDueNotWorse")] == \
        ["chargeback", "write-off", "status after", "settlement", None, None]


def test_blanks_that_mark_the_outcome_separate_and_are_caught():
    rng = np.random.default_rng(1)
    n = 800
    y = (rng.random(n) < 0.25).astype(int)
    amount = np.where(y == 1, rng.gamma(2, 500, n), np.nan)  # recorded only for defaulters
    audit = audit_outcome(pd.DataFrame({"amount_x": amount}), y, numeric=["amount_x"], outcome="default")
    assert audit.findings[0].column == "amount_x" and audit.findings[0].score == pytest.approx(1.0)


def test_out_of_fold_rates_do_not_let_a_row_id_memorise_the_outcome():
    """Scored with its own rows' outcome, a column with one value per row separates perfectly; out of fold
    every row gets the overall rate of the other folds and the id separates nothing."""
    rng = np.random.default_rng(2)
    n = 2_000
    y = (rng.random(n) < 0.3).astype(int)
    ids = pd.Series([f"X{rng.integers(10**9)}-{i}" for i in range(n)])
    in_sample = ids.map(pd.Series(y, index=ids).groupby(level=0).mean()).to_numpy()
    assert roc_auc(in_sample, y) == pytest.approx(1.0)
    assert separation(out_of_fold_rate(ids, y, fold_of(n, 0)), y) < 0.6
    assert audit_outcome(pd.DataFrame({"ref": ids}), y, numeric=[], categorical=["ref"]).findings == []


def test_fraud_post_hoc_column_is_left_out_and_keep_keeps_it():
    df = fraud_log()
    cols = make_columns(df)
    log, extra, feats, split, y, _config, _notices = prepare_fraud_inputs(df, cols, FraudConfig())
    audit = LeakAudit.from_dict(feats.leakage)
    assert [f.column for f in audit.findings] == ["case_outcome"]
    assert audit.findings[0].evidence.startswith("'case_outcome' alone separates fraud at ROC-AUC 0.9")
    assert audit.rows == len(split.train_idx)  # the training period only
    assert extra == ["channel"] and "case_outcome" not in feats.frame and "channel" in feats.categorical
    assert "amount" in feats.numeric
    _, extra, feats, *_ = prepare_fraud_inputs(df, cols, FraudConfig(keep_columns=("case_outcome",)))
    assert extra == ["channel", "case_outcome"] and "case_outcome" in feats.categorical
    assert feats.leakage["findings"][0]["action"] == KEPT
    with pytest.raises(DataValidationError, match=r"--keep-column must name columns of the log; \['outcome'\] is not"):
        prepare_fraud_inputs(df, cols, FraudConfig(keep_columns=("outcome",)))


def test_fraud_mapped_amount_that_separates_is_kept_with_a_warning():
    df = fraud_log_leaky_amount()
    cols = make_columns(df)
    assert cols.amount == "amount"
    _, extra, feats, *_ = prepare_fraud_inputs(df, cols, FraudConfig())
    audit = LeakAudit.from_dict(feats.leakage)
    found = {f.column: f for f in audit.findings}
    assert found["amount"].action == MAPPED and found["amount"].role == "amount"
    assert found["case_outcome"].action == LEFT_OUT  # an unmapped suspect is still left out
    assert "amount" in feats.numeric and "case_outcome" not in feats.frame
    assert audit.suspects == ["case_outcome"]  # nothing to keep: a mapped role is never left out
    (warning,) = audit.warnings()
    assert warning.startswith("Check the amount column: 'amount' alone separates fraud at ROC-AUC 1.000 on ")
    assert "almost perfectly on its own. Make sure it is not recorded after the outcome" in warning
    assert "It stays a model input because it is mapped as the amount." in warning
    assert warning in audit.notices() and not any(n.startswith("Possible leak, left out: 'amount'")
                                                   for n in audit.notices())
