"""Presenter mode's one sentence per scenario."""

from core.workspace.present import presenter_sentence


def _meta(**head):
    return {"scenario": "credit", "workspace": {"headline": head}}


def test_sentence_names_the_quality_the_verdict_and_the_money():
    meta = _meta(quality=[{"label": "ROC-AUC", "value": 0.7812, "fmt": ".3f"}],
                 impact=[{"label": "Loss avoided", "value": 218000.0, "unit": "€", "fmt": ",.0f"}],
                 verdict={"metric": "ROC-AUC", "value": 0.78, "baseline": "Logistic regression",
                          "baseline_value": 0.779, "diff": 0.001, "low": -0.01, "high": 0.012})
    assert presenter_sentence("Credit scoring", meta) == (
        "Credit scoring: the model reaches ROC-AUC 0.781 (on par with logistic regression); loss avoided €218,000.")


def test_sentence_without_a_run_or_figures_says_so():
    assert "no saved run yet" in presenter_sentence("Fraud detection", None)
    assert presenter_sentence("Fraud detection", _meta()) == (
        "Fraud detection: the latest run was saved without headline figures.")
    only_money = _meta(impact=[{"label": "Net saving", "value": -40.0, "unit": "€", "fmt": ",.2f"}])
    assert presenter_sentence("Fraud detection", only_money) == "Fraud detection: net saving -€40.00."
