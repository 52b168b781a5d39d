"""The HTML model card: self-contained, complete, escaped, without secrets."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest

from core import __version__
from core.errors import DataValidationError
from core.workspace.report import build_report_html, get_report_filename, strip_secrets
from tests.workspace.run_factory import make_run, workspace_meta

EVIL = '<script>alert("x")</script><img src="https://evil.example/p.png">'


class _Tags(HTMLParser):
    """Every start tag with its attributes (script bodies are data, not tags)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(text)
    return p.tags


@pytest.fixture(scope="module")
def credit_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    ws = workspace_meta(name="credit smote", auc=0.7812, loss_avoided=98765.0, imbalance="smote",
                        columns=["income", EVIL, "debt_ratio"])
    ws["params"]["api_key"] = "sk-THIS-MUST-NOT-LEAK"
    ws["params"]["db"] = {"password": "hunter2-MUST-NOT-LEAK", "host": "db.local"}
    path = make_run(root, "credit-report", workspace=ws, extra={
        "access_token": "tok-MUST-NOT-LEAK",
        "metrics": {"network": {"roc_auc": 0.7812, "pr_auc": 0.4321},
                    "logistic_regression": {"roc_auc": 0.7654, "pr_auc": 0.4012}},
        "counts_before": {"0": 900, "1": 100}, "counts_after": {"0": 900, "1": 900}})
    return build_report_html(path)


def test_no_external_source_or_link(credit_report):
    tags = _tags(credit_report)
    assert any(t == "script" for t, _ in tags)  # plotly.js is inlined ...
    for tag, attrs in tags:
        for attr in ("src", "href", "srcset", "data", "action", "poster"):
            v = (attrs.get(attr) or "").strip().lower()
            assert not v.startswith(("http:", "https:", "//")), (tag, attrs)
        assert not (tag == "script" and attrs.get("src")), attrs  # ... never fetched
        assert tag != "link" and tag != "iframe", (tag, attrs)
    style = "".join(re.findall(r"<style>(.*?)</style>", credit_report, flags=re.S))
    assert "url(" not in style and "@import" not in style
    assert credit_report.count("Plotly.newPlot") == 2  # the ROC curve and the SHAP bar chart
    assert credit_report.count("<script>") - credit_report.count("Plotly.newPlot") == 1  # plotly.js once


def test_contains_metrics_impact_and_assumptions(credit_report):
    assert "<th>ROC-AUC</th>" in credit_report and "<th>PR-AUC</th>" in credit_report  # plain metric names
    for text in ("0.781", "0.765", "Logistic regression", "€98,765", "Loss per approved defaulter €4,321",
                 "Margin per approved good applicant €987", "smote", "Rank test applications by risk.",
                 "Made by hand for a test.", "credit-report", f"AI Use-Case Studio {__version__}", "applications.csv",
                 "ab" * 32, "900"):
        assert html.escape(text, quote=True) in credit_report, text
    for title in ("Data summary", "Method", "Metrics", "Business impact", "Explanations", "Fairness",
                  "Limitations", "Intended use"):
        assert f"<h2>{title}</h2>" in credit_report
    # Credit: the sensitive attributes are named; the fairness table was not saved and the card says so.
    assert "<b>sex</b>" in credit_report and "was not saved with this run" in credit_report
    # ... and said in the data summary too, where a reader looks for what the model was fed.
    data_section = credit_report.split("<h2>Data summary</h2>", 1)[1].split("<h2>", 1)[0]
    assert "Kept out of the model (sensitive attributes):</b> sex." in data_section


def test_malicious_column_name_is_escaped(credit_report):
    body = credit_report.split("</head>", 1)[1]
    assert EVIL not in body
    assert html.escape(EVIL, quote=True) in body
    assert 'src="https://evil.example' not in credit_report
    # The chart gets the name escaped too (Plotly would render <a>/<b> tags), inside JSON that cannot
    # close its script tag: every script in the body is the report's own.
    assert body.count("<script") == body.count("</script>") == 2
    chart_data = body.split("Plotly.newPlot", 2)[2]  # the SHAP chart
    assert "&lt;script&gt;alert(" in chart_data


def test_secrets_never_appear(credit_report):
    for secret in ("sk-THIS-MUST-NOT-LEAK", "hunter2-MUST-NOT-LEAK", "tok-MUST-NOT-LEAK"):
        assert secret not in credit_report
    assert "db.local" in credit_report  # the harmless sibling of the password stays


def test_strip_secrets_recurses():
    got = strip_secrets({"a": 1, "Password": "x", "n": [{"API_KEY": "y", "b": 2}], "auth_token": "z",
                         "client_secret": "s"})
    assert got == {"a": 1, "n": [{"b": 2}]}


def test_old_run_without_workspace_still_reports(tmp_path):
    path = make_run(tmp_path, "credit-old")
    text = build_report_html(path)
    assert "saved without the workspace summary" in text
    assert "not recorded" in text.lower()
    assert "0.7" in text  # its own metrics still show
    assert "Plotly.newPlot" not in text and len(text) < 100_000  # no chart, so no plotly.js either


def test_demand_curves_with_dates(tmp_path):
    ws = workspace_meta(name="demand run", auc=0.5, scenario="demand")
    ws["curves"] = {k: {"x": ["2024-01-01", "2024-01-02"], "y": [3.0, v], "x_label": "Date", "y_label": label}
                    for k, v, label in (("backtest_actual", 5.0, "Actual demand"), ("backtest_p50", 4.0, "Forecast P50"))}
    ws["explain"] = {"note": "Press 'Compute overall importance' before saving."}
    text = build_report_html(make_run(tmp_path, "demand-1", scenario="demand", workspace=ws))
    # Actual and forecast share one date axis: one chart, a line each.
    assert text.count("Plotly.newPlot") == 1 and "2024-01-02" in text
    assert "Actual demand" in text and "Forecast P50" in text and "Backtest: actual against forecasts" in text
    assert "Press &#x27;Compute overall importance&#x27; before saving." in text
    assert "not part of the Demand forecasting card" in text


def test_errors_and_filename(tmp_path):
    with pytest.raises(DataValidationError, match="is not a folder"):
        build_report_html(tmp_path / "missing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(DataValidationError, match="saved in format 99"):
        build_report_html(tmp_path / "broken")
    assert get_report_filename({"run_id": "credit 2024/<x>"}) == "model-card-credit-2024-x.html"


def test_a_run_flagged_untrusted_says_so_in_bold_at_the_top_and_by_its_figures(tmp_path):
    from tests.workspace.run_factory import CHANCE_FLAG

    flagged = build_report_html(make_run(tmp_path, "credit-chance", workspace=workspace_meta(
        name="shuffled", auc=0.51, trust=[CHANCE_FLAG])))
    body = flagged.split("<body>", 1)[1]
    top = body.index('<div class="trust">')
    assert top < body.index('id="intended-use"')  # above every section
    assert "<b>No better than chance.</b> The network&#x27;s ROC-AUC is 0.510" in body
    assert body.count('Not to be trusted: <b>No better than chance</b>') == 2  # Metrics and Business impact
    clean = build_report_html(make_run(tmp_path, "credit-ok", workspace=workspace_meta(name="ok", auc=0.8, trust=[])))
    assert 'class="trust' not in clean.split("<body>", 1)[1]
