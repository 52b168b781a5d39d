"""A quality run whose save fails, or whose result tab fails to draw, keeps the trained model on the page
and says what happened in a message, never a traceback; a Save click is never lost to an error drawn
above the Export tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.registry import list_runs
from tests.conftest import errors_besides_trust
from tests.quality.conftest import make_zip, sample_entries

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "quality.py")


@pytest.fixture(scope="module")
def trained(module_runs_dir):
    """The page trained for one epoch on a small upload (three classes, one of them 'ok')."""
    entries = sample_entries({"ok": 24, "scratch": 8, "pit": 8}, size=32, seed=2, prefix="parts/")
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.radio(key="quality.source").set_value("Upload a zip").run()
    at.file_uploader(key="quality.upload").set_value(("parts.zip", make_zip(entries), "application/zip")).run()
    at.selectbox(key="quality.image_size").set_value(64).run()
    at.number_input(key="quality.epochs").set_value(1)
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert at.session_state["quality.run"] is not None
    return at


def test_a_failed_save_is_a_message_and_the_model_stays(trained, module_runs_dir, monkeypatch):
    at = trained
    run = at.session_state["quality.run"]

    def broken_save(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr("core.quality.export.save_quality_run", broken_save)
    at.button(key="quality.ws_save").click().run()
    assert not at.exception
    failed = [e.value for e in at.error if e.value.startswith("**The run was not saved.**")]
    assert len(failed) == 1, errors_besides_trust(at)
    assert "RuntimeError: the disk went away" in failed[0]
    assert "press **Save to workspace** again (nothing needs retraining)" in failed[0]
    assert not any("Saved as run" in s.value for s in at.success)
    assert list_runs(module_runs_dir)[0] == []
    # Nothing is lost: the same trained model, its results and the downloads are still there.
    assert at.session_state["quality.run"] is run
    assert any(b.label == "Download test predictions (CSV)" for b in at.get("download_button"))
    assert any(m.label == "Accuracy" for m in at.metric)

    monkeypatch.undo()  # the disk is back: the same click saves the same model
    at.button(key="quality.ws_save").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert any(s.value.startswith("Saved as run") for s in at.success)
    assert len(list_runs(module_runs_dir)[0]) == 1


def test_a_validation_error_keeps_its_own_words(trained, monkeypatch):
    from core.errors import DataValidationError

    def refused(*args, **kwargs):
        raise DataValidationError("Expected room for the run; got a full disk. Fix: free some space.")

    monkeypatch.setattr("core.quality.export.save_quality_run", refused)
    trained.button(key="quality.ws_save").click().run()
    assert not trained.exception
    assert any(e.value.startswith("**The run was not saved.** Expected room for the run; got a full disk. Fix: "
                                  "free some space.") for e in trained.error)


def test_a_tab_that_fails_to_draw_does_not_lose_the_save_click(trained, module_runs_dir, monkeypatch):
    """An error in the Performance tab (drawn before the Export tab on every rerun) used to end the
    rerun with a traceback, so the Save click of that rerun did nothing."""
    at = trained
    before = len(list_runs(module_runs_dir)[0])

    def broken_metrics(*args, **kwargs):
        raise TypeError("'<' not supported between instances of 'str' and 'int'")

    monkeypatch.setattr("ui.quality.results.compute_defect_metrics", broken_metrics)
    at.button(key="quality.ws_save").click().run()
    assert not at.exception
    # Both tabs that compute the defect figures say so, each in its place; the Export tab runs on.
    drawn = [e.value for e in at.error if "could not be drawn" in e.value]
    assert [d.split(" could not")[0] for d in drawn] == ["**The Performance tab", "**The Decision & costs tab"]
    assert all("(TypeError: '<' not supported" in d and "the Export tab's downloads and Save to workspace" in d
               for d in drawn)
    assert any(s.value.startswith("Saved as run") for s in at.success)
    assert len(list_runs(module_runs_dir)[0]) == before + 1
    monkeypatch.undo()
    at.run()
    assert not at.exception and not [e for e in at.error if "could not be drawn" in e.value]
    assert any(m.label == "Defect recall" for m in at.metric)


def test_the_guard_lets_streamlit_stop_the_script():
    """``st.stop()`` inside a guarded view stops the script as it should (it is no error to show)."""
    def script():
        import streamlit as st

        from ui.common import guarded_view

        with guarded_view("The view"):
            st.write("before")
            st.stop()
        st.write("after")

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown] == ["before"]
