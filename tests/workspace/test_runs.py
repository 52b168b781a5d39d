"""Listing, filtering, comparing, overlaying and deleting saved runs (hand-made JSON runs, no training)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from core.errors import DataValidationError
from core.store.registry import list_runs
from core.workspace.runs import (NOT_RECORDED, TRASH_PREFIX, compute_comparison, delete_run,
                                 filter_runs, get_curve_names, get_metrics, get_metrics_table, get_run_row,
                                 list_run_folders, list_workspace_runs, plot_run_curves, resolve_run_folder)
from tests.workspace.run_factory import make_run, populate, workspace_meta


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "runs"
    populate(r)
    return r


def _ids(runs):
    return [get_run_row(m)["run_id"] for m in runs]


def test_list_skips_damaged_and_keeps_the_rest(root):
    runs, skipped = list_workspace_runs(root)
    assert _ids(runs) == ["fraud-x", "credit-b", "credit-a", "credit-old"]  # newest first
    assert len(skipped) == 1 and "credit-damaged" in skipped[0] and "damaged" in skipped[0]


def test_list_reports_a_file_instead_of_a_folder(tmp_path):
    f = tmp_path / "runs.txt"
    f.write_text("x")
    runs, skipped = list_workspace_runs(f)
    assert runs == [] and "is a file, not a folder" in skipped[0]


def test_row_of_an_old_run_says_not_recorded(root):
    runs, _ = list_workspace_runs(root)
    old = get_run_row(next(m for m in runs if m["run_id"] == "credit-old"))
    assert old["name"] == "credit-old"
    assert old["quality"] == old["impact"] == old["data"] == NOT_RECORDED
    new = get_run_row(next(m for m in runs if m["run_id"] == "credit-b"))
    assert new["quality"] == "ROC-AUC 0.780" and new["impact"] == "Loss avoided €5,678"


def test_filters_by_scenario_text_and_dates(root):
    runs, _ = list_workspace_runs(root)
    assert _ids(filter_runs(runs, scenario="fraud")) == ["fraud-x"]
    assert _ids(filter_runs(runs, text="SMOTE")) == ["credit-b"]
    assert _ids(filter_runs(runs, text="credit-o")) == ["credit-old"]  # the id matches too
    today = dt.date.today()
    recent = filter_runs(runs, date_from=today - dt.timedelta(days=2))
    assert set(_ids(recent)) == {"fraud-x", "credit-b"}
    older = filter_runs(runs, scenario="credit", date_to=today - dt.timedelta(days=2))
    assert set(_ids(older)) == {"credit-a", "credit-old"}


def test_reversed_date_range_is_an_error(root):
    runs, _ = list_workspace_runs(root)
    with pytest.raises(DataValidationError, match="must start on or before its end.*swap the two dates"):
        filter_runs(runs, date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))


def test_metrics_of_every_layout():
    assert get_metrics({"metrics": {"network": {"roc_auc": 0.8, "n": "x"}, "lr": {"roc_auc": 0.7}}}) == {
        "roc_auc": 0.8}
    assert get_metrics({"metrics": [{"method": "Network", "wape": 12.0}, {"method": "Naive", "wape": 20.0}]}) == {
        "wape": 12.0}
    assert get_metrics({"metrics": {"accuracy": 0.9, "per_class": {"a": {}}, "roc_auc": float("nan")}}) == {
        "accuracy": 0.9}
    table = get_metrics_table({"metrics": [{"method": "Network", "wape": 12.0}, {"method": "Naive", "wape": 20.0}]})
    assert list(table.index) == ["Network", "Naive"] and table.loc["Naive", "wape"] == 20.0
    assert get_metrics_table({}) is None


def test_comparison_side_by_side_flags_differing_params(root):
    runs, _ = list_workspace_runs(root)
    chosen = [m for m in runs if m["run_id"] in ("credit-a", "credit-b")]
    table = compute_comparison(chosen)
    run_cols = [c for c in table.columns if c not in ("section", "item", "differs")]
    assert len(run_cols) == 2 and run_cols[0].startswith("credit smote")
    row = table.set_index(["section", "item"])
    assert list(row.loc[("Headline", "ROC-AUC"), run_cols]) == ["0.780", "0.710"]
    assert list(row.loc[("Headline", "Loss avoided"), run_cols]) == ["€5,678", "€1,234"]
    assert row.loc[("Parameters", "imbalance"), "differs"]
    assert list(row.loc[("Parameters", "imbalance"), run_cols]) == ["smote", "class_weight"]
    assert not row.loc[("Parameters", "epochs"), "differs"]
    assert not row.loc[("Decision", "threshold"), "differs"]


def test_comparison_with_an_old_run_says_not_recorded(root):
    runs, _ = list_workspace_runs(root)
    chosen = [m for m in runs if m["run_id"] in ("credit-a", "credit-old")]
    row = compute_comparison(chosen).set_index(["section", "item"])
    cols = [c for c in row.columns if c != "differs"]
    assert row.loc[("Headline", "ROC-AUC"), cols[1]] == NOT_RECORDED
    assert row.loc[("Metrics", "roc_auc"), cols[1]] == "0.7"  # the old run's own metrics still compare


def test_comparison_leads_with_the_trust_warnings_of_each_run(root):
    runs, _ = list_workspace_runs(root)
    chosen = [m for m in runs if m["run_id"] in ("credit-a", "credit-b", "credit-old")]
    table = compute_comparison(chosen)
    first = table.iloc[0]
    assert (first["section"], first["item"]) == ("Headline", "Trust warnings") and first["differs"]
    assert [first[c] for c in table.columns[2:-1]] == ["none", "No better than chance", NOT_RECORDED]


def test_comparison_needs_two_runs_of_one_scenario(root):
    runs, _ = list_workspace_runs(root)
    with pytest.raises(DataValidationError, match="needs two or more runs; got 1"):
        compute_comparison(runs[:1])
    with pytest.raises(DataValidationError, match="must be of one scenario; got credit, fraud"):
        compute_comparison([m for m in runs if m["run_id"] in ("credit-a", "fraud-x")])


def test_overlaid_curves_one_line_per_run(root):
    runs, _ = list_workspace_runs(root)
    chosen = [m for m in runs if m["run_id"] in ("credit-a", "credit-b", "credit-old")]
    assert get_curve_names(chosen) == ["roc"]
    fig = plot_run_curves(chosen, "roc")
    lines = [t for t in fig.data if t.name != "chance"]
    assert len(lines) == 2
    assert sorted(t.y[1] for t in lines) == [0.71, 0.78]
    assert "not recorded for 1 run" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "False positive rate"


def test_same_names_get_distinct_labels(tmp_path):
    ws = workspace_meta(name="same", auc=0.7)
    make_run(tmp_path, "credit-1", saved_at=1_700_000_000, workspace=ws)
    make_run(tmp_path, "credit-2", saved_at=1_700_000_000, workspace=ws)
    runs, _ = list_runs(tmp_path)
    cols = [c for c in compute_comparison(runs).columns if c not in ("section", "item", "differs")]
    assert len(set(cols)) == 2


def test_delete_is_atomic_and_only_inside_root(root):
    delete_run(root, "credit-a")
    runs, _ = list_workspace_runs(root)
    assert "credit-a" not in _ids(runs) and "credit-b" in _ids(runs)
    assert not (root / "credit-a").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(TRASH_PREFIX)]
    delete_run(root, str(root / "credit-b"))  # the full path of a child is accepted
    assert not (root / "credit-b").exists()


def test_delete_refuses_escapes(root, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "metadata.json").write_text("{}")
    with pytest.raises(DataValidationError, match="Expected the id of a run"):
        delete_run(root, "../precious")
    with pytest.raises(DataValidationError, match="Only runs inside the runs folder"):
        delete_run(root, str(outside))
    with pytest.raises(DataValidationError, match="Expected the id of a run"):
        delete_run(root, ".hidden")
    os.symlink(outside, root / "linked")
    with pytest.raises(DataValidationError, match="is a link to another place"):
        delete_run(root, "linked")
    assert (outside / "metadata.json").exists()
    with pytest.raises(DataValidationError, match="there is none .already deleted"):
        delete_run(root, "credit-zzz")
    (root / "notes").mkdir()
    with pytest.raises(DataValidationError, match="holds no saved run"):
        delete_run(root, "notes")
    assert (root / "notes").is_dir()


def test_crash_mid_delete_leaves_nothing_that_lists(root, monkeypatch):
    import shutil

    def crash(*a, **k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(shutil, "rmtree", crash)
    with pytest.raises(KeyboardInterrupt):
        delete_run(root, "credit-a")
    monkeypatch.undo()
    runs, skipped = list_workspace_runs(root)
    assert "credit-a" not in _ids(runs) and not any("credit-a" in s for s in skipped)
    assert [p.name.startswith(TRASH_PREFIX + "credit-a") for p in root.iterdir()].count(True) == 1
    delete_run(root, "credit-b")  # the next delete clears the leftover
    assert not [p for p in root.iterdir() if p.name.startswith(TRASH_PREFIX)]


def test_run_folders_a_visitor_may_pick(tmp_path):
    root = tmp_path / "runs"
    populate(root)
    for name in ("team-b", "Team-a", ".session-abc", ".trash-x"):
        (root / name).mkdir()
    make_run(root / "team-b", "credit-in-b", workspace=workspace_meta(name="in b", auc=0.7))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, root / "linked")
    (root / "notes.txt").write_text("x")
    # Sub-folders only: never a run, a hidden folder (a visitor's private folder, a deletion), a link or a file.
    assert list_run_folders(root) == ["Team-a", "team-b"]
    assert list_run_folders(root / "missing") == []
    # Anything but an offered name falls back to the runs folder itself.
    assert resolve_run_folder(root, "team-b") == root / "team-b"
    for name in (None, "", "linked", ".session-abc", "credit-a", "../elsewhere", str(outside), "team-b/../.."):
        assert resolve_run_folder(root, name) == root, name
    # A folder of runs is not a damaged run in its parent's listing; its runs list there.
    runs, skipped = list_workspace_runs(root)
    assert not any("team-b" in s or "Team-a" in s for s in skipped), skipped
    assert _ids(list_workspace_runs(root / "team-b")[0]) == ["credit-in-b"]


def test_unreadable_runs_folder_message_keeps_the_server_path_out(tmp_path):
    f = tmp_path / "secret-server-path"
    f.write_text("x")
    runs, skipped = list_workspace_runs(f)
    assert runs == [] and "is a file, not a folder" in skipped[0] and "STUDIO_RUNS_DIR" in skipped[0]
    assert str(tmp_path) not in skipped[0]


def test_metrics_are_those_at_the_runs_one_decision_threshold(tmp_path):
    # A run whose summary saved every model's metrics at its decision threshold reports those...
    ws = workspace_meta(name="decided", auc=0.8)
    ws["metrics"] = {"network": {"roc_auc": 0.8, "recall": 0.61, "threshold": 0.3},
                     "logistic_regression": {"roc_auc": 0.78, "recall": 0.55, "threshold": 0.3}}
    decided = make_run(tmp_path, "credit-decided", workspace=ws,
                       extra={"metrics": {"network": {"roc_auc": 0.8, "recall": 0.9, "threshold": 0.12}}})
    # ... and an older run's metrics measured at another threshold (best F1) lose the figures that depend on it.
    older = make_run(tmp_path, "credit-older", workspace=workspace_meta(name="older", auc=0.7),
                     extra={"metrics": {"network": {"roc_auc": 0.7, "recall": 0.9, "precision": 0.2,
                                                    "threshold": 0.12}}})
    runs = {m["run_id"]: m for m in list_workspace_runs(tmp_path)[0]}
    assert get_metrics(runs["credit-decided"]) == {"roc_auc": 0.8, "recall": 0.61, "threshold": 0.3}
    assert list(get_metrics_table(runs["credit-decided"]).index) == ["network", "logistic_regression"]
    assert get_metrics(runs["credit-older"]) == {"roc_auc": 0.7}
    table = compute_comparison([runs["credit-decided"], runs["credit-older"]])
    metrics = table[table["section"] == "Metrics"]
    assert "threshold" not in set(metrics["item"])  # the decision's, shown once under Decision
    assert list(metrics.loc[metrics["item"] == "recall"].iloc[0, 2:4]) == ["0.61", NOT_RECORDED]
    assert decided.is_dir() and older.is_dir()
