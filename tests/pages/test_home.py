from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]


def test_home_lists_scenarios_and_device():
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
    assert len(at.info) == len(missing)
