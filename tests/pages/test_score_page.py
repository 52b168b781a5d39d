"""AppTest tests of the Score page over saved runs of every scenario."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.workspace.demos import SAMPLES
from tests.conftest import errors_besides_trust

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "score.py")


@pytest.fixture
def runs_root(saved_demo_runs, monkeypatch):
    root = next(iter(saved_demo_runs.values())).parent
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    return root


def _open() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _text(at) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.warning, *at.error, *at.success, *at.info])


def _frame(at, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    for df in at.dataframe:
        value = df.value
        if hasattr(value, "columns") and column in value.columns:
            return value
    raise AssertionError(f"no table with a '{column}' column")


def _pick(at, saved_demo_runs, scenario: str) -> AppTest:
    at.selectbox(key="score.run").set_value(saved_demo_runs[scenario].name).run()
    assert not at.exception, at.exception
    return at


def _upload(at, scenario: str, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    images = scenario == "quality"
    at.file_uploader(key=f"score.upload.{images}").set_value((name, data, mime))
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not at.exception, at.exception
    return at


def test_empty_runs_folder_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    at = _open()
    assert "No saved runs yet" in at.info[0].value


def test_credit_file_is_scored_with_decisions_drift_and_download(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "credit")
    assert "approve / decline" in _text(at)
    rows = pd.read_csv(SAMPLES["credit"]).iloc[:300]
    at = _upload(at, "credit", "applicants.csv", rows.to_csv(index=False).encode())
    assert not errors_besides_trust(at)
    assert at.subheader[0].value == "Scored: applicants.csv"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Applicants scored"] == "300"
    decisions = _frame(at, "Applicants")
    assert set(decisions["Decision"]) == {"approve", "decline"} and decisions["Applicants"].sum() == 300
    scored = _frame(at, "probability_of_default")
    assert {"probability_of_default", "score_points", "grade", "decision", "reason_1"} <= set(scored.columns)
    # Every declined applicant has its reasons, not only the riskiest few hundred.
    declined = scored[scored["decision"] == "decline"]
    assert len(declined) > 0 and declined["reason_1"].fillna("").str.len().gt(0).all()
    # Reasons are sentences: wide columns, not "Credit utili…".
    shown = next(d for d in at.dataframe if "reason_1" in d.value.columns)
    assert json.loads(shown.proto.columns)["reason_1"]["width"] == "large"
    psi = [c for c in at.get("plotly_chart") if "Population stability" in c.proto.spec]
    assert psi, "the drift chart is shown"
    names = json.loads(psi[0].proto.spec)["data"][0]["y"]
    assert "Credit utilisation" in names and "credit_utilisation" not in names  # plain feature names
    assert at.get("download_button"), "the scored file can be downloaded"


def test_training_rows_in_the_file_are_flagged_and_the_sample_batch_is_not(runs_root, saved_demo_runs):
    from core.credit.persist import load_credit_model
    from core.data.rowhash import ROW_HASH_FILE, compute_row_hashes, load_hashes

    at = _pick(_open(), saved_demo_runs, "credit")
    sample = pd.read_csv(SAMPLES["credit"])
    # The demo run trained on a seeded subset of the sample: count the file's training rows by hand.
    cols = load_credit_model(saved_demo_runs["credit"]).metadata["row_hash_columns"]
    saved = load_hashes(saved_demo_runs["credit"] / ROW_HASH_FILE)
    expected = int(pd.Series(compute_row_hashes(sample, cols)).isin(saved).sum())
    assert 0 < expected < len(sample)
    at = _upload(at, "credit", "everything.csv", sample.to_csv(index=False).encode())
    warning = next(w.value for w in at.warning if "rows the model was trained on" in w.value)
    assert warning.startswith(f"{expected:,} of {len(sample):,} rows in this file")
    assert "ROC-AUC on this file (not a test figure)" in {m.label for m in at.metric}
    # The bundled next-month batch: one click, no upload, and none of its rows were trained on.
    at.button(key="FormSubmitter:score.form-Use the sample batch (credit_new_month.csv)").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert at.subheader[0].value == "Scored: credit_new_month.csv"
    assert not any("rows the model was trained on" in w.value for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Applicants scored"] == "1,500"
    scored = _frame(at, "probability_of_default")
    declined = scored[scored["decision"] == "decline"]
    assert len(declined) > 200  # more than the old cap of 200 explained rows ...
    assert declined["reason_1"].fillna("").str.len().gt(0).all()  # ... and all of them explained
    assert "ROC-AUC on this file" in {m.label for m in at.metric}


def test_fraud_sample_batch_scores_the_next_month(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "fraud")
    at.button(key="FormSubmitter:score.form-Use the sample batch (fraud_new_month.csv.gz)").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert at.subheader[0].value == "Scored: fraud_new_month.csv.gz"
    assert len(_frame(at, "risk")) > 0


def test_missing_columns_are_listed_and_the_previous_result_is_kept(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "credit")
    rows = pd.read_csv(SAMPLES["credit"]).iloc[:100]
    at = _upload(at, "credit", "good.csv", rows.to_csv(index=False).encode())
    at = _upload(at, "credit", "bad.csv", rows.drop(columns=["annual_income", "purpose"]).to_csv(index=False).encode())
    assert "does not match the model" in errors_besides_trust(at)[0]
    assert "missing: ['annual_income', 'purpose']" in errors_besides_trust(at)[0]
    report = _frame(at, "status").set_index("column")
    assert report.loc["annual_income", "status"] == "missing" and report.loc["region", "status"] == "ok"
    assert "Showing the previous result" in _text(at)
    assert at.subheader[0].value == "Scored: good.csv"


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"a,b\n", "no data rows"),
    (b"x,x\n1,2\n", "Column names must be unique"),
])
def test_unreadable_uploads_show_an_error(runs_root, saved_demo_runs, content, match):
    at = _pick(_open(), saved_demo_runs, "credit")
    at = _upload(at, "credit", "bad.csv", content)
    assert match in errors_besides_trust(at)[0]


def test_pressing_score_without_a_file_says_so(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "credit")
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert "No file to score yet" in errors_besides_trust(at)[0]


def test_fraud_file_gets_bands_with_the_chosen_thresholds(runs_root, saved_demo_runs):
    from core.data.datasets import read_table

    at = _pick(_open(), saved_demo_runs, "fraud")
    rid = saved_demo_runs["fraud"].name
    at.slider(key=f"score.{rid}.review").set_value(0.1)
    at.slider(key=f"score.{rid}.block").set_value(0.5)
    tail = read_table(SAMPLES["fraud"], max_rows=None).df.tail(800)
    at = _upload(at, "fraud", "today.csv", tail.to_csv(index=False).encode())
    assert not errors_besides_trust(at)
    scored = _frame(at, "risk")
    expect = scored["risk"].map(lambda r: "block" if r >= 0.5 else "review" if r >= 0.1 else "approve")
    assert (scored["decision"] == expect).all()
    assert {"Decision", "Transactions", "Amount at stake"} <= set(_frame(at, "Transactions").columns)


def test_demand_history_gives_reorder_points(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "demand")
    rid = saved_demo_runs["demand"].name
    # The settings come from the scenario's hook: periods in the run's own unit, costs in the currency.
    assert at.number_input(key=f"score.{rid}.lt").label == "Lead time (days)"
    assert at.number_input(key=f"score.{rid}.hc").label == "Holding cost per unit per period (€)"
    assert "Give each series' recent history" in _text(at)
    df = pd.read_csv(SAMPLES["demand"])
    keep = df[["store", "product"]].drop_duplicates().iloc[:2]
    at = _upload(at, "demand", "history.csv", df.merge(keep).to_csv(index=False).encode())
    assert not errors_besides_trust(at)
    policy = _frame(at, "Expected cost per period")
    assert len(policy) == 2 and (policy["Reorder point"] >= policy["Safety stock"]).all()
    assert "Order quantities need the stock on hand" in _text(at)


def test_quality_zip_gets_verdicts_and_a_bad_zip_an_error(runs_root, saved_demo_runs):
    at = _pick(_open(), saved_demo_runs, "quality")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((SAMPLES["quality"] / "ok").iterdir())[:5]:
            zf.writestr(f"new/{p.name}", p.read_bytes())
    at = _upload(at, "quality", "parts.zip", buf.getvalue(), "application/zip")
    assert not errors_besides_trust(at)
    scored = _frame(at, "verdict")
    assert len(scored) == 5 and set(scored["verdict"]) <= {"pass", "reject"}
    at = _upload(at, "quality", "junk.zip", b"not a zip at all", "application/zip")
    assert errors_besides_trust(at) and "zip" in errors_besides_trust(at)[0].lower()


def test_a_zip_of_tables_and_a_workbook_sheet_are_picked_then_scored(runs_root, saved_demo_runs):
    """Generator: the credit sample's first 120 and 80 rows zipped as two CSVs; then the same rows as
    a workbook whose first sheet holds a note."""
    rows = pd.read_csv(SAMPLES["credit"]).drop(columns="default")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("may.csv", rows.iloc[:120].to_csv(index=False))
        zf.writestr("june.csv", rows.iloc[120:200].to_csv(index=False))
    at = _upload(_pick(_open(), saved_demo_runs, "credit"), "credit", "batch.zip", buf.getvalue(), "application/zip")
    assert "holds 2 tables: ['may.csv', 'june.csv']" in errors_besides_trust(at)[0]
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Table in the zip")).set_value("june.csv").run()
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert at.subheader[0].value == "Scored: batch.zip" and "Scored rows** (80" in _text(at)
    book = io.BytesIO()
    with pd.ExcelWriter(book, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["applicants of May", "scored monthly"]}).to_excel(xw, sheet_name="About", index=False)
        rows.iloc[:50].to_excel(xw, sheet_name="Applicants", index=False)
    at = _upload(at, "credit", "batch.xlsx", book.getvalue(), "application/octet-stream")
    assert "does not match the model" in errors_besides_trust(at)[0]  # the first sheet is read first
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Sheet")).set_value("Applicants").run()
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not errors_besides_trust(at), errors_besides_trust(at)
    assert at.subheader[0].value == "Scored: batch.xlsx" and "Scored rows** (50" in _text(at)


def test_every_scenario_scores_its_bundled_sample_batch(runs_root, saved_demo_runs):
    from core.store.scenarios import SCENARIOS

    # Demand: the quarter after the sample, with stock on hand, gives order quantities for every series.
    at = _pick(_open(), saved_demo_runs, "demand")
    at.button(key="FormSubmitter:score.form-Use the sample batch (demand_next_quarter.csv)").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    policy = _frame(at, "Expected cost per period")
    batch = pd.read_csv(SCENARIOS["demand"].sample_batch_path)
    assert "on_hand" in batch and batch["date"].min() > pd.read_csv(SAMPLES["demand"])["date"].max()
    assert len(policy) == len(batch[["store", "product"]].drop_duplicates()) == 23
    assert policy["Order quantity"].notna().all() and "Order quantities need" not in _text(at)
    # Quality: new parts in class folders, each with a verdict and its label.
    at = _pick(_open(), saved_demo_runs, "quality")
    at.button(key="FormSubmitter:score.form-Use the sample batch (quality_new_batch.zip)").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    scored = _frame(at, "verdict")
    assert len(scored) == 80 and set(scored["actual"]) == {"ok", "scratch", "pit", "crack"}
    assert set(scored["verdict"]) <= {"pass", "reject"}


def test_a_run_whose_figures_must_not_be_trusted_says_so_before_scoring(tmp_path, monkeypatch):
    from tests.workspace.run_factory import make_run, workspace_meta

    flag = {"kind": "chance", "headline": "No better than chance", "first_try": False,
            "why": "The network's ROC-AUC is 0.510, and its 95 % interval (0.470 to 0.550) holds 0.5."}
    make_run(tmp_path, "credit-checked", saved_at=1_700_000_000, workspace=workspace_meta(name="checked", auc=0.8,
                                                                                          trust=[]))
    make_run(tmp_path, "credit-flagged", saved_at=1_700_000_100, workspace=workspace_meta(name="flagged", auc=0.51,
                                                                                          trust=[flag]))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    at = _open()
    assert at.selectbox(key="score.run").value == "credit-flagged"  # the newest
    boxes = [e.value for e in at.error if e.icon == ":material/report:"]
    assert boxes == ["**No better than chance.** The network's ROC-AUC is 0.510, and its 95 % interval (0.470 to "
                     "0.550) holds 0.5."]
    at.selectbox(key="score.run").set_value("credit-checked").run()
    assert not [e for e in at.error if e.icon == ":material/report:"]


def test_quality_masks_are_left_out_with_a_notice_and_the_checkbox_keeps_them(runs_root, saved_demo_runs):
    from tests.quality.test_browser_score_masks import photos_with_masks

    at = _pick(_open(), saved_demo_runs, "quality")
    box = at.checkbox(key="score.keep_masks")
    assert box.label == "Keep mask-like images as photos" and box.value is False  # the default leaves masks out
    parts = photos_with_masks()
    at = _upload(at, "quality", "parts.zip", parts, "application/zip")
    assert not errors_besides_trust(at)
    assert len(_frame(at, "verdict")) == 4
    assert "2 mask or annotation image(s) were left out, not read as photos" in _text(at)
    assert "tick 'Keep mask-like images as photos' on the page" in _text(at)
    at.checkbox(key="score.keep_masks").check()
    at = _upload(at, "quality", "parts.zip", parts, "application/zip")
    assert not errors_besides_trust(at)
    assert len(_frame(at, "verdict")) == 6
    assert "2 image(s) look like masks or annotations" in _text(at) and "kept as photos, as asked" in _text(at)
