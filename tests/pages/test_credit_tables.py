"""The credit page's column and feature tables read in plain words: the column-role table, the
scorecard grades, fairness by group and the drift (PSI) table carry plain headers, and features
their plain names beside the file's own column name."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")

# A trained run stand-in on the bundled sample (seeded scores): the tabs only read these fields.

SCRIPT = """
from types import SimpleNamespace

import numpy as np
import pandas as pd

from core.credit.pipeline import SAMPLE_PATH
from ui.credit.checks import show_drift, show_fairness
from ui.credit.results import show_scorecard

df = pd.read_csv(SAMPLE_PATH)
rng = np.random.default_rng(0)
train_df, test_df = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
y = test_df["default"].to_numpy()
p = np.clip(0.1 + 0.5 * y + rng.normal(0, 0.2, len(y)), 0.001, 0.999)
numeric = ["annual_income", "loan_amount", "debt_to_income", "credit_utilisation", "past_delinquencies"]
categorical = ["region", "housing", "purpose"]
setup = SimpleNamespace(target="default", numeric=numeric, categorical=categorical, sensitive=["sex", "age"],
                        features=numeric + categorical)
run = SimpleNamespace(y_test=y, p_test=p, test_df=test_df, train_df=train_df, setup=setup,
                      p_train=rng.random(len(train_df)), predict=lambda frame: rng.random(len(frame)))
scorecard = show_scorecard(run, 0.5)
show_fairness(run, 0.5)
show_drift(run)
"""


def _frames(at) -> list:
    return [d.value for d in at.dataframe]


def test_grades_fairness_and_drift_tables_have_plain_headers():
    at = AppTest.from_string(SCRIPT, default_timeout=120)
    at.session_state["credit.psi_sample"] = True  # the bundled next-month batch
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert not errors_besides_trust(at), errors_besides_trust(at)
    grades, fairness, psi = _frames(at)
    assert list(grades.columns) == ["Grade", "Score range", "Applicants", "Share of applicants",
                                    "Predicted default rate", "Defaults", "Default rate", "Approved", "Declined",
                                    "Decision"]
    assert list(fairness.columns) == ["Sex", "Applicants", "Default rate", "Approval rate", "Defaulters declined (TPR)",
                                      "Good applicants declined (FPR)", "DI ratio", "Four-fifths rule"]
    assert list(psi.columns)[:2] == ["Feature", "Column in the file"] and "PSI" in psi.columns
    rows = dict(zip(psi["Column in the file"], psi["Feature"]))
    assert rows["credit_utilisation"] == "Credit utilisation" and rows["debt_to_income"] == "Debt-to-income ratio"
    assert rows["score"] == "Model score"
    for frame in (grades, fairness, psi):
        assert not [c for c in frame.columns if "_" in c], frame.columns
    # The PSI chart names the features as the table does.
    psi_chart = next(c for c in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
                     if c["layout"]["title"]["text"] == "Population stability (PSI)")
    assert "Credit utilisation" in psi_chart["data"][0]["y"] and "credit_utilisation" not in psi_chart["data"][0]["y"]
    # The group-by choice shows plain names too; its value stays the column's own name.
    group_by = at.selectbox(key="credit.fair_attr")
    assert group_by.value == "sex" and "Sex" in group_by.options


def test_column_role_table_has_plain_headers_and_names():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception
    table = at.dataframe(key="credit.schema:sample")
    labels = {k: v["label"] for k, v in json.loads(table.proto.columns).items() if "label" in v}
    assert labels == {"column": "Column", "name": "Shown as", "role": "Role", "sensitive": "Sensitive",
                      "missing": "Missing", "example": "Example"}
    names = table.value.set_index("column")["name"]
    assert names["credit_utilisation"] == "Credit utilisation" and names["applicant_id"] == "Applicant ID"
