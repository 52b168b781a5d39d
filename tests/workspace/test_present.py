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


def test_a_result_that_must_not_be_trusted_ends_with_its_warnings_in_bold():
    flags = [{"kind": "chance", "headline": "No better than chance", "why": "interval holds 0.5"},
             {"kind": "degenerate", "headline": "Declines 99.8 % of applicants", "why": "a blanket rule"}]
    meta = _meta(quality=[{"label": "ROC-AUC", "value": 0.52, "fmt": ".3f"}],
                 impact=[{"label": "Loss avoided", "value": 1000.0, "unit": "€", "fmt": ",.0f"}], trust=flags)
    assert presenter_sentence("Credit scoring", meta) == (
        "Credit scoring: the model reaches ROC-AUC 0.520; loss avoided €1,000. Not a result to present: "
        "**No better than chance**; **Declines 99.8 % of applicants**.")
    # Checked and nothing found, or saved before the checks: no warning.
    for saved in ([], None):
        meta = _meta(quality=[{"label": "ROC-AUC", "value": 0.78, "fmt": ".3f"}], trust=saved)
        assert presenter_sentence("Credit scoring", meta) == "Credit scoring: the model reaches ROC-AUC 0.780."
