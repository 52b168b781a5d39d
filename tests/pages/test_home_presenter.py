"""Presenter mode on the Overview: the demo runs, one screen each, or one button that runs them."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.registry import save_run
from core.report.runsummary import demo_run_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _html(at) -> str:
    return " ".join(e.proto.body for e in at.get("html"))


def _present(at) -> AppTest:
    at.run()
    return at.toggle(key="home.present").set_value(True).run()


def test_without_demo_runs_presenter_mode_offers_one_button_and_no_half_empty_screens(runs_dir):
    # A run the analyst saved is not a demo run: presenter mode does not present it.
    save_run(runs_dir, model=None, run_id="credit-mine", metadata={"scenario": "credit", "workspace": {
        "name": "my credit run", "headline": {"impact": [{"label": "Loss avoided", "value": 5.0}]}}})
    at = _present(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    assert not at.exception
    assert [b.label for b in at.button] == ["Run all four demos"]
    captions = " ".join(c.value for c in at.caption)
    assert "Scenario 1 of 4" not in captions and "my credit run" not in _html(at)


def test_a_demo_run_saved_without_its_money_figure_says_which_figure_is_missing(runs_dir):
    save_run(runs_dir, model=None, run_id="credit-demo", metadata={"scenario": "credit", "workspace": {
        "name": demo_run_name("credit"), "headline": {"quality": [{"label": "ROC-AUC", "value": 0.7, "fmt": ".3f"}],
                                                      "impact": [], "assumptions": []}}})
    at = _present(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    assert not at.exception
    html = _html(at)
    assert ("The yearly value of the decline line cannot be stated: this run did not save the loss avoided or the "
            "number of test applicants") in html
    assert "No comparison with a simple rule was saved with this run" in html
    assert not at.get("plotly_chart")
    # The acronym is only in the small line for analysts.
    assert "ROC-AUC" not in html and any(c.value == "For analysts: ROC-AUC 0.700" for c in at.caption)
    # The other three scenarios have no demo run in this folder: their screens say so and offer the demos.
    next(b for b in at.button if b.label == "Next scenario").click().run()
    assert any("No demo run of fraud detection in this runs folder" in w.value for w in at.warning)


def test_the_button_runs_the_demos_into_the_session_runs_folder_and_opens_the_screens(runs_dir, monkeypatch):
    from core.workspace import demos

    (runs_dir / "team-a").mkdir(parents=True)

    def fake(key):
        def run(root, settings, progress):
            progress(0.5, "training")
            return save_run(root, model=None, run_id=f"{key}-demo", metadata={"scenario": key, "workspace": {
                "name": demo_run_name(key), "headline": {"quality": [], "impact": [], "assumptions": []}}})
        return run

    monkeypatch.setattr(demos, "DEMOS", {k: fake(k) for k in demos.DEMOS})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["workspace.folder"] = "team-a"  # the runs folder picked on the Runs page
    _present(at)
    next(b for b in at.button if b.label == "Run all four demos").click().run()
    assert not at.exception
    assert sorted(p.name for p in (runs_dir / "team-a").iterdir()) == sorted(f"{k}-demo" for k in demos.DEMOS)
    assert any(c.value.startswith("Scenario 1 of 4") for c in at.caption)
    assert "cannot be stated" in _html(at)
