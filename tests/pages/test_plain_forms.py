"""The four scenario pages keep the network's settings in one 'Advanced settings' expander (same label,
under the main training options, defaults unchanged), each with a one-line meaning."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.common import ADVANCED_LABEL, NETWORK_HELP

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _open(page: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _advanced(at):
    boxes = [e for e in at.expander if e.label == ADVANCED_LABEL]
    assert len(boxes) == 1
    box = boxes[0]
    return {w.label: w for kind in ("number_input", "slider", "select_slider") for w in getattr(box, kind)}


@pytest.mark.parametrize("page, expected", [
    ("credit.py", {"Width (units in first layer)": 64, "Depth (hidden layers)": 2, "Dropout": 0.2, "L2 penalty": "auto",
                   "Learning rate": 1e-3, "Batch size": "auto"}),
    ("fraud.py", {"Width": 128, "Depth (hidden layers)": 3, "Dropout": 0.2, "L2 penalty": 1e-4,
                  "Learning rate": 2e-3, "Batch size": 2048}),
    ("demand.py", {"Width": 64, "Depth (hidden layers)": 2, "Dropout": 0.3, "L2 penalty": 1e-4,
                   "Learning rate": 3e-3, "Batch size": 256}),
    ("quality.py", {"Dropout": 0.2, "Learning rate": 2e-3, "Batch size": 32}),
])
def test_network_settings_sit_in_one_advanced_expander_with_their_defaults(page, expected):
    at = _open(page)
    inside = _advanced(at)
    assert {k: inside[k].value for k in expected} == expected
    # Every one says what it does, in one line.
    assert all(inside[k].help for k in expected)
    # The everyday options stay outside it: epochs and the seed.
    assert not any(label.startswith(("Epochs", "Max epochs", "Seed")) for label in inside)
    assert any(w.label == "Seed" for w in at.number_input)


def test_network_help_has_one_line_per_setting():
    assert set(NETWORK_HELP) == {"width", "depth", "dropout", "l2", "learning_rate", "batch_size"}
    assert all(text.endswith(".") and "\n" not in text for text in NETWORK_HELP.values())
