import numpy as np
import pandas as pd

from core.credit.scorecard import ScorecardConfig, compute_score_points
from core.credit.scoring import build_scored_frame, compute_reasons_for_rows, score_applicant


def predict_fn(df):
    # A transparent stand-in model: risk rises with the debt ratio.
    return np.clip(df["debt_to_income"].to_numpy(dtype=float), 0.001, 0.999)


def explain_fn(df):
    dti = df["debt_to_income"].to_numpy(dtype=float)
    inc = df["annual_income"].to_numpy(dtype=float)
    return np.column_stack([dti - 0.3, (40000 - inc) / 1e6]), ["debt_to_income", "annual_income"]


def test_what_if_changes_decision_and_reasons():
    refs = {"debt_to_income": 0.3, "annual_income": 40000.0}
    base = {"debt_to_income": 0.1, "annual_income": 60000.0}
    a = score_applicant(base, predict_fn=predict_fn, threshold=0.4, explain_fn=explain_fn, references=refs)
    assert a.decision == "approve" and a.reasons == []
    edited = {**base, "debt_to_income": 0.7, "annual_income": 20000.0}
    b = score_applicant(edited, predict_fn=predict_fn, threshold=0.4, explain_fn=explain_fn, references=refs)
    assert b.decision == "decline"
    assert b.points < a.points
    assert b.reasons == ["Debt-to-income ratio is high (70%)", "Annual income is low (€20,000)"]
    assert b.points == compute_score_points([0.7], ScorecardConfig())[0]


def test_scored_frame_columns_and_reasons():
    df = pd.DataFrame({"debt_to_income": [0.1, 0.8, 0.5], "annual_income": [50000.0, 15000.0, 30000.0]},
                      index=[10, 11, 12])
    p = predict_fn(df)
    declined = list(np.flatnonzero(p >= 0.4))
    reasons = compute_reasons_for_rows(df, declined, explain_fn=explain_fn)
    out = build_scored_frame(df, p, threshold=0.4, reasons=reasons)
    assert list(out.columns[-8:]) == ["probability_of_default", "score_points", "grade", "decision",
                                      "reason_1", "reason_2", "reason_3", "reason_4"]
    assert out["decision"].tolist() == ["approve", "decline", "decline"]
    assert out.loc[0, "reason_1"] == ""
    assert out.loc[1, "reason_1"].startswith("Debt-to-income ratio")
    assert out.loc[1, "reason_2"].startswith("Annual income")
    pts = out["score_points"]
    assert pts.iloc[0] > pts.iloc[2] > pts.iloc[1]
