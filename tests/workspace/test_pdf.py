"""The model card as PDF: it opens, holds the HTML card's sections and the run's headline figures,
keeps the trust warning, and never carries a secret or a tag from an upload as markup."""

from __future__ import annotations

import io
import json

import pytest

from core.errors import DataValidationError
from core.workspace.pdf import build_message_pdf, build_report_pdf, get_pdf_filename, parse_card
from core.workspace.report import SECTIONS, build_report_html
from tests.workspace.run_factory import CHANCE_FLAG, make_run, workspace_meta

pypdf = pytest.importorskip("pypdf")


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture(scope="module")
def credit_pdf(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    ws = workspace_meta(name="credit pdf", auc=0.7812, loss_avoided=98765.0,
                        columns=["income", "<b>debt_ratio</b>", "utilisation"])
    ws["params"]["api_key"] = "sk-THIS-MUST-NOT-LEAK"
    path = make_run(root, "credit-pdf", workspace=ws, extra={
        "metrics": {"network": {"roc_auc": 0.7812, "pr_auc": 0.4321},
                    "logistic_regression": {"roc_auc": 0.7654, "pr_auc": 0.4012}}})
    return path, build_report_pdf(path)


def test_pdf_opens_with_every_section_and_headline_figure(credit_pdf):
    path, pdf = credit_pdf
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2 and reader.metadata.title == "Model card — credit pdf"
    text = _flat(_text(pdf))
    for title in SECTIONS:
        assert title in text, title
    for figure in ("0.781", "0.765", "Logistic regression", "98,765", "Rank test applications by risk.",
                   "Made by hand for a test.", "credit-pdf", "applications.csv", "ab" * 32, "Loss per approved defaulter"):
        assert figure in text, figure
    # The explanations chart is a table in the PDF, biggest first, with the column as uploaded (as text).
    explain = text.split("Explanations", 1)[1]
    assert explain.index("income") < explain.index("<b>debt_ratio</b>") < explain.index("utilisation")
    assert "0.1000" in explain and "0.0500" in explain
    assert "sk-THIS-MUST-NOT-LEAK" not in text


def test_pdf_holds_what_the_html_card_holds(credit_pdf):
    path, pdf = credit_pdf
    text = _flat(_text(pdf))
    blocks = parse_card(build_report_html(path))
    headings = [b[1] for b in blocks if b[0] in ("h1", "h2", "h3")]
    assert headings[0] == "Model card — credit pdf" and "Parameters" in headings
    for h in headings:
        assert _flat(h) in text, h
    cells = [c for b in blocks if b[0] == "table" for cells, _ in b[1] for c in cells if c]
    missing = [c for c in cells if _flat(c) not in text]
    assert not missing, missing[:5]


def test_recorded_curves_are_drawn(credit_pdf, tmp_path):
    _, pdf = credit_pdf
    text = _flat(_text(pdf))
    metrics = text.split("Metrics", 1)[1].split("Business impact", 1)[0]
    assert "ROC curve" in metrics and "False positive rate" in metrics and "chance" in metrics
    assert "interactive in the HTML model card" not in text  # every chart of this card is in the PDF
    ws = workspace_meta(name="demand run", auc=0.5, scenario="demand")
    ws["curves"] = {k: {"x": ["2024-01-01", "2024-01-08", "2024-01-15"], "y": [3.0, v, 4.0], "x_label": "Date",
                        "y_label": label} for k, v, label in (("backtest_actual", 5.0, "Actual demand"),
                                                             ("backtest_p50", 4.0, "Forecast P50"))}
    text = _flat(_text(build_report_pdf(make_run(tmp_path, "demand-1", scenario="demand", workspace=ws))))
    assert "Backtest: actual against forecasts" in text and "2024-01-15" in text and "Forecast P50" in text


def test_untrusted_run_says_so_in_the_pdf(tmp_path):
    pdf = build_report_pdf(make_run(tmp_path, "credit-chance", workspace=workspace_meta(
        name="shuffled", auc=0.51, trust=[CHANCE_FLAG])))
    text = _flat(_text(pdf))
    assert "These figures must not be trusted" in text and "No better than chance" in text
    assert text.index("These figures must not be trusted") < text.index("Intended use")


def test_pdf_without_the_unicode_font_writes_currency_out(tmp_path, monkeypatch):
    import core.workspace.pdf as mod

    monkeypatch.setattr(mod, "_find_font", lambda: None)
    pdf = build_report_pdf(make_run(tmp_path, "credit-plain", workspace=workspace_meta(name="plain", auc=0.7)))
    text = _flat(_text(pdf))
    assert "Loss per approved defaulter EUR 4,321" in text and "Model card - plain" in text


def test_errors_and_filename(tmp_path):
    with pytest.raises(DataValidationError, match="is not a folder"):
        build_report_pdf(tmp_path / "missing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(DataValidationError, match="saved in format 99"):
        build_report_pdf(tmp_path / "broken")
    assert get_pdf_filename({"run_id": "credit 2024/<x>"}) == "model-card-credit-2024-x.pdf"


def test_a_run_gone_since_the_list_was_read_gets_a_pdf_saying_so(tmp_path):
    try:
        build_report_pdf(tmp_path / "deleted")
    except DataValidationError as exc:
        pdf = build_message_pdf("Model card", str(exc))
    text = _flat(_text(pdf))
    assert text.startswith("Model card") and "is not a folder" in text and "Fix: pick a run from the Runs page" in text
