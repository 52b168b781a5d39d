"""A visitor who closed the tab has their session shut down on the running server once its time to come back
has passed, without another visitor having to come and go (``ui.memory``)."""

from __future__ import annotations

import json
import time

import pytest


def _lines(path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []


@pytest.mark.browser
def test_a_visitor_who_left_is_released_by_the_server(tmp_path, browser, screenshot_dir):
    from tests.conftest import run_app

    report = tmp_path / "memory.jsonl"
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2", "STUDIO_MEMORY_DEBUG": str(report)}
    with run_app(tmp_path, env=env) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{url}/credit")
        page.get_by_text("Training options").wait_for()  # the sample loaded into the session, its preview drawn
        page.screenshot(path=str(screenshot_dir / "session_release_credit.png"))
        # The session is connected while the page is open.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r.get("sessions_active") for r in _lines(report)):
            time.sleep(1)
        assert any(r.get("sessions_active") == 1 for r in _lines(report)), _lines(report)[-3:]
        context.close()  # the visitor leaves
        seen = len(_lines(report))
        deadline = time.monotonic() + 90
        released = []
        while time.monotonic() < deadline and not released:
            time.sleep(1)
            released = [r for r in _lines(report)[seen:] if r.get("released_sessions")]
    assert released, _lines(report)[-3:]
    after = released[0]
    assert after["released_sessions"] == 1
    assert after["sessions_active"] == 0 and after["sessions_stored"] == 0
    # Shut down from the trimming thread, as Streamlit would from its own: nothing in the server's log.
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("server-*.log"))
    assert "Traceback" not in log and "Exception" not in log, log[-2000:]
