from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.registry import save_run
from core.report.runsummary import demo_run_name
from core.store.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
NO_RUN = "no run yet"

WORKSPACE = {
    "name": "credit sample, class weights",
    "headline": {
        "quality": [{"label": "ROC-AUC", "value": 0.8123, "fmt": ".3f"},
                    {"label": "Approval rate", "value": 0.84, "fmt": ".1%"}],
        "impact": [{"label": "Loss avoided", "value": 123456.0, "unit": "€", "fmt": ",.0f"}],
        "assumptions": ["Loss per approved defaulter €5,000", "Margin per approved good applicant €1,000"],
    },
}


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _text(at) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption])


def test_home_lists_scenarios_and_device(runs_dir):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "AI Use-Case Studio"
    headers = [h.value for h in at.subheader]
    for spec in SCENARIOS.values():
        assert any(spec.title in h for h in headers)
    captions = " ".join(c.value for c in at.caption)
    assert "Training device — CPU" in captions and "TensorFlow" in captions
    # A scenario whose page does not exist yet says so plainly instead of linking to nothing.
    missing = [s for s in SCENARIOS.values() if not s.available]
    assert sum("Not built yet" in i.value for i in at.info) == len(missing)
    # Nothing saved yet: every scenario says so plainly, and the demo button is offered.
    assert _text(at).count(NO_RUN) == len(SCENARIOS)
    assert any(b.label == "Run all four demos" for b in at.button)
    # Counted and named from the registry, not written out.
    text = _text(at)
    assert "Four scenarios: credit scoring, fraud detection, demand forecasting and quality inspection." in text
    assert "**Run all four demos** — trains every scenario on its sample data" in text
    assert "Saved runs are read from the main runs folder" in captions and str(runs_dir) not in captions


def test_home_shows_the_latest_saved_run(runs_dir):
    save_run(runs_dir, model=None, run_id="credit-old",
             metadata={"scenario": "credit", "workspace": {**WORKSPACE, "name": "older credit run"}})
    save_run(runs_dir, model=None, run_id="credit-new", metadata={"scenario": "credit", "workspace": WORKSPACE})
    save_run(runs_dir, model=None, run_id="demand-cli", metadata={"scenario": "demand"})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    text = _text(at)
    assert "credit sample, class weights" in text and "older credit run" not in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ROC-AUC"] == "0.812"
    assert metrics["Approval rate"] == "84.0%"
    assert metrics["Loss avoided"] == "€123,456"
    assert "Assumptions: Loss per approved defaulter €5,000 · Margin per approved good applicant €1,000" in text
    # A run saved without the workspace summary is named but has no figures; the others have no run.
    assert "Saved without headline figures" in text
    assert text.count(NO_RUN) == len(SCENARIOS) - 2


def test_demo_button_saves_runs_and_reports_a_failed_demo(runs_dir, monkeypatch):
    from core.errors import DataValidationError
    from core.workspace import demos

    def fake(key):
        def run(root, settings, progress):
            if key == "fraud":
                raise DataValidationError("Expected transactions; got none. Fix: check the sample file.")
            return save_run(root, model=None, run_id=f"{key}-demo", metadata={"scenario": key, "workspace": {
                "name": f"{key} demo run", "headline": {"quality": [{"label": f"{key} score", "value": 0.5,
                                                                     "fmt": ".2f"}], "impact": [],
                                                        "assumptions": []}}})
        return run

    monkeypatch.setattr(demos, "DEMOS", {k: fake(k) for k in demos.DEMOS})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    next(b for b in at.button if b.label == "Run all four demos").click().run()
    assert not at.exception
    assert any("3 demo run(s) saved" in s.value for s in at.success)
    assert any("Fraud detection demo failed: Expected transactions; got none." in e.value for e in at.error)
    text = _text(at)
    assert "credit demo run" in text and "quality demo run" in text
    assert text.count(NO_RUN) == 1  # fraud still has none


