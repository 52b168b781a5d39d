"""A run saved by today's code keeps each decision value once, in ``workspace.decision``, and is read back by
the same code with the same decision: fraud's model threshold beside its review and block lines, quality's
reject threshold and costs."""

from __future__ import annotations

import json

import pytest

from core.serve.decisions import get_decision_settings
from core.store.registry import META_FILE, read_metadata
from core.store.runmeta import SCHEMA_KEY, SCHEMA_VERSION, RunMeta, decision, migrate


def _on_disk(path) -> dict:
    return json.loads((path / META_FILE).read_text())


def test_fraud_run_saves_its_decision_once_and_reads_it_back(fraud_run, tmp_path):
    from core.fraud import service
    from core.fraud.persist import load_fraud_model

    decided = service.decide(fraud_run, review_fee=7.5, digits=3, block=service.default_block)
    path = service.save(service.FraudOutcome(fraud_run, decided), tmp_path / "fraud-a", name="fraud a")
    saved = _on_disk(path)
    assert saved[SCHEMA_KEY] == SCHEMA_VERSION and "threshold" not in saved
    record = saved["workspace"]["decision"]
    model_threshold = float(fraud_run.tabular.recommended_threshold)
    assert record["model_threshold"] == pytest.approx(model_threshold)
    assert (record["review_threshold"], record["block_threshold"], record["review_fee"]) == \
        (decided.review, decided.block, 7.5)
    meta = read_metadata(path)
    assert meta == saved == migrate(saved)  # today's shape: reading changes nothing
    assert RunMeta.from_dict(meta).to_dict() == meta and RunMeta.from_dict(meta).decision == record
    assert get_decision_settings(meta) == {"review_threshold": decided.review, "block_threshold": decided.block}
    assert service.decision_thresholds(meta) == (decided.review, decided.block)
    assert load_fraud_model(path).threshold == pytest.approx(model_threshold)


def test_fraud_run_saved_without_summary_keeps_the_model_threshold_in_its_record(fraud_run, tmp_path):
    from core.fraud.persist import save_fraud_run

    meta = read_metadata(save_fraud_run(fraud_run, tmp_path, run_id="plain"))
    assert "threshold" not in meta and meta["workspace"] == {
        "decision": {"model_threshold": pytest.approx(fraud_run.tabular.recommended_threshold)}}
    review = decision(meta)["model_threshold"]
    assert get_decision_settings(meta) == {"review_threshold": review, "block_threshold": max(0.9, review)}


def test_quality_run_saves_its_threshold_and_costs_once_and_reads_them_back(quality_run, quality_data, tmp_path):
    from core.quality.export import load_quality_model, save_quality_run
    from core.quality.summary import build_quality_summary

    ws = build_quality_summary(quality_run, name="quality a", threshold=0.4, cost_escape=80.0, cost_false_reject=3.0,
                               data=quality_data)
    path = save_quality_run(tmp_path, quality_run, threshold=0.35, costs={"escape": 70.0, "false_reject": 4.0},
                            extra_metadata=ws, run_id="quality-a")
    saved = _on_disk(path)
    assert saved[SCHEMA_KEY] == SCHEMA_VERSION and "threshold" not in saved and "costs" not in saved
    # What the save was asked to decide at wins over the summary's copy, as the threshold always has.
    assert saved["workspace"]["decision"] == {**ws["decision"], "threshold": 0.35, "cost_escape": 70.0,
                                              "cost_false_reject": 4.0}
    meta = read_metadata(path)
    assert meta == saved == migrate(saved) and RunMeta.from_dict(meta).to_dict() == meta
    assert get_decision_settings(meta) == {"threshold": 0.35} and load_quality_model(path).threshold == 0.35
    # The model download (no summary, costs not set on the page yet) records only what was set.
    plain = read_metadata(save_quality_run(tmp_path, quality_run, threshold=0.5,
                                           costs={"escape": 60.0, "false_reject": None}, run_id="quality-b"))
    assert "costs" not in plain and plain["workspace"] == {"decision": {"threshold": 0.5, "cost_escape": 60.0}}


def test_credit_run_saves_its_decision_once_and_reads_it_back(saved_demo_runs):
    from core.credit.persist import load_credit_model

    path = saved_demo_runs["credit"]
    saved = _on_disk(path)
    assert saved[SCHEMA_KEY] == SCHEMA_VERSION and "threshold" not in saved
    assert "threshold" not in saved["credit"] and "scorecard" not in saved["credit"]
    record = saved["workspace"]["decision"]
    assert {"threshold", "scorecard", "model_threshold"} <= set(record)
    assert 0 < record["model_threshold"] < 1
    meta = read_metadata(path)
    assert meta == saved == migrate(saved) and RunMeta.from_dict(meta).decision == record
    assert get_decision_settings(meta) == {"threshold": record["threshold"]}
    assert load_credit_model(path).threshold == record["threshold"]
