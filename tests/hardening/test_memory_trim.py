"""Memory freed by a session goes back to the system (``core.store.memory_guard.trim_memory``)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from core.store.memory_guard import start_memory_trimmer, trim_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux only")
def test_freed_holes_in_the_heap_are_given_back():
    # 4,000 blocks of 60 KB (below glibc's mmap threshold: they live in the heap); every 20th is kept, so
    # the freed ones are holes the allocator keeps for reuse unless asked to give them back.
    blocks = [np.ones(60 * 1024, dtype=np.uint8) for _ in range(4000)]
    kept = blocks[::20]
    del blocks
    before = _rss_mb()
    assert trim_memory() is True
    after = _rss_mb()
    assert before - after > 100, (before, after)
    assert len(kept) == 200


def test_the_trimmer_starts_once_per_process(monkeypatch):
    import core.store.memory_guard as mg

    monkeypatch.setattr(mg, "_TRIMMER", None)
    assert start_memory_trimmer(interval=3600) is True
    assert start_memory_trimmer(interval=3600) is False  # one thread per process
    assert mg._TRIMMER.is_alive() and mg._TRIMMER.daemon and mg._TRIMMER.name == "memory-trimmer"


def test_arrow_pool_gives_back_what_tables_sent_to_the_browser_took():
    # Streamlit turns every table it shows into Arrow; Arrow's own pool (mimalloc) keeps the freed blocks,
    # which glibc's malloc_trim cannot give back.
    import pyarrow as pa

    df = np.random.default_rng(0).random((200_000, 8))
    table = pa.table({f"c{i}": df[:, i] for i in range(8)})

    def to_ipc():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue()

    sent = [to_ipc() for _ in range(10)]  # ~120 MB in Arrow's pool
    assert pa.default_memory_pool().bytes_allocated() > 100 * 2**20
    del sent
    before = _rss_mb()
    assert trim_memory() is True
    assert before - _rss_mb() > 60, (before, _rss_mb())


def test_a_round_trims_when_forced_or_when_the_check_freed_something():
    from core.store.memory_guard import trim_round

    calls = []
    assert trim_round(lambda: calls.append(1) or 0, force=False) is False  # nothing freed, not due: no trim
    assert trim_round(lambda: calls.append(1) or 2, force=False) is True  # sessions released: trim at once
    assert trim_round(lambda: 1 / 0, force=True) is True  # a failing check never stops the trimming
    assert calls == [1, 1]


ALLOCATOR_CHILD = """
import ctypes, json, sys, threading
import numpy as np
from core.store.memory_guard import configure_allocator

applied = configure_allocator({"STUDIO_MALLOC": sys.argv[1]})

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
big = np.ones(2**20); del big  # a freed 8 MB block: glibc then raises its mapping threshold to 8 MB
block = np.ones(2**17)  # 1 MB
mapped = libc.mallinfo2().hblkhd
del block
base = rss()

def visitor(seed):  # a script thread's frames and arrays of 100-900 KB, all freed when it ends
    rng = np.random.default_rng(seed)
    arrays = [np.ones(int(rng.integers(100_000, 900_000)) // 8) for _ in range(150)]
    del arrays

threads = [threading.Thread(target=visitor, args=(i,)) for i in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"applied": applied, "mapped_mb": mapped / 2**20, "kept_mb": rss() - base}))
"""


def _allocator_child(setting: str) -> dict:
    import json
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", ALLOCATOR_CHILD, setting], cwd=root, capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux only")
def test_the_allocator_gives_large_freed_blocks_back_without_a_trim():
    default, configured = _allocator_child("off"), _allocator_child("")
    assert default["applied"] == {}
    assert configured["applied"] == {"mmap_threshold": 128 * 1024, "trim_threshold": 128 * 1024}
    # glibc's own behaviour: after one large free, a 1 MB block lives in its heap, and what the threads freed
    # stays with the process until malloc_trim
    assert default["mapped_mb"] < 1 and default["kept_mb"] > 50, default
    # configured: the 1 MB block has its own mapping, and the threads' freed blocks went back as they were freed
    assert configured["mapped_mb"] >= 1 and configured["kept_mb"] < 20, configured


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux only")
def test_the_service_keeps_glibcs_defaults_unless_asked():
    import json
    import subprocess
    from pathlib import Path

    # serve (core.server.process.prepare) passes default=False: unset leaves glibc alone, "on" applies the setting
    code = ("import json; from core.store.memory_guard import configure_allocator as c; print(json.dumps("
            "[c({}, default=False), c({'STUDIO_MALLOC': 'on'}, default=False), c({'STUDIO_MALLOC': 'off'})]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, check=True)
    unset, asked, off = json.loads(out.stdout)
    assert unset == {} and off == {}
    assert asked == {"mmap_threshold": 128 * 1024, "trim_threshold": 128 * 1024}
