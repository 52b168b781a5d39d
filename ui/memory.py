"""Sessions of visitors who left, released: their state, their downloads and their media files.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds so a visitor whose
network blinked gets it back. Past that time the session is only *marked* expired: its storage drops it at
the next write (the next visitor who leaves), and even then without shutting it down, so the bytes of its
download buttons and images stay in the media file manager for good. After the last visitor of a demo left,
nobody writes, and every session they had (data, results, ONNX sessions, charts) stayed in memory.

``release_expired_sessions`` removes the expired sessions from the storage and shuts each one down, as
Streamlit does for a session it closes; the memory trimmer (``core.store.memory_guard``) calls it every 10 s and
gives the memory back as soon as a session was released. Trainings are not lost: they are jobs kept on disk
that a returning visitor finds again. Once the last visitor's session is released, the process-wide caches
registered with ``release_when_empty`` are cleared too.

``STUDIO_MEMORY_DEBUG=FILE`` adds one JSON line per check to FILE: the process's memory, the
sessions held, the media files, the modules loaded and the most numerous Python objects (with
``PYTHONTRACEMALLOC=1`` or ``STUDIO_MEMORY_TRACE=1``, the Python heap by file too); FILE.modules lists the
modules loaded, FILE.types.json every Python type's count and, when tracing, FILE.snap the tracemalloc snapshot
(``python bench/memory_diff.py OLD NEW`` compares two by file:line and by type). The report also counts what is
not Python objects: glibc's heap (``mallinfo2``), Arrow's pool and Streamlit's own caches (its stats).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

DEBUG_ENV = "STUDIO_MEMORY_DEBUG"
TRACE_ENV = "STUDIO_MEMORY_TRACE"
_WHEN_EMPTY: list = []


def release_when_empty(clear):
    """Register ``clear()`` to run when the last visitor's session has been released: for process-wide caches
    of objects visitors asked for (the Runs page's ONNX predictors), which no one needs once every visitor
    has gone. Returns ``clear``."""
    if clear not in _WHEN_EMPTY:
        _WHEN_EMPTY.append(clear)
    return clear


def trace_if_asked() -> bool:
    """Start tracemalloc in this process (the server only, not its workers) when ``STUDIO_MEMORY_TRACE`` is a
    number of frames (``1``: file:line); returns whether it traces."""
    import tracemalloc

    raw = os.environ.get(TRACE_ENV, "").strip()
    if raw and not tracemalloc.is_tracing():
        with contextlib.suppress(ValueError):
            tracemalloc.start(max(1, int(raw)))
    return tracemalloc.is_tracing()


def native_memory() -> dict:
    """What is not Python objects, in MB: glibc's heap (in use, free but kept, mmapped blocks), Arrow's pool,
    and Streamlit's own caches by family (st.cache_data / cache_resource entries, session state, media files,
    uploads), as its stats manager counts them."""
    import ctypes

    out: dict = {}

    class _Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                   "fsmblks", "uordblks", "fordblks", "keepcost")]

    from core.store.memory_guard import glibc

    with contextlib.suppress(AttributeError):  # not glibc, or one older than mallinfo2 (2.33)
        libc = glibc()
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
        out["malloc_mb"] = {"heap": round(info.arena / 2**20, 1), "in_use": round(info.uordblks / 2**20, 1),
                            "free_kept": round(info.fordblks / 2**20, 1), "mmapped": round(info.hblkhd / 2**20, 1)}
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        with contextlib.suppress(Exception):
            out["arrow_pool_mb"] = round(arrow.default_memory_pool().bytes_allocated() / 2**20, 1)
    with contextlib.suppress(Exception):
        from streamlit import runtime

        if runtime.exists():
            families: dict = {}
            for family, stats in runtime.get_instance().stats_mgr.get_stats().items():
                size = sum(getattr(s, "byte_length", 0) or 0 for s in stats)
                if size:
                    families[family] = [len(stats), round(size / 2**20, 2)]
            out["streamlit_caches"] = families  # family: [entries, MB]
    return out


def _session_storage():
    """The runtime's session manager, its storage's cache and its lock (``None`` when not available)."""
    from streamlit import runtime

    if not runtime.exists():
        return None
    manager = getattr(runtime.get_instance(), "_session_mgr", None)
    cache = getattr(getattr(manager, "_session_storage", None), "_cache", None)
    if cache is None or not hasattr(cache, "expire"):
        return None
    return manager, cache, getattr(manager, "_storage_lock", None) or contextlib.nullcontext()


def release_expired_sessions() -> int:
    """Shut down the disconnected sessions whose time to come back has passed; returns how many."""
    found = _session_storage()
    if found is None:
        return 0
    _manager, cache, lock = found
    with lock:
        removed = cache.expire()
    for _sid, info in removed:
        session = getattr(info, "session", None)
        if session is not None:
            with contextlib.suppress(Exception):  # a session already shut down: nothing more to free
                session.shutdown()
    if removed and not getattr(_manager, "_active_session_info_by_id", None) and not getattr(cache, "_data", None):
        for clear in list(_WHEN_EMPTY):  # the last visitor has gone
            with contextlib.suppress(Exception):
                clear()
    return len(removed)


def memory_report() -> dict:
    """What the server holds now (``STUDIO_MEMORY_DEBUG``)."""
    import gc
    from collections import Counter

    report: dict = {"time": round(time.time(), 1)}
    with contextlib.suppress(OSError):
        with open("/proc/self/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("Rss", "Anonymous", "Private_Dirty", "Shared_Clean", "Private_Clean"):
                    report[key.lower() + "_mb"] = round(int(value.split()[0]) / 1024, 1)
    found = _session_storage()
    if found is not None:
        manager, cache, _lock = found
        report["sessions_active"] = len(getattr(manager, "_active_session_info_by_id", {}))
        report["sessions_stored"] = len(getattr(cache, "_data", {}))  # expired ones included
        from streamlit import runtime

        media = getattr(runtime.get_instance().media_file_mgr, "_storage", None)
        files = getattr(media, "_files_by_id", {})
        report["media_files"] = len(files)
        report["media_mb"] = round(sum(len(getattr(f, "content", b"")) for f in files.values()) / 2**20, 1)
    report["modules"] = len(sys.modules)
    report["heavy_modules"] = sorted(m for m in ("pandas", "plotly", "sklearn", "scipy", "shap", "onnxruntime",
                                                 "numba", "tensorflow", "keras", "PIL", "pyarrow") if m in sys.modules)
    report.update(native_memory())
    counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    report["objects"] = dict(counts.most_common(12))
    report["_types"] = dict(counts)
    import tracemalloc

    if tracemalloc.is_tracing():  # PYTHONTRACEMALLOC=1 in the server's environment
        snapshot = tracemalloc.take_snapshot()
        report["_snapshot"] = snapshot
        stats = snapshot.statistics("filename")
        report["python_heap_mb"] = round(sum(s.size for s in stats) / 2**20, 1)
        report["python_heap_top"] = {s.traceback[0].filename[-70:]: round(s.size / 2**20, 2) for s in stats[:15]}
    return report


def release_and_report() -> int:
    """The trimmer's check: release expired sessions (how many is returned: the trimmer then gives the memory
    back at once), and with ``STUDIO_MEMORY_DEBUG`` write the report."""
    released = release_expired_sessions()
    path = os.environ.get(DEBUG_ENV, "").strip()
    if path:
        with contextlib.suppress(OSError):
            report = memory_report()
            types, snapshot = report.pop("_types"), report.pop("_snapshot", None)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"released_sessions": released, **report}) + "\n")
            with open(path + ".types.json.part", "w", encoding="utf-8") as fh:
                json.dump(types, fh)
            os.replace(path + ".types.json.part", path + ".types.json")  # whole, for a reader copying it
            if snapshot is not None:
                snapshot.dump(path + ".snap.part")
                os.replace(path + ".snap.part", path + ".snap")
            with open(path + ".modules", "w", encoding="utf-8") as fh:  # to rebuild the library floor elsewhere
                fh.write("\n".join(sorted(sys.modules)) + "\n")
    return released
