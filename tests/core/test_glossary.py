"""Plain names for metrics, models and columns."""

import pytest

from core.present.glossary import feature_label, metric_help, metric_label, model_label, rename_metrics


@pytest.mark.parametrize("raw,plain", [
    ("credit_utilisation", "Credit utilisation"),
    ("NumberOfDependents", "Number of dependents"),
    ("NumberOfTime30-59DaysPastDueNotWorse", "Number of time 30–59 days past due not worse"),
    ("applicant_id", "Applicant ID"),
    ("TERMINAL_ID", "Terminal ID"),
    ("Weekly_Sales", "Weekly sales"),
    ("CPI", "CPI"),
    ("age", "Age"),
    ("", ""),
])
def test_feature_label(raw, plain):
    assert feature_label(raw) == plain


def test_metric_and_model_labels():
    assert metric_label("roc_auc") == "ROC-AUC" and metric_label("brier") == "Brier score"
    assert metric_label("card_precision_at_100") == "Card precision@100"
    assert metric_label("precision_at_25_per_day") == "Precision@25 per day"
    assert metric_label("wape") == "WAPE" and metric_label("coverage_80") == "P10–P90 coverage"
    assert metric_label("some_new_key") == "Some new key"
    assert "guessing" in metric_help("roc_auc") and "25 riskiest transactions each day" in metric_help(
        "precision_at_25_per_day")
    assert metric_help("nothing_known") == ""
    assert model_label("gradient_boosting") == "Gradient boosting" and model_label("network") == "Keras network"
    assert rename_metrics(["roc_auc", "ks"]) == {"roc_auc": "ROC-AUC", "ks": "KS statistic"}
