"""Sessions of visitors who left are shut down once their time to come back has passed (``ui.memory``).

Streamlit's own session storage only marks them expired: without ``release_expired_sessions`` a session,
with everything in its state, stays in memory until another visitor disconnects."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from streamlit import runtime
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.session_manager import SessionInfo

from core.store.memory_guard import trim_round
from ui import memory


class _Session:
    def __init__(self, sid: str, state: dict):
        self.id = sid
        self.state = state
        self.shut_down = 0

    def shutdown(self) -> None:
        self.shut_down += 1
        self.state.clear()


@pytest.fixture
def storage(monkeypatch):
    """Streamlit's storage of disconnected sessions (60 s to come back) behind a stand-in runtime, on a clock
    the test moves."""
    clock = [1000.0]
    store = MemorySessionStorage(ttl_seconds=60)
    store._cache._timer = lambda: clock[0]
    manager = SimpleNamespace(_session_storage=store, _storage_lock=threading.Lock(), _active_session_info_by_id={})
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(_session_mgr=manager))
    return store, clock


def _leave(store, sid: str) -> _Session:
    session = _Session(sid, {"credit.result": bytearray(1024), "credit.onnx": object()})
    store.save(SessionInfo(client=None, session=session))
    return session


def test_a_session_past_its_time_is_shut_down_and_dropped(storage):
    store, clock = storage
    gone, recent = _leave(store, "gone"), None
    clock[0] += 30
    recent = _leave(store, "recent")
    assert memory.release_expired_sessions() == 0  # both may still come back
    assert gone.shut_down == 0 and store.get("gone") is not None

    clock[0] += 45  # "gone" left 75 s ago, "recent" 45 s ago
    # Streamlit alone keeps the expired session (hidden from reads, but still held with its state).
    assert store.get("gone") is None and "gone" in store._cache._data
    assert memory.release_expired_sessions() == 1
    assert "gone" not in store._cache._data and gone.shut_down == 1 and gone.state == {}
    assert recent.shut_down == 0 and store.get("recent").session is recent  # a visitor within the 60 s keeps everything

    clock[0] += 60
    assert memory.release_expired_sessions() == 1 and recent.shut_down == 1
    assert memory.release_expired_sessions() == 0  # nothing is shut down twice


def test_process_wide_caches_are_cleared_when_the_last_visitor_has_gone(storage, monkeypatch):
    store, clock = storage
    cleared = []
    monkeypatch.setattr(memory, "_WHEN_EMPTY", [])
    memory.release_when_empty(lambda: cleared.append(1))
    _leave(store, "first")
    clock[0] += 30
    _leave(store, "second")
    clock[0] += 31
    assert memory.release_expired_sessions() == 1 and cleared == []  # "second" may still come back
    clock[0] += 30
    assert memory.release_expired_sessions() == 1 and cleared == [1]
    assert memory.release_expired_sessions() == 0 and cleared == [1]  # once, when the last one went


def test_the_runs_pages_predictors_are_dropped_with_the_last_visitor():
    from ui import deploy

    assert deploy._predictor.clear in memory._WHEN_EMPTY


def test_the_trimmers_round_releases_sessions(storage):
    store, clock = storage
    session = _leave(store, "s1")
    clock[0] += 61
    assert trim_round(memory.release_and_report) is True
    assert session.shut_down == 1 and not store._cache._data


def test_a_failing_check_does_not_stop_the_trimming():
    def broken():
        raise RuntimeError("boom")

    assert trim_round(broken) is True


def test_outside_a_running_server_nothing_is_released(monkeypatch):
    monkeypatch.setattr(runtime, "exists", lambda: False)
    assert memory.release_expired_sessions() == 0


def test_the_debug_report_names_what_the_server_holds(storage, tmp_path, monkeypatch):
    store, clock = storage
    _leave(store, "s1")
    out = tmp_path / "memory.jsonl"
    monkeypatch.setenv(memory.DEBUG_ENV, str(out))
    # The stand-in runtime has no media file manager: the report says what it can.
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(
        _session_mgr=SimpleNamespace(_session_storage=store, _storage_lock=threading.Lock(),
                                     _active_session_info_by_id={}),
        media_file_mgr=SimpleNamespace()))
    memory.release_and_report()
    import json

    line = json.loads(out.read_text().splitlines()[-1])
    assert line["released_sessions"] == 0 and line["sessions_stored"] == 1 and line["media_files"] == 0
    import sys

    assert line["rss_mb"] > 0 and line["modules"] > 100 and line["objects"]
    assert line["heavy_modules"] and all(m in sys.modules for m in line["heavy_modules"])


def test_the_debug_report_counts_what_is_not_python_objects_and_writes_the_snapshot(storage, tmp_path, monkeypatch):
    import json
    import tracemalloc

    store, _clock = storage
    out = tmp_path / "memory.jsonl"
    monkeypatch.setenv(memory.DEBUG_ENV, str(out))
    monkeypatch.setenv(memory.TRACE_ENV, "1")
    stats = SimpleNamespace(get_stats=lambda: {"st_cache_resource": [SimpleNamespace(byte_length=3 * 2**20)] * 2,
                                               "st_session_state": []})
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(
        _session_mgr=SimpleNamespace(_session_storage=store, _storage_lock=threading.Lock(),
                                     _active_session_info_by_id={}),
        media_file_mgr=SimpleNamespace(), stats_mgr=stats))
    was_tracing = tracemalloc.is_tracing()
    try:
        assert memory.trace_if_asked() is True
        memory.release_and_report()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    line = json.loads(out.read_text().splitlines()[-1])
    assert line["streamlit_caches"] == {"st_cache_resource": [2, 6.0]}  # an empty family is left out
    assert line["malloc_mb"]["in_use"] > 0 and line["malloc_mb"]["heap"] >= line["malloc_mb"]["in_use"]
    assert line["python_heap_mb"] > 0
    assert tracemalloc.Snapshot.load(str(out) + ".snap").traces
    types = json.loads((tmp_path / "memory.jsonl.types.json").read_text())
    assert types["builtins.dict"] > 100 and not (tmp_path / "memory.jsonl.snap.part").exists()


def test_no_tracing_unless_asked(monkeypatch):
    import tracemalloc

    monkeypatch.delenv(memory.TRACE_ENV, raising=False)
    assert memory.trace_if_asked() is tracemalloc.is_tracing()
    monkeypatch.setenv(memory.TRACE_ENV, "frames")  # not a number: left off, no error
    assert memory.trace_if_asked() is tracemalloc.is_tracing()
