"""The Runs page's Deploy panel (AppTest): the serve command and a curl request built from the run's own
columns (never its personal-data columns), and "Try it" scoring the example row with the run's predictor
(a fraud run keeps no state from a try). Editing a row and a refused value are checked in Chromium
(tests/server/test_deploy_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "runs.py")


@pytest.fixture(scope="module")
def runs_page(onnx_ready):
    """One Runs page over the four runs for the module's tests: each opens the run it checks on it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("STUDIO_RUNS_DIR", str(onnx_ready["credit"].parent))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    yield at
    mp.undo()


def _open(at, run: str) -> AppTest:
    at.selectbox(key="runs.detail").set_value(run).run()
    at.toggle(key="deploy.open").set_value(True).run()
    assert not at.exception, at.exception
    return at


def test_the_panel_gives_the_command_and_a_request_from_the_runs_columns(runs_page, onnx_ready):
    from tests.hardening.test_privacy import personal_values

    at = _open(runs_page, "credit-1")
    code = [c.value for c in at.code]
    # The run under the operator's runs folder, never the server's path (which a visitor does not see).
    assert 'python -m core serve --model "${STUDIO_RUNS_DIR:-runs}"/credit-1 --runtime onnx' in code
    assert not any(str(onnx_ready["credit"].parent) in c for c in code)
    assert any("--host 0.0.0.0 --api-key-file api-keys.txt" in c for c in code)
    curl = next(c for c in code if c.startswith("curl"))
    assert "http://127.0.0.1:8000/v1/models/credit-1:predict" in curl and '"annual_income"' in curl
    body = json.loads(curl.split("-d '", 1)[1].rstrip("'"))
    assert not set(personal_values(2)) & set(body["instances"][0])  # e-mail, phone, card ... never shown
    assert "Download the ONNX model" in [b.proto.label for b in at.get("download_button")]


def test_try_it_scores_the_example_row_with_the_runs_predictor(runs_page):
    at = _open(runs_page, "credit-1")
    at.button(key="deploy.credit-1.go").click().run()
    assert not at.exception, at.exception
    shown = at.dataframe[-1].value
    assert {"probability_of_default", "score_points", "grade", "decision"} <= set(shown.columns)
    assert any('"predictions"' in c.value for c in at.code)
    assert any("annual_income" in d.value.columns for d in at.dataframe)  # the example row, in an editor
    # A fraud run keeps no state from a try: the same row twice gives the same risk.
    at = _open(at, "fraud-1")
    at.button(key="deploy.fraud-1.go").click().run()
    first = at.dataframe[-1].value["risk"].iloc[0]
    at.button(key="deploy.fraud-1.go").click().run()
    assert at.dataframe[-1].value["risk"].iloc[0] == first and not at.exception


def test_a_demand_run_gets_a_series_window_as_its_request(runs_page):
    at = _open(runs_page, "demand-1")
    curl = next(c.value for c in at.code if c.value.startswith("curl"))
    assert "-d @request.json" in curl  # a window of history is too long to read inside the command
    assert "Download request.json" in [b.proto.label for b in at.get("download_button")]
    at.button(key="deploy.demand-1.go").click().run()
    assert not at.exception, at.exception
    shown = at.dataframe[-1].value
    assert {"p10", "p50", "p90", "safety_stock", "reorder_point"} <= set(shown.columns)
    assert shown["series"].nunique() == 1 and len(shown) == 7  # the run's horizon for the example's one series
