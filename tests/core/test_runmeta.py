"""Typed, versioned run metadata: the round trip, the one migration of older runs, a newer schema refused.

``data/runmeta_v0/*.json.gz`` are ``metadata.json`` files as the four scenarios saved them before the schema
version existed (tiny trained runs of tests/workspace/conftest.py, saved with a workspace summary; credit
also without one), ``data/runmeta_v1/*.json.gz`` fraud and quality runs as saved at schema 1 (fraud by its
service, quality as its page saves: with the summary and its costs), so the migration is tested on what
users have on disk.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from core.store import registry
from core.errors import DataValidationError
from core.store.runmeta import (SCHEMA_KEY, SCHEMA_VERSION, Headline, RunMeta, Workspace, decision, has_summary, headline,
                          migrate, section, workspace)

V0 = Path(__file__).parent / "data" / "runmeta_v0"
V1 = Path(__file__).parent / "data" / "runmeta_v1"
NAMES = ("credit", "credit_plain", "fraud", "demand", "quality")


def _v0(name: str) -> dict:
    return json.loads(gzip.decompress((V0 / f"{name}.json.gz").read_bytes()))


def _v1(name: str) -> dict:
    return json.loads(gzip.decompress((V1 / f"{name}.json.gz").read_bytes()))


@pytest.mark.parametrize("name", NAMES)
def test_saved_runs_of_every_scenario_were_schema_0(name):
    meta = _v0(name)
    assert SCHEMA_KEY not in meta and meta["scenario"] == name.split("_")[0]


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_of_every_scenario(name):
    meta = migrate(_v0(name))
    typed = RunMeta.from_dict(meta)
    assert typed.to_dict() == meta
    assert RunMeta.from_dict(_v0(name)) == typed  # an older dict is migrated on the way in
    assert typed.scenario == name.split("_")[0] and typed.schema_version == SCHEMA_VERSION
    assert typed.model_kind == {"credit": "table", "fraud": "table", "demand": "sequence",
                                "quality": "image"}[typed.scenario]


def test_migration_of_a_well_formed_run_only_adds_the_version():
    old = _v0("demand")
    assert migrate(old) == {**old, SCHEMA_KEY: SCHEMA_VERSION}
    assert SCHEMA_KEY not in old  # the caller's dict is left as it was


def test_one_migration_step_per_schema_version():
    from core.store import runmeta

    assert len(runmeta._STEPS) == SCHEMA_VERSION == 2


@pytest.mark.parametrize("old", (_v0("fraud"), _v1("fraud")), ids=("v0", "v1"))
def test_fraud_model_threshold_is_kept_once_in_the_record(old):
    from core.serve.decisions import get_decision_settings

    record = old["workspace"]["decision"]
    assert old["threshold"] == 0.37 != record["review_threshold"]  # the model's own line beside the chosen one
    meta = migrate(old)
    assert "threshold" not in meta and decision(meta) == {**record, "model_threshold": 0.37}
    assert {k: v for k, v in meta.items() if k not in ("workspace", SCHEMA_KEY)} == \
        {k: v for k, v in old.items() if k not in ("threshold", "workspace", SCHEMA_KEY)}
    # The same decision as before the move: the chosen review and block lines, not the model's own.
    assert get_decision_settings(meta) == {"review_threshold": record["review_threshold"],
                                           "block_threshold": record["block_threshold"]}
    assert "threshold" in old  # the caller's dict is left as it was


def test_fraud_run_saved_without_a_review_threshold_reviews_at_the_model_threshold():
    from core.serve.decisions import get_decision_settings

    meta = migrate({"scenario": "fraud", "run_id": "plain", SCHEMA_KEY: 1, "threshold": 0.42})
    assert meta["workspace"] == {"decision": {"model_threshold": 0.42}} and not has_summary(meta)
    assert get_decision_settings(meta) == {"review_threshold": 0.42, "block_threshold": 0.9}


def test_quality_costs_are_kept_once_in_the_record():
    from core.serve.decisions import get_decision_settings

    old = _v1("quality")
    assert old[SCHEMA_KEY] == 1 and "threshold" not in old  # schema 1 kept the threshold once already
    record = old["workspace"]["decision"]
    assert old["costs"] == {"escape": 80.0, "false_reject": 3.0}
    assert (record["cost_escape"], record["cost_false_reject"]) == (80.0, 3.0)  # ... and its costs twice
    meta = migrate(old)
    assert "costs" not in meta and decision(meta) == record
    assert get_decision_settings(meta) == get_decision_settings({**old, SCHEMA_KEY: 2}) == {"threshold": 0.4}
    assert {k: v for k, v in meta.items() if k not in ("workspace", SCHEMA_KEY)} == \
        {k: v for k, v in old.items() if k not in ("costs", "workspace", SCHEMA_KEY)}


def test_quality_costs_of_an_older_run_move_into_its_record():
    base = {"scenario": "quality", "ok_class": "ok", "class_names": ["ok", "pit"], SCHEMA_KEY: 1}
    # Saved without the summary (the page's model download): the costs become the record's.
    plain = migrate({**base, "workspace": {"decision": {"threshold": 0.3}},
                     "costs": {"escape": 40.0, "false_reject": None}})
    assert plain["workspace"] == {"decision": {"threshold": 0.3, "cost_escape": 40.0}} and "costs" not in plain
    # Both saved and different: the top-level costs win, as the moved threshold does.
    both = migrate({**base, "workspace": {"decision": {"threshold": 0.3, "cost_escape": 50.0, "cost_false_reject": 2.0}},
                    "costs": {"escape": 60.0, "false_reject": 1.0, "other": 5.0}})
    assert decision(both) == {"threshold": 0.3, "cost_escape": 60.0, "cost_false_reject": 1.0}
    # None set, or not numbers: nothing is moved and nothing is made up.
    for costs in ({}, None, "cheap", {"escape": "high"}):
        empty = migrate({**base, "costs": costs})
        assert "costs" not in empty and "workspace" not in empty
    # Defect typing rejects nothing: its costs are not turned into a decision.
    typing = migrate({**base, "ok_class": None, "costs": {"escape": 40.0},
                      "workspace": {"decision": {"task": "defect_typing"}}})
    assert "costs" not in typing and decision(typing) == {"task": "defect_typing"}


def test_quality_reject_threshold_is_kept_once():
    old = _v0("quality")
    assert old["threshold"] == old["workspace"]["decision"]["threshold"] == 0.5  # saved twice before
    meta = migrate(old)
    assert "threshold" not in meta and decision(meta) == old["workspace"]["decision"]
    assert old["costs"] == {} and "costs" not in meta  # no costs were set: nothing to move
    rest = {k: v for k, v in old.items() if k not in ("threshold", "costs", "workspace")}
    assert {k: v for k, v in meta.items() if k not in ("workspace", SCHEMA_KEY)} == rest
    assert "threshold" in old  # the caller's dict is left as it was


def test_quality_run_saved_without_summary_reads_its_threshold_from_the_record():
    from core.serve.decisions import get_decision_settings

    old = {"scenario": "quality", "ok_class": "ok", "class_names": ["ok", "pit"], "threshold": 0.35, "costs": {}}
    meta = migrate(old)
    assert meta["workspace"] == {"decision": {"threshold": 0.35}} and "threshold" not in meta
    assert not has_summary(meta) and get_decision_settings(meta)["threshold"] == 0.35
    # Both copies saved and different: the top-level value is what the run scored with.
    both = migrate({**old, "workspace": {"name": "q", "decision": {"threshold": 0.5, "cost_escape": 50.0}}})
    assert decision(both) == {"threshold": 0.35, "cost_escape": 50.0}
    # Defect typing rejects nothing: its unread top-level threshold is not turned into a decision.
    typing = migrate({**old, "ok_class": None, "workspace": {"name": "t", "decision": {"task": "defect_typing"}}})
    assert "threshold" not in typing and decision(typing) == {"task": "defect_typing"}


def test_credit_decision_record_is_kept_once():
    old = _v0("credit")
    assert old["credit"]["threshold"] == old["workspace"]["decision"]["threshold"] == 0.3  # saved twice before
    network_own = old["threshold"]  # the network's own line, a different value at the top
    assert network_own != 0.3
    meta = migrate(old)
    assert "threshold" not in meta["credit"] and "scorecard" not in meta["credit"] and "threshold" not in meta
    assert decision(meta) == {**old["workspace"]["decision"], "scorecard": old["credit"]["scorecard"],
                              "model_threshold": network_own}
    from core.serve.decisions import get_decision_settings

    assert get_decision_settings(meta)["threshold"] == 0.3  # the decline line scored with is unchanged
    others = {k: v for k, v in meta["workspace"].items() if k != "decision"}
    assert others == {k: v for k, v in old["workspace"].items() if k != "decision"}
    assert has_summary(meta) and RunMeta.from_dict(meta).has_summary


def test_credit_run_saved_without_summary_gets_its_decision_record():
    old = _v0("credit_plain")
    assert "workspace" not in old
    meta = migrate(old)
    assert meta["workspace"] == {"decision": {"threshold": 0.25, "scorecard": old["credit"]["scorecard"],
                                              "model_threshold": old["threshold"]}}
    assert "threshold" not in meta
    assert not has_summary(meta) and not RunMeta.from_dict(meta).has_summary
    from core.credit.persist import LoadedCreditModel
    from core.credit.scorecard import ScorecardConfig

    loaded = LoadedCreditModel(model=None, preprocessor=None, metadata=meta)
    assert loaded.threshold == 0.25 and loaded.scorecard == ScorecardConfig()
    from core.serve.decisions import get_decision_settings

    assert get_decision_settings(meta)["threshold"] == 0.25


def test_minimal_hand_written_v0_run():
    meta = migrate({"format_version": 1, "scenario": "fraud", "run_id": "old"})
    assert meta == {"format_version": 1, "scenario": "fraud", "run_id": "old", SCHEMA_KEY: SCHEMA_VERSION}
    typed = RunMeta.from_dict(meta)
    assert typed.workspace is None and typed.files is None and typed.title == "old" and typed.decision == {}
    assert workspace(meta) == {} and headline(meta) == {} and decision(meta) == {} and not has_summary(meta)
    assert typed.to_dict() == meta


def test_sections_of_another_shape_are_left_out():
    old = {"format_version": 1, "scenario": "demand", "run_id": "x", "workspace": {
        "name": "kept", "decision": ["not", "a", "record"], "profile": None, "input": "columns",
        "headline": {"quality": [{"label": "MAE", "value": 1.0}, "junk", 3], "impact": "none",
                     "assumptions": ["A", {"b": 1}], "verdict": "better", "trust": []},
        "custom": {"kept": True}}}
    meta = migrate(old)
    ws = meta["workspace"]
    assert set(ws) == {"name", "headline", "custom"} and decision(meta) == {} and section(meta, "input") == {}
    assert ws["headline"] == {"quality": [{"label": "MAE", "value": 1.0}], "impact": [], "assumptions": ["A"],
                              "trust": []}
    assert migrate({**old, "workspace": "damaged"}) == {**{k: v for k, v in old.items() if k != "workspace"},
                                                         SCHEMA_KEY: SCHEMA_VERSION}
    typed = RunMeta.from_dict(meta)
    assert typed.workspace.extra == {"custom": {"kept": True}} and typed.to_dict() == meta
    assert isinstance(typed.workspace.headline, Headline) and typed.workspace.headline.trust == ()


def test_typed_parts_build_and_read():
    head = Headline(quality=({"label": "ROC-AUC", "value": 0.8, "fmt": ".3f"},),
                    verdict={"metric": "ROC-AUC", "outcome": "on par"})
    ws = Workspace(name="run a", decision={"threshold": 0.3}, headline=head, limitations=("small",))
    meta = RunMeta(scenario="credit", run_id="r", saved_at=1.0, workspace=ws, scenario_data={"credit": {"x": 1}})
    d = meta.to_dict()
    assert d["workspace"]["headline"]["quality"][0]["value"] == 0.8 and d["workspace"]["limitations"] == ["small"]
    assert head.outcome == "on par" and meta.title == "run a" and meta.decision == {"threshold": 0.3}
    assert RunMeta.from_dict(d) == meta and d[SCHEMA_KEY] == SCHEMA_VERSION and d["credit"] == {"x": 1}


def test_newer_schema_is_refused_with_expected_got_fix():
    with pytest.raises(DataValidationError, match=r"Run 'r9' was saved by a newer version of the studio \(run "
                                                  r"metadata schema 3\); this version reads schema 2 and older\. Fix:"):
        migrate({"scenario": "credit", SCHEMA_KEY: SCHEMA_VERSION + 1}, name="r9")
    with pytest.raises(DataValidationError, match=r"expected a whole schema_version from 0 to 2 .* got 'one'"):
        migrate({"scenario": "credit", SCHEMA_KEY: "one"})
    with pytest.raises(DataValidationError, match="expected a JSON object in its metadata.json; got list"):
        migrate([1, 2])


def _write(folder: Path, meta: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / registry.META_FILE).write_text(json.dumps(meta))
    return folder


def test_registry_writes_the_version_and_migrates_on_reading(tmp_path):
    path = registry.save_run(tmp_path, model=None, metadata={"scenario": "quality", SCHEMA_KEY: 0}, run_id="new")
    assert json.loads((path / registry.META_FILE).read_text())[SCHEMA_KEY] == SCHEMA_VERSION
    old = copy.deepcopy(_v0("credit_plain"))
    old.pop("files")  # listed files are not in this folder; an older run without a file list needs only its model
    folder = _write(tmp_path / "old-credit", old)
    assert registry.read_metadata(folder) == migrate(old)
    assert registry.Run(path=folder, metadata=registry.read_metadata(folder)).info.decision["threshold"] == 0.25


def test_a_run_of_a_newer_schema_is_listed_as_unreadable(tmp_path):
    registry.save_run(tmp_path, model=None, metadata={"scenario": "quality"}, run_id="ok")
    _write(tmp_path / "future", {"format_version": registry.FORMAT_VERSION, "scenario": "quality",
                                 SCHEMA_KEY: SCHEMA_VERSION + 1})
    with pytest.raises(DataValidationError, match="Run 'future' was saved by a newer version"):
        registry.load_run(tmp_path / "future", load_model=False)
    runs, skipped = registry.list_runs(tmp_path)
    assert [r["run_id"] for r in runs] == ["ok"]
    assert len(skipped) == 1 and "Run 'future' was saved by a newer version of the studio" in skipped[0]
