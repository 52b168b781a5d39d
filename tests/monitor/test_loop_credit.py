"""The loop end to end on credit: a run trained tiny on the bundled sample, the bundled next month
scored through the command line's ``score`` (the log fills), its outcomes fed back with ``python -m core
feedback``, the monitor's figures checked against sklearn and ``core.data.drift`` on the same rows, a
challenger retrained and promoted, and the Score, Monitor and Runs pages over the same run."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.data.drift import compare_to_profile
from core.monitor import store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "credit_applications.csv"
NEW = ROOT / "sample_data" / "credit_new_month.csv"


def run_cli(*argv) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*map(str, argv), "--json"])
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("credit-loop") / "runs"
    run = root / "credit-1"
    run_cli("train", "--scenario", "credit", "--data", SAMPLE, "--epochs", "2", "--no-explain", "--seed", "3",
            "--save", run)
    scored = root.parent / "scored.csv"
    # The command line's own code in this process (``python -m core`` is ``core.cli.main``): the log is the
    # same, without a second interpreter importing TensorFlow.
    score = run_cli("score", "--model", run, "--data", NEW, "--out", scored, "--chunk-size", "500", "--quiet")
    fed = run_cli("feedback", "--model", run, "--data", NEW)
    report = run_cli("monitor", "--model", run, "--by", "month")
    return {"root": root, "run": run, "scored": pd.read_csv(scored), "score": score, "fed": fed, "report": report}


def test_the_command_line_scoring_fills_the_log(loop):
    log = store.read_table(loop["run"], "predictions")
    new = pd.read_csv(NEW)
    assert loop["score"]["prediction_log"]["rows"] == len(new) == len(log)
    assert sorted(log["row_id"]) == sorted(new["applicant_id"]) and (log["source"] == "cli").all()
    assert len(store.list_parts(loop["run"], "predictions")) == 3  # one file per 500-row chunk
    assert "in.default" not in log.columns and "in.sex" not in log.columns  # outcome and sensitive columns are no inputs
    assert (loop["fed"]["matched"], loop["fed"]["unmatched"]) == (len(new), 0)


def test_the_monitors_figures_are_the_figures_of_the_same_rows(loop):
    period = loop["report"]["periods"][-1]
    rows = loop["scored"]
    y, p = rows["default"].to_numpy(), rows["probability_of_default"].to_numpy()
    assert period["rows"] == len(rows) and period["realized"]["labelled_rows"] == len(rows)
    # The scored file holds the probabilities rounded to 6 decimals; the log keeps them whole.
    assert period["realized"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-5)
    approved = rows["decision"] == "approve"
    assert period["realized"]["bad_rate_approved"] == pytest.approx(y[approved].mean())
    assert period["decisions"]["decline"] == pytest.approx((~approved).mean())
    meta = json.loads((loop["run"] / "metadata.json").read_text())
    drift = compare_to_profile(meta["workspace"]["profile"], pd.read_csv(NEW)).set_index("variable")["psi"]
    inputs = {k: v for k, v in period["psi"].items() if k != "score"}
    assert set(inputs) == set(drift.index)
    for col, value in inputs.items():
        assert value == pytest.approx(drift[col], abs=1e-9)
    assert 0.5 < period["estimated"]["roc_auc"] < 1 and loop["report"]["calibration"]["method"] in (
        "none", "isotonic", "platt")


def test_a_challenger_is_trained_judged_and_promoted_only_on_request(loop):
    out = run_cli("retrain", "--model", loop["run"], "--data", NEW, "--by", "month")
    challenger = Path(out["challenger"])
    assert challenger.parent == loop["root"] and (challenger / "metadata.json").is_file()
    assert out["comparison"]["rows"] == 750  # the later half of the labelled month, never trained on
    assert out["verdict"]["outcome"] in ("better", "on par", "worse") and out["verdict"]["baseline"] == "the champion"
    meta = json.loads((challenger / "metadata.json").read_text())
    assert meta["workspace"]["lineage"]["champion"] == "credit-1"
    assert meta["workspace"]["dataset"]["rows"] == 5000 + 750  # the original rows and the first half of the month
    from core.monitor.lineage import read_status

    assert read_status(challenger)["role"] == "challenger" and not read_status(loop["run"]).get("role")
    done = run_cli("promote", "--model", challenger)
    assert done["promoted"] == challenger.name and done["retired"] == "credit-1"
    assert read_status(loop["run"])["role"] == "retired" and read_status(challenger)["role"] == "champion"


def test_the_score_page_records_what_it_scores_unless_unticked(loop, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(loop["root"]))
    at = AppTest.from_file(str(ROOT / "pages" / "score.py"), default_timeout=300).run()
    at.selectbox(key="score.run").set_value("credit-1").run()
    before = len(store.read_table(loop["run"], "predictions"))
    at.checkbox(key="score.log").uncheck()
    at.button(key="FormSubmitter:score.form-Use the sample batch (credit_new_month.csv)").click().run()
    assert not at.exception, at.exception
    assert len(store.read_table(loop["run"], "predictions")) == before
    at.checkbox(key="score.log").check()
    at.button(key="FormSubmitter:score.form-Use the sample batch (credit_new_month.csv)").click().run()
    assert not at.exception, at.exception
    log = store.read_table(loop["run"], "predictions")
    assert len(log) == before + 1500 and (log["source"] == "page").sum() == 1500
    assert any("1,500 predictions recorded" in e.value for e in at.expander[0].markdown) or any(
        "1,500 predictions recorded" in m.value for m in at.markdown)


def test_the_monitor_and_runs_pages_show_the_run(loop, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(loop["root"]))
    at = AppTest.from_file(str(ROOT / "pages" / "monitor.py"), default_timeout=300).run()
    at.selectbox(key="monitor.run").set_value("credit-1").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert {"Rows scored", "With outcome", "Realized ROC-AUC", "Estimated ROC-AUC", "PSI of the score"} <= set(labels)
    text = " ".join(m.value for m in at.markdown)
    assert "Retired on" in text and "credit-1-challenger-1" in text
    runs = AppTest.from_file(str(ROOT / "pages" / "runs.py"), default_timeout=300).run()
    runs.selectbox(key="runs.detail").set_value("credit-1-challenger-1").run()
    assert not runs.exception, runs.exception
    text = " ".join(m.value for m in runs.markdown)
    assert "Prediction log" in text and "Challenger of run “credit-1”" in text and "Promoted to champion" in text


def test_the_monitor_page_trains_a_challenger_and_refuses_a_stale_promotion(loop, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(loop["root"]))
    at = AppTest.from_file(str(ROOT / "pages" / "monitor.py"), default_timeout=900).run()
    at.selectbox(key="monitor.run").set_value("credit-1").run()
    at.radio(key="monitor.by").set_value("month").run()
    at.button(key="monitor.retrain").click().run()
    assert not at.exception, at.exception
    saved = [b.value for b in [*at.success, *at.info, *at.warning] if "Challenger `credit-1-challenger-2` saved" in b.value]
    assert saved and "comparison rows" in saved[0] and "against" in saved[0]
    at.button(key="monitor.open_challenger").click().run()
    assert at.selectbox(key="monitor.run").value == "credit-1-challenger-2"
    at.button(key="monitor.promote").click().run()
    assert not at.exception, at.exception
    # credit-1 was replaced by the first challenger already: promoting a challenger of it is refused.
    assert at.error and "already replaced by 'credit-1-challenger-1'" in at.error[0].value
