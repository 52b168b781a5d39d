"""The fraud page's imbalance-strategy comparison reads in plain words: strategy names and metric
headers from the glossary, counts as whole numbers."""

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

SCRIPT = """
from types import SimpleNamespace

from ui.fraud.results import show_imbalance_comparison

show_imbalance_comparison(SimpleNamespace(config=SimpleNamespace(tabular=SimpleNamespace(epochs=5))))
"""

# A finished comparison as core.fraud.compare.compare_imbalance returns it.
RAW = pd.DataFrame([
    {"method": "none", "pr_auc": 0.61234, "roc_auc": 0.90111, "recall_at_precision_80%": 0.41,
     "card_precision_at_100": 0.2345, "brier": 0.0123, "mean_score_vs_fraud_rate": 1.04, "train_rows": 61234,
     "train_seconds": 12.345, "error": ""},
    {"method": "smote", "pr_auc": 0.58, "roc_auc": 0.89, "recall_at_precision_80%": 0.37,
     "card_precision_at_100": 0.21, "brier": 0.05, "mean_score_vs_fraud_rate": 6.5, "train_rows": 120000,
     "train_seconds": 20.0, "error": ""},
])


def test_comparison_table_has_plain_headers_and_strategy_names():
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["fraud.compare"] = (RAW, "Use class weights.")
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert len(at.dataframe) == 1
    shown = at.dataframe[0].value
    assert list(shown.columns) == [
        "Strategy", "PR-AUC", "ROC-AUC", "Recall at 80% precision", "Card precision@100", "Brier score",
        "Score ÷ fraud rate", "Training rows", "Training time (s)"]
    assert shown["Strategy"].tolist() == ["None", "SMOTE"]
    assert not any("_" in c for c in shown.columns)
    # The chart beside it names the strategies the same way.
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert list(chart["data"][0]["x"]) == ["None", "SMOTE"]
