"""The prediction log: appends from several processes, retention, pending parts, compaction, ids,
personal data left out, and the errors a person can meet."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.monitor import store
from core.monitor.record import ID_COLUMN, PredictionRecorder, attach_ids, open_recorder
from tests.monitor.helpers import append_many, applications, log_batch, make_run, scored_frame


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "runs")


def test_a_batch_is_logged_with_ids_times_inputs_and_decisions(run):
    df = applications(40, seed=3)
    rec, ids = log_batch(run, df)
    assert list(ids) == list(df["applicant_id"])
    log = store.read_table(run, "predictions")
    assert len(log) == 40 and rec.rows == 40
    assert list(log["row_id"]) == list(df["applicant_id"])
    assert (log["source"] == "cli").all() and not log["id_generated"].any()
    assert log["score"].round(6).tolist() == scored_frame(df)["probability_of_default"].round(6).tolist()
    assert set(log["decision"]) <= {"approve", "decline"}
    # The inputs as the model read them, and nothing else from the file (no outcome, no id as an input).
    assert sorted(c for c in log.columns if c.startswith("in.")) == ["in.region", "in.x1", "in.x2"]


def test_rows_without_an_id_get_a_generated_one_returned_with_the_output(run):
    df = applications(12, seed=4, ids=False)
    rec = PredictionRecorder(run, source="page")
    out = attach_ids(rec, df, scored_frame(df))
    assert ID_COLUMN in out.columns and out[ID_COLUMN].is_unique
    log = store.read_table(run, "predictions")
    assert log["id_generated"].all() and set(log["row_id"]) == set(out[ID_COLUMN])
    assert "generated id" in rec.notice()


def test_several_processes_appending_at_once_lose_no_row(run):
    import faulthandler
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn")  # fresh interpreters: no state shared with this process
    workers, batches, rows = 4, 6, 25
    # An executor, not a Pool: a worker that dies fails the test (BrokenProcessPool) instead of leaving
    # the Pool waiting for its task forever.
    # faulthandler in each worker: a worker that crashes prints where, beside the BrokenProcessPool.
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=faulthandler.enable) as pool:
        done = list(pool.map(append_many, [str(run)] * workers, range(workers), [batches] * workers,
                             [rows] * workers, timeout=600))
    assert sum(done) == workers * batches * rows
    log = store.read_table(run, "predictions")
    assert len(log) == workers * batches * rows
    assert log["log_key"].is_unique and log["row_id"].is_unique
    expected = {f"w{w}-b{b}-{i}" for w in range(workers) for b in range(batches) for i in range(rows)}
    assert set(log["row_id"]) == expected
    parts = store.list_parts(run, "predictions")
    assert len(parts) == workers * batches  # one file per append
    assert not [p for p in parts[0].parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_retention_drops_old_day_folders_only(run):
    today = dt.date(2024, 6, 30)
    for age in (0, 10, 45, 400):
        day = pd.Timestamp(today - dt.timedelta(days=age)) + pd.Timedelta(hours=12)
        store.write_part(run, "predictions", pd.DataFrame({"log_key": [f"k{age}"], "row_id": [f"r{age}"],
                                                           "score": [0.1]}), now=day)
        store.write_part(run, "labels", pd.DataFrame({"label_key": [f"l{age}"], "row_id": [f"r{age}"],
                                                      "label": [1.0]}), now=day)
    removed = store.apply_retention(run, days=30, today=today)
    assert sorted(removed) == sorted(f"{t}/day={(today - dt.timedelta(days=a)).isoformat()}"
                                     for t in ("predictions", "labels") for a in (45, 400))
    assert sorted(store.read_table(run, "predictions")["row_id"]) == ["r0", "r10"]
    assert sorted(store.read_table(run, "labels")["row_id"]) == ["r0", "r10"]


def test_retention_setting_beats_the_environment_which_beats_the_default(run, monkeypatch):
    monkeypatch.delenv(store.RETENTION_ENV, raising=False)
    assert store.get_retention(run) == (store.DEFAULT_RETENTION_DAYS, "the default")
    monkeypatch.setenv(store.RETENTION_ENV, "90")
    assert store.get_retention(run)[0] == 90
    store.set_retention(run, 30)
    assert store.get_retention(run) == (30, "this run's setting")
    size = store.get_log_size(run)
    assert size.retention_days == 30 and "kept 30 days" in size.sentence()


@pytest.mark.parametrize("bad", [0, -5, 2.5, "soon", 100_000])
def test_a_retention_that_is_not_a_whole_number_of_days_is_refused(run, bad):
    with pytest.raises(DataValidationError, match=r"whole number of days from 1 to 36500; got .* --retention-days 400"):
        store.set_retention(run, bad)


def test_pending_parts_stay_invisible_until_published_and_vanish_when_aborted(run):
    rec, _ = log_batch(run, applications(10, seed=5), deferred=True)
    assert len(store.read_table(run, "predictions")) == 0
    rec.commit()
    assert len(store.read_table(run, "predictions")) == 10
    rec2, _ = log_batch(run, applications(7, seed=6), deferred=True)
    rec2.abort()
    assert len(store.read_table(run, "predictions")) == 10
    assert not [p for d in (store.log_dir(run) / "predictions").iterdir() for p in d.iterdir() if p.name.startswith(".")]


def test_compaction_merges_a_closed_days_files_and_readers_never_count_a_row_twice(run):
    day = pd.Timestamp("2024-05-01 10:00")
    for i in range(25):
        store.write_part(run, "predictions", pd.DataFrame({"log_key": [f"k{i}"], "row_id": [f"r{i}"],
                                                           "score": [i / 100]}), now=day)
    # A reader racing a compaction sees the merged file beside some of its sources: each row once.
    first = store.list_parts(run, "predictions")[0]
    (first.parent / "compact-race.parquet").write_bytes(first.read_bytes())
    assert len(store.read_table(run, "predictions")) == 25
    (first.parent / "compact-race.parquet").unlink()
    merged = store.compact(run, today=dt.date(2024, 5, 2))
    assert merged == 25 and len(store.list_parts(run, "predictions")) == 1
    log = store.read_table(run, "predictions")
    assert sorted(log["row_id"]) == sorted(f"r{i}" for i in range(25))
    assert store.compact(run, today=dt.date(2024, 5, 2)) == 0  # nothing left to merge


def test_personal_data_never_enters_the_log(tmp_path):
    run = make_run(tmp_path / "runs")
    # A run that reads a column of e-mail addresses (as a category) and a phone number the run recorded
    # as personal data: neither reaches the log, whatever the model reads.
    import json

    meta_path = run / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["credit"]["categorical"] = ["region", "contact"]
    meta["workspace"]["dataset"]["personal_data"] = [{"column": "phone", "kind": "phone numbers"}]
    meta["credit"]["numeric"] = ["x1", "x2", "phone"]
    meta_path.write_text(json.dumps(meta))
    df = applications(30, seed=8)
    df["contact"] = [f"person{i}@example.com" for i in range(len(df))]
    df["phone"] = [4470000000 + i for i in range(len(df))]
    rec, _ = log_batch(run, df)
    log = store.read_table(run, "predictions")
    assert "in.contact" not in log.columns and "in.phone" not in log.columns and "in.region" in log.columns
    raw = b"".join(p.read_bytes() for p in store.list_parts(run, "predictions"))
    assert b"example.com" not in raw and b"person1@" not in raw
    assert any("Personal data is never logged" in n and "contact" in n and "phone" in n for n in rec.notices)


def test_a_log_that_cannot_be_written_is_a_notice_and_scoring_goes_on(run, monkeypatch):
    def refuse(*_a, **_k):
        raise DataValidationError("Expected to append to the prediction log in 'x'; got 'No space left on device'.")

    monkeypatch.setattr("core.monitor.record.write_part", refuse)
    df = applications(5, seed=9)
    rec = PredictionRecorder(run, source="cli")
    out = attach_ids(rec, df, scored_frame(df))
    assert len(out) == 5 and rec.rows == 0
    assert "scored but not recorded" in rec.notice() and "No space left" in rec.notice()


def test_the_log_folder_that_cannot_be_written_says_how_to_fix_it(run, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(store.MONITOR_DIR_ENV, str(blocker))
    with pytest.raises(DataValidationError, match=r"Expected to append to the prediction log in .* Fix: free disk space "
                                                  r"or make the folder writable"):
        store.write_part(run, "predictions", pd.DataFrame({"log_key": ["k"], "row_id": ["r"], "score": [0.5]}))


def test_an_unknown_door_is_refused(run):
    with pytest.raises(DataValidationError, match=r"scoring door as one of cli, page, api; got 'batch'"):
        PredictionRecorder(run, source="batch")


def test_logging_can_be_turned_off(run, monkeypatch):
    assert open_recorder(run, source="cli", enabled=False) is None
    monkeypatch.setenv("STUDIO_PREDICTION_LOG", "0")
    assert open_recorder(run, source="cli") is None
    monkeypatch.delenv("STUDIO_PREDICTION_LOG")
    assert open_recorder(run, source="cli") is not None


def test_the_log_can_live_outside_the_run_folder(run, monkeypatch, tmp_path):
    monkeypatch.setenv(store.MONITOR_DIR_ENV, str(tmp_path / "logs"))
    log_batch(run, applications(4, seed=10))
    assert (tmp_path / "logs" / run.name / "predictions").is_dir() and not (run / "monitor").exists()
    assert store.get_log_size(run).predictions == 4
    assert os.fspath(tmp_path / "logs" / run.name) == store.get_log_size(run).location


def test_a_killed_writers_temporaries_are_swept_once_per_interval_not_on_every_append(tmp_path, monkeypatch):
    frame = pd.DataFrame({"log_key": ["a"], "x": [1.0]})
    now = pd.Timestamp("2026-12-01 10:00", tz="UTC")
    first = store.write_part(tmp_path, store.PREDICTIONS, frame, now=now)
    folder = first.parent
    old = folder / ".left-by-a-killed-writer.parquet.tmp"
    old.write_bytes(b"partial")
    os.utime(old, (0, 0))  # long stale
    monkeypatch.setattr(store, "_SWEPT", {})
    store.write_part(tmp_path, store.PREDICTIONS, frame, now=now)
    assert not old.exists()  # the first append of the process looks and removes it
    again = folder / ".another.parquet.tmp"
    again.write_bytes(b"partial")
    os.utime(again, (0, 0))
    store.write_part(tmp_path, store.PREDICTIONS, frame, now=now)
    assert again.exists()  # within the interval the folder is not looked through again
    monkeypatch.setattr(store, "SWEEP_EVERY_SECONDS", 0.0)
    store.write_part(tmp_path, store.PREDICTIONS, frame, now=now)
    assert not again.exists()
    assert len(store.list_parts(tmp_path, store.PREDICTIONS)) == 4
