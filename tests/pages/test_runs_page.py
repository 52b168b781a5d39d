"""AppTest tests of the Runs page over a temporary runs folder of hand-made runs."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.workspace.run_factory import make_run, populate, workspace_meta

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "runs.py")


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    populate(root)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    return root


def _open() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception, at.exception
    return at


def _listed(at) -> list[str]:
    return list(at.dataframe[0].value["run_id"])


def _text(at) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.warning, *at.error, *at.success, *at.info])


def test_lists_runs_and_reports_the_damaged_one(runs_dir):
    at = _open()
    assert _listed(at) == ["fraud-x", "credit-b", "credit-a", "credit-old"]
    assert at.subheader[0].value == "4 of 4 runs"
    assert "1 run folder(s) could not be read" in at.warning[0].value
    assert "credit-damaged" in _text(at) and "damaged" in _text(at)
    table = at.dataframe[0].value.set_index("run_id")
    assert table.loc["credit-b", "quality"] == "ROC-AUC 0.780"
    assert table.loc["credit-old", "impact"] == "not recorded"
    assert table.loc["credit-b", "rows"] == "321" and table.loc["credit-old", "rows"] == "—"  # a dash, never None
    # The folder is named for a visitor, never by its server path; no box takes a path.
    assert "Runs folder: the main runs folder." in _text(at)
    assert str(runs_dir) not in _all_text(at)
    assert [t.label for t in at.text_input] == ["Name contains"]
    # Carried for the details and the selection; the grid shows run, scenario, saved, quality and money.
    assert list(table.columns) == ["run", "name", "scenario", "saved", "quality", "impact", "trust", "rows"]
    assert table.loc["credit-a", "run"] == "⚠ credit weights" and table.loc["credit-b", "run"] == "credit smote"
    assert table.loc["credit-b", "scenario"] == "Credit"
    # The details name the run and give its id for the command line.
    assert "run id for the command line: `fraud-x`" in _text(at)
    # Figures that must not be trusted carry a marker; a run checked without a finding says so; one saved
    # before the checks existed says it was not recorded.
    assert table.loc["credit-a", "trust"] == "⚠ No better than chance"
    assert table.loc["credit-b", "trust"] == "none" and table.loc["credit-old", "trust"] == "not recorded"
    # ... and the data fingerprint is shown in full, wrapped, never cut to a fixed width.
    sha = [c.value for c in at.code]
    assert sha and all(len(v) == 64 for v in sha if v != "not recorded")


def test_a_run_saved_by_a_newer_version_is_listed_as_unreadable(runs_dir):
    from core.store.registry import FORMAT_VERSION, META_FILE
    from core.store.runmeta import SCHEMA_KEY, SCHEMA_VERSION

    (runs_dir / "credit-future").mkdir()
    (runs_dir / "credit-future" / META_FILE).write_text(json.dumps(
        {"format_version": FORMAT_VERSION, "scenario": "credit", SCHEMA_KEY: SCHEMA_VERSION + 1}))
    at = _open()
    assert _listed(at) == ["fraud-x", "credit-b", "credit-a", "credit-old"]
    assert "2 run folder(s) could not be read" in at.warning[0].value
    assert (f"Run 'credit-future' was saved by a newer version of the studio (run metadata schema "
            f"{SCHEMA_VERSION + 1}); this version reads schema {SCHEMA_VERSION} and older.") in _text(at)


def test_filters(runs_dir):
    at = _open()
    assert at.selectbox(key="runs.detail").value == "fraud-x"
    at.selectbox(key="runs.scenario").set_value("credit").run()
    assert _listed(at) == ["credit-b", "credit-a", "credit-old"]
    assert at.selectbox(key="runs.detail").value == "credit-b"  # the filtered-out run's details give way
    at.text_input(key="runs.text").set_value("weights").run()
    assert _listed(at) == ["credit-a"]
    at.text_input(key="runs.text").set_value("").run()
    at.date_input(key="runs.from").set_value(dt.date.today() - dt.timedelta(days=2)).run()
    assert _listed(at) == ["credit-b"]
    # A reversed range is a message, not a traceback; the list falls back to the other filters.
    at.date_input(key="runs.to").set_value(dt.date.today() - dt.timedelta(days=5)).run()
    assert not at.exception
    assert "must start on or before its end" in at.error[0].value
    assert _listed(at) == ["credit-b", "credit-a", "credit-old"]
    at.text_input(key="runs.text").set_value("no such run").run()
    assert "No run matches these filters" in at.info[0].value


def test_compare_two_runs_of_one_scenario(runs_dir):
    at = _open()
    at.multiselect(key="runs.compare").set_value(["credit-b", "credit-a"]).run()
    assert not at.exception
    table = at.dataframe[1].value
    run_cols = [c for c in table.columns if c not in ("Section", "Item")]
    assert len(run_cols) == 2 and run_cols[0].startswith("credit smote")
    # Plain names for settings and metrics, never the raw keys.
    imb = table[(table["Section"] == "Parameters") & (table["Item"] == "Imbalance handling")]
    assert list(imb.iloc[0][run_cols]) == ["SMOTE", "Class weights"]
    items = set(table["Item"])
    assert not items & {"imbalance", "epochs", "roc_auc", "learning_rate", "sha256"}, items
    assert "Epochs (at most)" in items and "ROC-AUC" in items
    flagged = table[(table["Section"] == "Metrics") & (table["Item"] == "Flagged share")]
    assert list(flagged.iloc[0][run_cols]) == ["25.0%", "25.0%"]  # shares as percentages
    roc = table[(table["Section"] == "Metrics") & (table["Item"] == "ROC-AUC")]
    assert list(roc.iloc[0][run_cols]) == ["0.780", "0.710"]  # scores to three decimals, as on the model card
    # Money settings carry the currency and thousands separators, as on the scenario pages.
    loss = table[(table["Section"] == "Decision") & (table["Item"] == "Loss per default")]
    assert list(loss.iloc[0][run_cols]) == ["€4,321", "€4,321"]
    # The details' settings table reads the same way.
    params = at.dataframe[2].value
    assert list(params.columns) == ["Setting", "Value"] and "Units per layer" in set(params["Setting"])
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len([t for t in chart["data"] if t.get("name") != "chance"]) == 2
    # Only the differing rows: the shared epochs row goes, the imbalance row stays.
    at.toggle(key="runs.only_diff").set_value(True).run()
    items = list(at.dataframe[1].value["Item"])
    assert "Imbalance handling" in items and "Epochs (at most)" not in items


def test_compare_refuses_mixed_scenarios(runs_dir):
    at = _open()
    at.multiselect(key="runs.compare").set_value(["credit-a", "fraud-x"]).run()
    assert not at.exception
    assert "must be of one scenario; got credit, fraud" in at.error[0].value
    assert len(at.dataframe) == 2  # the list and the parameters (the data is text); no comparison table


def test_delete_needs_confirmation(runs_dir):
    at = _open()
    at.multiselect(key="runs.compare").set_value(["credit-b", "credit-a"]).run()
    at.selectbox(key="runs.detail").set_value("credit-a").run()
    at.button(key="runs.ask_delete").click().run()
    assert (runs_dir / "credit-a").is_dir()  # asking is not deleting
    assert "permanently" in at.warning[-1].value
    at.button(key="runs.confirm_no").click().run()
    assert (runs_dir / "credit-a").is_dir() and not any("permanently" in w.value for w in at.warning)
    at.button(key="runs.ask_delete").click().run()
    at.button(key="runs.confirm_yes").click().run()
    assert not at.exception
    assert not (runs_dir / "credit-a").exists()
    assert "credit-a" not in _listed(at) and "credit-b" in _listed(at)
    assert "Deleted run “credit weights" in at.success[0].value
    assert at.multiselect(key="runs.compare").value == ["credit-b"]  # the deleted run left the selection
    assert at.selectbox(key="runs.detail").value == "credit-b"  # details move to the compared run


def _all_text(at) -> str:
    """Every text a visitor can read on the page, widget labels and options included."""
    parts = [_text(at), *(e.value for e in at.code), *(e.value for e in at.subheader)]
    for box in at.selectbox:
        parts += [box.label, *map(str, box.options)]
    return " ".join(parts)


def test_a_visitor_picks_among_sub_folders_only(runs_dir, tmp_path):
    outside = tmp_path / "outside"
    make_run(outside, "credit-outside", workspace=workspace_meta(name="outside run", auc=0.7))
    (runs_dir / "team-a").mkdir()
    make_run(runs_dir / "team-a", "credit-team", workspace=workspace_meta(name="team run", auc=0.7))
    os.symlink(outside, runs_dir / "linked")
    at = _open()
    box = at.selectbox(key="workspace.folder_pick")
    assert list(box.options) == ["The main runs folder", "team-a"]  # the link to elsewhere is not offered
    assert _listed(at)[0] == "fraud-x"
    box.set_value("team-a").run()
    assert not at.exception
    assert _listed(at) == ["credit-team"]
    assert str(runs_dir) not in _all_text(at)
    # The Score page follows the choice (the box's state is forgotten on pages without it; the choice is not).
    assert at.session_state["workspace.folder"] == "team-a"
    # A choice that is not offered (set by hand in the session) shows the runs folder itself, never that path.
    at.session_state["workspace.folder"] = str(outside)
    at.run()
    assert "credit-outside" not in _listed(at) and _listed(at)[0] == "fraud-x"


def test_a_private_folder_shows_no_other_folder(runs_dir, monkeypatch):
    (runs_dir / "team-a").mkdir()
    monkeypatch.setenv("STUDIO_RUNS_PER_SESSION", "1")
    at = _open()
    assert not at.exception
    assert "No saved runs yet" in at.info[0].value
    assert not [b for b in at.selectbox if b.key == "workspace.folder_pick"]  # the shared folder's sub-folders are not offered
    assert "Runs folder: your private folder." in _text(at)
    assert str(runs_dir) not in _all_text(at)


def test_report_download_is_offered(runs_dir):
    at = _open()
    at.selectbox(key="runs.detail").set_value("credit-b").run()
    assert not at.exception
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download report", "Report as PDF"]
    labels = [m.label for m in at.metric]
    assert labels == ["ROC-AUC", "Loss avoided"]
    assert "Loss per approved defaulter €4,321" in _text(at)


def test_score_button_hands_the_run_to_the_score_page(runs_dir):
    at = _open()
    rid = at.selectbox(key="runs.detail").value
    at.button(key="runs.to_score").click().run()
    assert not at.exception, at.exception
    assert at.session_state["score.run"] == rid
    # Outside the router (as here) the page cannot switch; it says where to go instead.
    assert "Open the Score page from the navigation" in _text(at)


def test_details_and_card_name_the_recommended_model(runs_dir):
    from core.workspace.report import build_report_html
    from tests.workspace.run_factory import make_run, workspace_meta

    ws = workspace_meta(name="blended", auc=0.8)
    ws["headline"]["recommended"] = {"model": "ensemble", "label": "Ensemble: Keras network averaged with logistic "
                                     "regression", "metrics": {"roc_auc": 0.8012, "pr_auc": 0.5}}
    ws["headline"]["verdict"] = {"metric": "ROC-AUC", "value": 0.8012, "baseline": "Logistic regression",
                                 "baseline_value": 0.79, "diff": 0.0112, "low": -0.01, "high": 0.03, "level": 0.95}
    path = make_run(runs_dir, "credit-blend", saved_at=2e9, workspace=ws)
    at = _open()
    at.selectbox(key="runs.detail").set_value("credit-blend").run()
    assert not at.exception
    line = ("**Recommended model** (saved, scored and explained): Ensemble: Keras network averaged with logistic "
            "regression (ROC-AUC 0.801, PR-AUC 0.500 on the test rows)")
    assert line in [m.value for m in at.markdown]
    card = build_report_html(path)
    assert ("<b>Recommended model</b> (saved, scored and explained): Ensemble: Keras network averaged with "
            "logistic regression (ROC-AUC 0.801, PR-AUC 0.500 on the test rows)") in card
    assert "The ensemble&#x27;s ROC-AUC is 0.801" in card or "The ensemble's ROC-AUC is 0.801" in card
    # A run saved before recommendations were recorded shows neither line.
    at.selectbox(key="runs.detail").set_value("credit-b").run()
    assert not any("Recommended model" in m.value for m in at.markdown)
    assert "Recommended model" not in build_report_html(runs_dir / "credit-b")
