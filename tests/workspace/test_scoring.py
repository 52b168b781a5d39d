"""Batch scoring with saved runs of every scenario: decisions, reasons, drift, column reports."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.data.datasets import read_table
from core.errors import DataValidationError
from core.workspace.demos import SAMPLES
from core.workspace.inputs import ColumnMismatchError
from core.workspace.scoring import fraud_decisions, get_decision_settings, score_with_run


@pytest.fixture(scope="module")
def credit_rows():
    return pd.read_csv(SAMPLES["credit"]).iloc[:600]


def _meta(path) -> dict:
    return json.loads((path / "metadata.json").read_text())


# ---------------------------------------------------------------- credit
def test_credit_scores_every_row_with_decision_points_and_reasons(saved_demo_runs, credit_rows):
    run = saved_demo_runs["credit"]
    saved = get_decision_settings(_meta(run))
    r = score_with_run(run, credit_rows, reason_rows=25)
    s = r.scored
    assert len(s) == len(credit_rows) and r.settings == saved
    p = s["probability_of_default"].to_numpy()
    assert ((p >= saved["threshold"]) == (s["decision"] == "decline")).all()
    declined = s[s["decision"] == "decline"]
    explained = declined.sort_values("probability_of_default", ascending=False).head(25)
    assert (explained["reason_1"] != "").all()
    assert (s.loc[s["decision"] == "approve", "reason_1"] == "").all()
    assert r.decisions.set_index("decision")["applicants"].sum() == len(s)
    figures = dict(r.figures)
    assert figures["Applicants scored"] == f"{len(s):,}"
    # The file carries the outcome; the demo run trained on some of these sample rows, so the figure
    # says it is not a test figure.
    assert r.training_overlap > 0 and "ROC-AUC on this file (not a test figure)" in figures
    assert any("25 riskiest" in n for n in r.notices)
    assert r.drift is not None and set(r.drift["status"]) <= {"stable", "watch", "shifted"}


def test_credit_threshold_override_changes_the_decisions(saved_demo_runs, credit_rows):
    run = saved_demo_runs["credit"]
    strict = score_with_run(run, credit_rows, settings={"threshold": 0.0}, reason_rows=0)
    lax = score_with_run(run, credit_rows, settings={"threshold": 1.0}, reason_rows=0)
    assert (strict.scored["decision"] == "decline").all()
    assert (lax.scored["decision"] == "approve").sum() >= len(credit_rows) - 1
    with pytest.raises(DataValidationError, match="decline threshold must be between 0 and 1"):
        score_with_run(run, credit_rows, settings={"threshold": 1.5})


def test_credit_missing_and_wrong_columns_are_reported_not_scored(saved_demo_runs, credit_rows):
    bad = credit_rows.drop(columns=["annual_income"]).assign(loan_amount="lots")
    with pytest.raises(ColumnMismatchError) as info:
        score_with_run(saved_demo_runs["credit"], bad)
    report = info.value.report
    assert report.missing == ("annual_income",)
    assert [c for c, _, _ in report.wrong_type] == ["loan_amount"]
    assert "Fix:" in str(info.value)


def test_credit_long_files_are_cut_with_a_notice_and_drift_is_flagged(saved_demo_runs, credit_rows):
    shifted = credit_rows.assign(annual_income=credit_rows["annual_income"] * 3)
    r = score_with_run(saved_demo_runs["credit"], shifted, max_rows=200, reason_rows=0)
    assert len(r.scored) == 200
    assert any("first 200 are scored" in n for n in r.notices)
    assert r.drift.iloc[0]["variable"] == "annual_income" and r.drift.iloc[0]["status"] == "shifted"


# ---------------------------------------------------------------- fraud
@pytest.fixture(scope="module")
def fraud_tail():
    return read_table(SAMPLES["fraud"], max_rows=None).df.tail(1500).reset_index(drop=True)


def test_fraud_bands_follow_the_thresholds_and_alerts_have_reasons(saved_demo_runs, fraud_tail):
    r = score_with_run(saved_demo_runs["fraud"], fraud_tail,
                       settings={"review_threshold": 0.2, "block_threshold": 0.6}, reason_rows=10)
    s = r.scored
    assert len(s) == len(fraud_tail)
    assert list(s["decision"]) == list(fraud_decisions(s["risk"], 0.2, 0.6))
    assert s["risk"].is_monotonic_decreasing
    alerts = s[s["decision"] != "approve"]
    assert len(alerts) > 0
    assert (alerts["top_reasons"].head(10) != "").all()
    bands = r.decisions.set_index("decision")
    assert bands["transactions"].sum() == len(s)
    assert bands.loc["block", "amount_at_stake"] == pytest.approx(s.loc[s["decision"] == "block", "amount"].sum())
    assert "known_fraud" in bands.columns


def test_fraud_decision_rule_and_bad_thresholds(saved_demo_runs, fraud_tail):
    assert list(fraud_decisions([0.1, 0.5, 0.95], 0.3, 0.9)) == ["approve", "review", "block"]
    with pytest.raises(DataValidationError, match="block threshold .* must be at or above the review"):
        score_with_run(saved_demo_runs["fraud"], fraud_tail, settings={"review_threshold": 0.5,
                                                                       "block_threshold": 0.2})


def test_fraud_run_without_shap_background_still_scores_with_a_notice(saved_demo_runs, fraud_tail, tmp_path):
    old = tmp_path / "fraud-old"
    shutil.copytree(saved_demo_runs["fraud"], old)
    meta = _meta(old)
    meta.pop("background")
    (old / "metadata.json").write_text(json.dumps(meta))
    r = score_with_run(old, fraud_tail.head(300), settings={"review_threshold": 0.0})
    assert (r.scored["top_reasons"] == "").all()
    assert any("without a SHAP background" in n for n in r.notices)


# ---------------------------------------------------------------- demand
def test_demand_reorder_points_and_order_quantities(saved_demo_runs):
    from core.demand.inventory import PolicyParams, policy_from_quantiles

    run = saved_demo_runs["demand"]
    df = pd.read_csv(SAMPLES["demand"])
    keep = df[["store", "product"]].drop_duplicates().iloc[:2]
    df = df.merge(keep, on=["store", "product"])
    df["on_hand"] = 40.0
    s = get_decision_settings(_meta(run))
    r = score_with_run(run, df)
    policy = r.decisions.set_index("series")
    assert len(policy) == 2
    for sid, g in r.scored.groupby("series"):
        q = g.sort_values("step")[["p10", "p50", "p90"]].to_numpy()
        params = PolicyParams(**{k: s[k] for k in ("service_level", "lead_time", "review_period",
                                                   "holding_cost", "stockout_cost")})
        expect = policy_from_quantiles(q, params, s["aggregate_sigma_scale"])
        assert policy.loc[sid, "reorder_point"] == pytest.approx(expect["reorder_point"], abs=0.01)
        assert policy.loc[sid, "order_quantity"] == pytest.approx(max(0.0, expect["reorder_point"] - 40), abs=0.01)
    assert "Units to order" in dict(r.figures)
    assert any("'on_hand' is read as the stock on hand" in n for n in r.notices)
    assert not any("kept in the scored file" in n for n in r.notices)
    no_stock = score_with_run(run, df.drop(columns=["on_hand"]))
    assert "order_quantity" not in no_stock.decisions.columns
    assert any("stock on hand" in n for n in no_stock.notices)
    with pytest.raises(DataValidationError, match="[Ss]ervice level"):
        score_with_run(run, df, settings={"service_level": 1.5})


# ---------------------------------------------------------------- quality
def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_quality_scores_labelled_and_unlabelled_images(saved_demo_runs):
    run = saved_demo_runs["quality"]
    root = SAMPLES["quality"]
    picks = {f"{c}/{p.name}": p.read_bytes() for c in ("ok", "scratch") for p in sorted((root / c).iterdir())[:4]}
    labelled = score_with_run(run, _zip(picks), settings={"threshold": 0.5})
    assert len(labelled.scored) == 8 and "actual" in labelled.scored
    assert "Accuracy on labelled images" in dict(labelled.figures)
    assert ((labelled.scored["p_defect"] >= 0.5) == (labelled.scored["verdict"] == "reject")).all()
    flat = {f"batch/img_{i}.png": data for i, data in enumerate(picks.values())}
    flat["batch/readme.txt"] = b"not an image"
    flat["batch/broken.png"] = b"\x89PNG broken"
    unlabelled = score_with_run(run, _zip(flat), settings={"threshold": 0.0})
    assert len(unlabelled.scored) == 8 and "actual" not in unlabelled.scored
    assert (unlabelled.scored["verdict"] == "reject").all()
    text = " ".join(unlabelled.notices)
    assert "not images and were skipped" in text and "could not be read as images" in text


def test_quality_upload_without_images_is_refused(saved_demo_runs):
    with pytest.raises(DataValidationError, match="no images"):
        score_with_run(saved_demo_runs["quality"], _zip({"a.txt": b"x", "b.csv": b"y"}))


def test_table_scenarios_refuse_other_inputs(saved_demo_runs):
    with pytest.raises(DataValidationError, match="scores a table"):
        score_with_run(saved_demo_runs["credit"], b"zip bytes")