def test_overview_and_demos_follow_the_folder_picked_on_the_runs_page(runs_dir, monkeypatch):
    from core.store.registry import list_runs
    from core.workspace import demos

    save_run(runs_dir, model=None, run_id="credit-top", metadata={"scenario": "credit", "workspace": {
        **WORKSPACE, "name": "run in the main folder"}})
    (runs_dir / "team-a").mkdir()
    save_run(runs_dir / "team-a", model=None, run_id="credit-team", metadata={"scenario": "credit", "workspace": {
        **WORKSPACE, "name": "run of team a"}})

    def fake(key):
        def run(root, settings, progress):
            return save_run(root, model=None, run_id=f"{key}-demo", metadata={"scenario": key, "workspace": {
                "name": f"{key} demo run", "headline": {"quality": [], "impact": [], "assumptions": []}}})
        return run

    monkeypatch.setattr(demos, "DEMOS", {k: fake(k) for k in demos.DEMOS})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["workspace.folder"] = "team-a"  # what the Runs page's folder pick leaves
    at.run()
    text = _text(at)
    assert "run of team a" in text and "run in the main folder" not in text
    assert "Saved runs are read from “team-a”" in text and str(runs_dir) not in text
    next(b for b in at.button if b.label == "Run all four demos").click().run()
    assert not at.exception
    assert {r["run_id"] for r in list_runs(runs_dir / "team-a")[0]} >= {f"{k}-demo" for k in demos.DEMOS}
    assert [r["run_id"] for r in list_runs(runs_dir)[0]] == ["credit-top"]  # nothing saved beside it


FLAGS = [{"kind": "chance", "headline": "No better than chance", "first_try": False,
          "why": "The network's ROC-AUC is 0.510, and its 95 % interval (0.470 to 0.550) holds 0.5."},
         {"kind": "degenerate", "headline": "Declines 99.8 % of applicants", "first_try": False,
          "why": "At the decline threshold 0.020 the decision declines almost all applicants."}]


def test_card_and_presenter_mode_say_in_bold_that_figures_must_not_be_trusted(runs_dir):
    ws = {**WORKSPACE, "headline": {**WORKSPACE["headline"], "trust": FLAGS}}
    save_run(runs_dir, model=None, run_id="credit-shuffled", metadata={"scenario": "credit", "workspace": ws})
    save_run(runs_dir, model=None, run_id="fraud-ok", metadata={"scenario": "fraud", "workspace": {
        **WORKSPACE, "name": "fraud checked", "headline": {**WORKSPACE["headline"], "trust": []}}})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    # One red box per flag on the credit card, the headline in bold; the checked fraud run has none.
    assert errors == ["**No better than chance.** The network's ROC-AUC is 0.510, and its 95 % interval "
                      "(0.470 to 0.550) holds 0.5.",
                      "**Declines 99.8 % of applicants.** At the decline threshold 0.020 the decision declines "
                      "almost all applicants."]
    # Presenter mode shows the demo runs: the same flagged run saved under the demo's name.
    save_run(runs_dir, model=None, run_id="credit-shuffled-demo", metadata={
        "scenario": "credit", "workspace": {**ws, "name": demo_run_name("credit")}})
    at.toggle(key="home.present").set_value(True).run()
    assert not at.exception
    verdict = next(e.proto.body for e in at.get("html") if "pitch-verdict" in e.proto.body)
    assert verdict.endswith("Not a result to present: No better than chance; Declines 99.8 % of applicants.</div>")


def test_demo_result_names_the_demos_whose_figures_must_not_be_trusted(runs_dir, monkeypatch):
    from core.workspace import demos

    def fake(key):
        def run(root, settings, progress):
            head = {"quality": [{"label": "score", "value": 0.5, "fmt": ".2f"}], "impact": [], "assumptions": [],
                    "trust": FLAGS[:1] if key == "credit" else []}
            return save_run(root, model=None, run_id=f"{key}-demo",
                            metadata={"scenario": key, "workspace": {"name": f"{key} demo run", "headline": head}})
        return run

    monkeypatch.setattr(demos, "DEMOS", {k: fake(k) for k in demos.DEMOS})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    next(b for b in at.button if b.label == "Run all four demos").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors[0] == ("Credit scoring demo: **No better than chance.** The network's ROC-AUC is 0.510, and its "
                         "95 % interval (0.470 to 0.550) holds 0.5.")
    assert len(errors) == 2  # the demo result's and the credit card's, nothing for the other demos


RECOMMENDED = {"model": "ensemble", "label": "Ensemble: 75 % Keras network + 25 % gradient boosting",
               "metrics": {"roc_auc": 0.8123, "pr_auc": 0.4567, "threshold": 0.3}}


def test_overview_names_the_recommended_model_with_its_figures(runs_dir):
    head = {**WORKSPACE["headline"], "recommended": RECOMMENDED}
    save_run(runs_dir, model=None, run_id="credit-blend", metadata={"scenario": "credit",
                                                                    "workspace": {**WORKSPACE, "headline": head}})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert ("**Recommended model:** Ensemble: 75 % Keras network + 25 % gradient boosting (ROC-AUC 0.812, "
            "PR-AUC 0.457 on the test rows)") in [m.value for m in at.markdown]
