"""The chunked scorer's output is durable and leaves nothing behind: the file is flushed to disk
before it is renamed into place and the folder after, and the hidden partial file a killed run
left is removed by the next run of the same output, while a partial another live run is writing
is left alone."""

from __future__ import annotations

import os
import stat

import pandas as pd

from core.serve.streaming import remove_stale_partials, stream_score
from tests.hardening import faults

ROWS, CHUNK = 2_000, 500


def _score(part):
    return part.assign(probability=(part["annual_income"].rank(pct=True) * 0.9).round(4))


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_killed_runs_partial_is_removed_by_the_next_run_and_the_output_is_whole(tmp_path):
    from core.serve.streaming import _lock

    data = faults.write_credit_file(tmp_path / "to_score.csv", ROWS, seed=3)
    out = tmp_path / "scored.csv"
    # What SIGKILL during the writing leaves: the hidden partial with part of the rows, its lock
    # released by the dying process (the kernel drops a process's locks however it ends).
    killed = tmp_path / ".scored.csv.5eed0001.partial"
    fd = _lock(killed)
    os.write(fd, pd.read_csv(data).head(700).to_csv(index=False).encode())
    os.close(fd)
    # An older scorer's fixed name, and another output's partial, which is not this run's business.
    (tmp_path / ".scored.csv.partial").write_text("applicant_id,age\n1,2\n")
    (tmp_path / ".other.csv.partial").write_text("x\n")
    assert not out.exists()

    done = stream_score({}, data, out, _score, chunk_size=CHUNK)
    assert done.rows == ROWS and len(pd.read_csv(out)) == ROWS
    assert _hidden(tmp_path) == [".other.csv.partial"]


def test_a_partial_a_live_run_is_writing_is_left_alone(tmp_path):
    from core.serve.streaming import _lock

    data = faults.write_credit_file(tmp_path / "to_score.csv", 300, seed=4)
    out = tmp_path / "scored.csv"
    live = tmp_path / ".scored.csv.0123abcd.partial"
    fd = _lock(live)  # held as a running scorer holds it
    try:
        assert stream_score({}, data, out, _score, chunk_size=100).rows == 300
        assert live.exists() and remove_stale_partials(out) == []
    finally:
        os.close(fd)
    assert remove_stale_partials(out) == [live] and not live.exists()


def test_the_file_is_flushed_to_disk_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    data = faults.write_credit_file(tmp_path / "to_score.csv", 300, seed=5)
    out = tmp_path / "scored.csv"
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        mode = os.fstat(fd).st_mode
        events.append(("fsync", "folder" if stat.S_ISDIR(mode) else f"file of {os.fstat(fd).st_size} bytes"))
        return real_fsync(fd)

    def replace(src, dst):
        if str(dst) == str(out):
            events.append(("replace", os.path.basename(src)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    stream_score({}, data, out, _score, chunk_size=100)
    size = out.stat().st_size
    at = events.index(next(e for e in events if e[0] == "replace"))
    assert ("fsync", f"file of {size} bytes") in events[:at], events  # every byte on disk before the rename
    assert events[at][1].startswith(".scored.csv.") and events[at][1].endswith(".partial")
    assert ("fsync", "folder") in events[at + 1:], events  # and the rename itself
    assert len(pd.read_csv(out)) == 300 and _hidden(tmp_path) == []
