"""The training slot as a page sees it: the queue position while waiting, the wait afterwards, the
memory refusal as a message, and credit rows sampled with a notice."""

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
    from ui.jobs import training_slot

    rows = int(st.session_state.get("rows", 50))
    df = pd.DataFrame({"x": np.arange(rows, dtype=float), "y": np.arange(rows) % 2})
    try:
        with training_slot("credit", df, seed=1) as job:
            st.write(f"trained on {len(job.data)} rows")
    except DataValidationError as exc:
        st.error(str(exc))


def test_waits_for_a_slot_and_says_how_long(monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_TRAININGS", "1")
    queue = get_training_queue()
    held = queue.acquire("someone else")

    def release_once_the_page_waits():
        while queue.waiting() == 0:
            time.sleep(0.02)
        time.sleep(1.5)
        queue.release(held)

    threading.Thread(target=release_once_the_page_waits, daemon=True).start()
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception and not errors_besides_trust(at)
    assert at.markdown[-1].value == "trained on 50 rows"
    assert any("for a training slot" in c.value and c.value.startswith(":material/hourglass_bottom: Waited")
               for c in at.caption)
    assert queue.running() == 0 and queue.waiting() == 0 and max(queue.waits[-1:]) >= 1.5


def test_refused_when_memory_is_short(monkeypatch):
    monkeypatch.setenv("STUDIO_MEMORY_LIMIT_MB", "100")
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and "credit training needs about" in at.error[0].value
    assert "expected at most" in at.error[0].value and "Fix:" in at.error[0].value
    assert get_training_queue().running() == 0


def test_credit_rows_sampled_with_a_notice(monkeypatch):
    import core.memory_guard as mg

    # The machine reports just enough room for the fixed part and about 5,000 of the 20,000 rows.
    est = mg.estimate_job("credit", __import__("pandas").DataFrame({"x": range(20_000), "y": [0, 1] * 10_000}))
    fixed = est.need_mb - est.per_row_mb * est.rows
    monkeypatch.setattr(mg, "read_process_mb", lambda: 0.0)
    monkeypatch.setattr(mg, "read_available_mb", lambda *a: fixed + 5_000 * est.per_row_mb / 0.9)
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["rows"] = 20_000
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    rows = int(at.markdown[-1].value.split()[2])
    assert 4_900 <= rows <= 5_000
    assert any("seeded random sample of" in i.value and "of 20,000 rows" in i.value for i in at.info)


def _nested_page():
    import pandas as pd
    import streamlit as st

    from ui.jobs import training_slot

    df = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    with training_slot("credit", df) as outer:
        with training_slot("credit", df) as inner:  # a search's fits inside the page's training
            st.write(f"outer {outer.ticket is not None}, inner {inner.ticket is None}")
    with training_slot("credit", df) as again:
        st.write(f"again {again.ticket is not None}")


def test_a_training_inside_a_training_uses_the_callers_slot(monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_CONCURRENT_TRAININGS", "1")
    at = AppTest.from_function(_nested_page, default_timeout=20).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["outer True, inner True", "again True"]
    assert get_training_queue().running() == 0
