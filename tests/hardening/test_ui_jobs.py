"""A training submitted from a page (``ui.jobs.start_job``): it waits for a free slot, a job beyond the
memory limit is refused with a message, credit rows are sampled with a notice, and a second training of
the same page is refused while the first runs."""

from __future__ import annotations

import threading
import time

from streamlit.testing.v1 import AppTest

from core.jobs import get_training_queue
from tests.conftest import errors_besides_trust


def _page():
    import numpy as np
    import pandas as pd
    import streamlit as st

    from core.errors import DataValidationError
    from core.jobs.manager import get_job_manager
    from ui.jobs import browser_key, start_job

    n = int(st.session_state.get("rows", 50))
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "y": np.arange(n) % 2})
    try:
        job = start_job("t.", "credit", "tests.jobs.jobfuncs:rows", {"df": df}, data=df, seed=1)
    except DataValidationError as exc:
        st.error(str(exc))
        return
    done = get_job_manager().result(job)
    st.write(f"trained on {done} rows, waited {job.started - job.created:.1f} s, owner {job.owner == browser_key()}")


def test_waits_for_a_slot(monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_TRAININGS", "1")
    queue = get_training_queue()
    held = queue.acquire("someone else")

    def release_once_the_job_waits():
        while queue.waiting() == 0:
            time.sleep(0.02)
        time.sleep(1.5)
        queue.release(held)

    threading.Thread(target=release_once_the_job_waits, daemon=True).start()
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception and not errors_besides_trust(at)
    words = at.markdown[-1].value.split()
    assert words[:4] == ["trained", "on", "50", "rows,"] and float(words[5]) >= 1.5 and words[-1] == "True"
    assert queue.running() == 0 and queue.waiting() == 0


def test_refused_when_memory_is_short(monkeypatch):
    from core.jobs.manager import get_job_manager

    monkeypatch.setenv("STUDIO_MEMORY_LIMIT_MB", "100")
    before = len(get_job_manager()._jobs)
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and "credit training needs about" in at.error[0].value
    assert "expected at most" in at.error[0].value and "Fix:" in at.error[0].value
    assert len(get_job_manager()._jobs) == before  # nothing submitted


def test_credit_rows_sampled_with_a_notice(monkeypatch):
    import core.store.memory_guard as mg

    # The machine reports just enough room for the fixed part and about 5,000 of the 20,000 rows.
    est = mg.estimate_job("credit", __import__("pandas").DataFrame({"x": range(20_000), "y": [0, 1] * 10_000}))
    fixed = est.need_mb - est.per_row_mb * est.rows
    monkeypatch.setattr(mg, "read_process_mb", lambda: 0.0)
    monkeypatch.setattr(mg, "read_available_mb", lambda *a: fixed + 5_000 * est.per_row_mb / 0.9)
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["rows"] = 20_000
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    rows = int(at.markdown[-1].value.split()[2])  # what the job itself was given
    assert 4_900 <= rows <= 5_000
    assert any("seeded random sample of" in i.value and "of 20,000 rows" in i.value for i in at.info)


def _two_trainings():
    import streamlit as st

    from ui.jobs import start_job

    first = start_job("t.", "slow", "tests.jobs.jobfuncs:count", {"n": 400, "delay": 0.05})
    second = start_job("t.", "slow", "tests.jobs.jobfuncs:count", {"n": 1})
    st.write(f"first {first.state}, second {second}")
    from core.jobs.manager import get_job_manager

    get_job_manager().cancel(first)


def test_a_second_training_of_a_page_waits_for_the_first(monkeypatch, tmp_path):
    import core.jobs.manager as jm

    monkeypatch.setenv("STUDIO_JOBS", "process")
    monkeypatch.setenv("STUDIO_JOBS_DIR", str(tmp_path))
    monkeypatch.setattr(jm, "_MANAGER", None)
    at = AppTest.from_function(_two_trainings, default_timeout=60).run()
    assert not at.exception
    assert at.markdown[-1].value in ("first queued, second None", "first running, second None")
    assert len(at.warning) == 1 and "is already running (started" in at.warning[0].value
    monkeypatch.setattr(jm, "_MANAGER", None)
