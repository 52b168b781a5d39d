"""The "Save to workspace" control on a scenario page: saves the run with its summary, shows the
run id, and turns a bad name into a message while the trained model stays on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.registry import list_runs
from tests.conftest import errors_besides_trust

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture(scope="module")
def trained_credit(module_runs_dir):
    at = AppTest.from_file(str(PAGES / "credit.py"), default_timeout=300).run()
    ni = {w.label: w for w in at.number_input}
    ni["Epochs (early stopping may end sooner)"].set_value(2)
    ni["Use at most this many rows (0 = all)"].set_value(800)
    ni["Rows explained with SHAP"].set_value(50)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception
    return at


def test_credit_page_saves_the_run_with_its_decision(trained_credit, module_runs_dir):
    at = trained_credit
    name = at.text_input(key="credit.ws_name")
    assert name.value == "credit · credit_applications.csv"
    at.slider(key="credit.threshold").set_value(0.25).run()
    at.text_input(key="credit.ws_name").set_value("credit demo for the board").run()
    at.button(key="credit.ws_save").click().run()
    assert not at.exception and not errors_besides_trust(at)
    runs, _ = list_runs(module_runs_dir)
    assert len(runs) == 1
    ws = runs[0]["workspace"]
    assert ws["name"] == "credit demo for the board" and ws["decision"]["threshold"] == 0.25
    assert ws["dataset"]["name"] == "credit_applications.csv" and ws["explain"]["importance"]
    assert any(runs[0]["run_id"] in s.value and "credit demo for the board" in s.value for s in at.success)


def test_empty_name_is_a_message_and_the_model_stays(trained_credit, module_runs_dir):
    at = trained_credit
    before = len(list_runs(module_runs_dir)[0])
    at.text_input(key="credit.ws_name").set_value("   ").run()
    at.button(key="credit.ws_save").click().run()
    assert not at.exception
    assert any("needs a name" in e.value for e in at.error)
    assert not any("Saved as run" in s.value for s in at.success)
    assert len(list_runs(module_runs_dir)[0]) == before
    assert at.session_state["credit.run"] is not None
