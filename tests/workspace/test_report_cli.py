"""``python -m core report``: a saved run's model card from the command line, as PDF or HTML, with the run's
headline figures in it; a bad --format, a missing run or a folder that is not a run get a clear message."""

from __future__ import annotations

import io
import json

import pytest

from core.cli import main
from core.errors import DataValidationError
from core.workspace.report_cli import report_parser, resolve_format, run_report
from tests.workspace.run_factory import CHANCE_FLAG, make_run, workspace_meta

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    ws = workspace_meta(name="credit cli card", auc=0.7812, loss_avoided=98765.0)
    ws["params"]["api_key"] = "sk-NOT-IN-THE-CARD"
    return make_run(root, "credit-cli", workspace=ws)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_pdf_card_holds_the_runs_headline_figures(run, tmp_path, capsys):
    out = tmp_path / "card.pdf"
    assert main(["report", "--model", str(run), "--format", "pdf", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and printed["bytes"] == len(data) and printed["format"] == "pdf"
    assert printed["headline"] == {"ROC-AUC": "0.781", "Loss avoided": "€98,765"}
    text = _pdf_text(data)
    assert "Model card — credit cli card" in text and "credit-cli" in text
    for figure in ("0.781", "98,765", "Loss per approved defaulter"):
        assert figure in text, figure
    assert "sk-NOT-IN-THE-CARD" not in text


def test_format_follows_out_and_defaults_to_the_runs_card_name(run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--model", str(run)]) == 0
    html = (tmp_path / "model-card-credit-cli.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "0.781" in html
    assert "out: model-card-credit-cli.html" in capsys.readouterr().out
    assert main(["report", "--model", str(run), "--out", "x.PDF"]) == 0
    assert (tmp_path / "x.PDF").read_bytes().startswith(b"%PDF-")
    assert main(["report", "--model", str(run), "--format", "PDF"]) == 0
    assert (tmp_path / "model-card-credit-cli.pdf").read_bytes().startswith(b"%PDF-")


def test_bad_format_is_a_clear_message(run, tmp_path, capsys):
    with pytest.raises(DataValidationError, match=r"Expected --format html or pdf; got 'docx'\. Fix: pass --format pdf"):
        resolve_format("docx", None)
    with pytest.raises(DataValidationError, match=r"--format pdf writes a PDF card, but --out 'card\.html' names "
                                                  r"a HTML file.*Fix: end --out in \.pdf"):
        resolve_format("pdf", "card.html")
    assert main(["report", "--model", str(run), "--format", "docx", "--out", str(tmp_path / "c.docx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Expected --format html or pdf; got 'docx'") and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_missing_run_and_not_a_run_are_clear_messages(run, tmp_path, capsys):
    args = report_parser().parse_args(["--model", str(tmp_path / "gone"), "--format", "pdf"])
    with pytest.raises(DataValidationError, match=r"No saved run at '.*gone': that folder does not exist\. "
                                                  r"Expected the folder of a saved run .*Fix: check the path"):
        run_report(args)
    args.model = str(run.parent)  # the runs folder above the run
    with pytest.raises(DataValidationError, match=r"is not a saved run: expected a folder holding metadata\.json; "
                                                  r"got a folder without it\. Fix: pass the run's own folder"):
        run_report(args)
    args.model = str(run / "metadata.json")
    with pytest.raises(DataValidationError, match="is not a saved run: .*got a file"):
        run_report(args)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.json").write_text("{not json")
    assert main(["report", "--model", str(broken), "--out", str(tmp_path / "b.pdf")]) == 1
    err = capsys.readouterr().err
    assert "Run 'broken' is damaged" in err and "Traceback" not in err
    assert not (tmp_path / "b.pdf").exists()


def test_untrusted_run_prints_the_cards_warning(tmp_path, capsys):
    ws = workspace_meta(name="chance", auc=0.51, trust=[CHANCE_FLAG])
    run = make_run(tmp_path / "runs", "credit-chance", workspace=ws)
    out = tmp_path / "chance.pdf"
    assert main(["report", "--model", str(run), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["trusted"] is False and printed["trust"][0]["headline"] == "No better than chance"
    assert "Warning — No better than chance" in captured.err
    assert "These figures must not be trusted" in _pdf_text(out.read_bytes())
    trusted = make_run(tmp_path / "runs", "credit-ok", workspace=workspace_meta(name="ok", auc=0.8, trust=[]))
    assert main(["report", "--model", str(trusted), "--out", str(tmp_path / "ok.html"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["trusted"] is True and "Warning" not in captured.err
