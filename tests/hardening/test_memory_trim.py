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
