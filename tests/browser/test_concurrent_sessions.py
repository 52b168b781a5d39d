"""Five analysts on one server at once, each with their own file: one app server, one Chromium, five
browser contexts (separate cookies and Streamlit sessions) training credit, fraud, demand, quality and
a second credit model at the same time on their own small uploads. Two of them on the same page with
the same widgets and job kind is the hardest case for keeping sessions apart; a second pair on another
page would check the same mechanism again. Each sees only its own data and results (values unique to
its upload), downloads only its own rows, saves into a runs folder no other session lists; none
errors; the trainings beyond STUDIO_MAX_CONCURRENT_TRAININGS wait in a visible queue; the server's
peak memory is recorded. bench/bench_load.py runs the same with six sessions (a second fraud one) and
prints the figures; the sessions' steps are in tests/browser/concurrent_scenarios.py."""

from __future__ import annotations

import json

import pytest

from tests.browser.concurrent_scenarios import MIX, run_sessions

SESSIONS = 5  # MIX's first five: every scenario, credit twice


@pytest.mark.browser
def test_five_sessions_train_four_scenarios_at_once_each_sees_only_its_own(browser, tmp_path, screenshot_dir):
    figures = run_sessions(browser, tmp_path, n=SESSIONS, limit=2, shots=screenshot_dir)
    sessions = figures.pop("_sessions")
    print("\nconcurrent sessions:", json.dumps(figures))
    assert set(figures["scenarios"]) == {"credit", "fraud", "demand", "quality"} and len(sessions) == SESSIONS
    assert [s.scenario for s in sessions].count("credit") == 2 and list(MIX[:SESSIONS]) == figures["scenarios"]
    assert figures["errors"] == {}
    assert figures["all_trained"]
    for s in sessions:
        if s.scenario == "credit":  # the trained model's row counts come from this session's own upload
            assert s.own[1] in s.trained_text, s.trained_text
        assert s.download_rows > 0, (s.name, figures["download_rows"])
    # Five runs saved, each alone in its own session's folder.
    assert figures["runs_folders"] == len(sessions)
    # With 2 slots and 5 simultaneous trainings, at least 3 had to wait, and said so on their page.
    assert figures["saw_queue"] >= 3, figures
    assert sum(w > 0 for w in figures["waited_s"]) >= 3, figures
    assert figures["server_peak_mb"] > figures["server_start_mb"]
