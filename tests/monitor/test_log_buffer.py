"""The HTTP service's buffered prediction log (``core.monitor.buffer``, ``ServedLog(flush_seconds=...)``): rows
are held in memory and written by a flusher, once each with the ids the requests were answered with; a failing
write is reported and retried while the service keeps answering; several runs keep their rows apart; threads
answering at once lose and repeat nothing. No test times anything: flushes are asked for, or waited for."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.monitor import store
from core.monitor.buffer import LogBuffer, check_flush_seconds
from core.monitor.hooks import ServedLog
from tests.monitor.helpers import applications, make_run, scored_frame


def request(n: int, seed: int, *, ids: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = applications(n, seed=seed, ids=ids).drop(columns="default")
    return rows, scored_frame(rows)[["probability_of_default", "decision"]]


def logged(run) -> pd.DataFrame:
    return store.read_table(run, store.PREDICTIONS) if store.list_parts(run, store.PREDICTIONS) else pd.DataFrame()


def test_rows_wait_in_memory_and_a_flush_writes_each_once_with_the_id_answered(tmp_path):
    run = make_run(tmp_path / "runs")
    served = ServedLog(flush_seconds=3600)
    answered = []
    for seed in range(3):
        rows, scores = request(4, seed)
        out = served.record(run, rows, scores)
        assert out["prediction_id"].is_unique and not out.attrs.get("notices")
        answered += out["prediction_id"].tolist()
    assert served.pending() == 12 and not store.list_parts(run, store.PREDICTIONS)  # no disk write per request
    assert served.flush(run) == 12 and served.pending() == 0
    log = logged(run)
    assert sorted(log["row_id"]) == sorted(answered) and log["log_key"].is_unique
    assert len(store.list_parts(run, store.PREDICTIONS)) == 1  # three requests, one part
    assert served.flush(run) == 0  # nothing twice
    served.close()
    assert len(logged(run)) == 12


def test_the_flusher_writes_by_itself_when_the_interval_passes(tmp_path):
    run = make_run(tmp_path / "runs")
    served = ServedLog(flush_seconds=0.05)
    rows, scores = request(5, 1, ids=True)
    out = served.record(run, rows, scores)
    deadline = time.monotonic() + 60  # a wait for the thread, not a timing assertion
    while served.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert served.pending() == 0
    assert set(logged(run)["row_id"]) == set(out["prediction_id"]) == set(rows["applicant_id"])
    served.close()


def test_a_full_buffer_is_written_before_its_interval():
    written = []

    def sink(items):
        written.append(items)
        return [], None

    buf = LogBuffer(seconds=3600, max_rows=6)
    frame = pd.DataFrame({"row_id": ["a", "b", "c", "d"], "scored_at": pd.Timestamp("2026-01-02")})
    buf.add("r", "run", frame, sink)
    buf.add("r", "run", frame.assign(row_id=list("efgh")), sink)  # 8 rows >= 6: due now
    deadline = time.monotonic() + 60
    while not written and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(written) == 1 and [f["row_id"].tolist() for f in written[0]] == [list("abcd"), list("efgh")]
    assert buf.close() == [] and buf.pending() == 0


def test_a_failing_write_is_reported_held_and_retried_while_answering_goes_on(tmp_path, monkeypatch):
    from core.monitor import record

    run = make_run(tmp_path / "runs")
    said = []
    served = ServedLog(flush_seconds=3600, say=said.append)
    real = record.write_part

    def full_disk(*a, **kw):
        raise DataValidationError("Expected to append to the prediction log; got 'No space left on device'.")

    monkeypatch.setattr(record, "write_part", full_disk)
    first = served.record(run, *request(3, 1))
    assert first["prediction_id"].notna().all()
    assert served.flush() == 0 and served.pending() == 3  # kept for the next try
    assert said and "Could not write the prediction log" in said[0] and "No space left" in said[0]
    second = served.record(run, *request(2, 2))  # still answered, with ids, and told why the log lags
    notes = second.attrs["notices"]
    assert second["prediction_id"].notna().all() and len(notes) == 1
    assert "cannot be written" in notes[0] and "No space left" in notes[0] and "5 answered rows are held" in notes[0]

    monkeypatch.setattr(record, "write_part", real)  # space again: the next flush writes all of them
    assert served.flush() == 5
    assert sorted(logged(run)["row_id"]) == sorted([*first["prediction_id"], *second["prediction_id"]])
    assert "written again" in said[-1] and not served.buffer.failing()
    assert not served.record(run, *request(1, 3)).attrs.get("notices")
    served.close()


def test_a_log_failing_for_long_keeps_memory_bounded_and_says_what_was_dropped():
    def fail(items):
        return items, "read-only file system"

    buf = LogBuffer(seconds=3600, max_rows=2, hold_rows=4)
    frame = pd.DataFrame({"row_id": ["a", "b"], "scored_at": pd.Timestamp("2026-01-02")})
    buf.add("r", "run", frame, fail)
    buf.flush()
    for _ in range(3):
        notes = buf.add("r", "run", frame, fail)
    assert buf.pending() == 4 and "4 answered rows are held" in notes[0] and "4 older rows were dropped" in notes[0]
    lines = buf.close()
    assert len(lines) == 1 and "4 answered rows could not be written" in lines[0] and "read-only" in lines[0]


def test_several_runs_served_at_once_keep_their_rows_apart(tmp_path):
    runs = [make_run(tmp_path / "runs", name=f"credit-{i}", seed=i) for i in range(2)]
    served = ServedLog(flush_seconds=3600)
    ids = {str(r): [] for r in runs}
    for k in range(6):
        run = runs[k % 2]
        ids[str(run)] += served.record(run, *request(3, k))["prediction_id"].tolist()
    assert served.pending() == 18
    served.close()
    for run in runs:
        assert sorted(logged(run)["row_id"]) == sorted(ids[str(run)])


def test_threads_answering_at_once_log_every_row_once_while_the_flusher_runs(tmp_path):
    run = make_run(tmp_path / "runs")
    served = ServedLog(flush_seconds=0.01)  # flushes interleave with the requests
    answered, errors = [], []

    def client(k: int):
        try:
            for i in range(15):
                out = served.record(run, *request(2, 100 * k + i))
                answered.extend(out["prediction_id"].tolist())
                if out.attrs.get("notices"):
                    errors.append(out.attrs["notices"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    served.close()
    assert not errors and len(answered) == 180 and len(set(answered)) == 180
    log = logged(run)
    assert len(log) == 180 and log["log_key"].is_unique and sorted(log["row_id"]) == sorted(answered)


def test_requests_with_different_columns_or_days_go_to_parts_that_read_together(tmp_path, monkeypatch):
    from core.monitor import record

    run = make_run(tmp_path / "runs")
    served = ServedLog(flush_seconds=3600)
    a = served.record(run, *request(3, 1, ids=True))  # the client's own ids
    b = served.record(run, *request(2, 2, ids=False))  # generated ids
    served.flush()
    log = logged(run)
    assert sorted(log["row_id"]) == sorted([*a["prediction_id"], *b["prediction_id"]])
    assert log.set_index("row_id").loc[list(b["prediction_id"]), "id_generated"].all()

    # A request answered just before midnight is filed under its own day, not the flush's.
    monkeypatch.setattr(record, "utc_now", lambda: store.utc_now() - pd.Timedelta(days=1))
    c = served.record(run, *request(2, 3, ids=True))
    served.close()
    days = sorted(p.parent.name for p in store.list_parts(run, store.PREDICTIONS))
    assert len(set(days)) == 2 and sorted(logged(run)["row_id"]) == sorted([*a["prediction_id"], *b["prediction_id"],
                                                                            *c["prediction_id"]])


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "soon", 4000])
def test_a_flush_interval_out_of_range_is_refused_with_the_fix(value):
    with pytest.raises(DataValidationError, match=r"Expected --log-flush-seconds as a number of seconds from 0 to 3600"):
        check_flush_seconds(value)
    assert check_flush_seconds("0") == 0.0 and check_flush_seconds(2) == 2.0


def test_serve_refuses_a_bad_flush_interval_before_loading_anything(tmp_path, capsys):
    from core.server.cli import main

    assert main(["--model", str(tmp_path / "missing"), "--log-flush-seconds", "-2"]) == 1
    err = capsys.readouterr().err
    assert "Expected --log-flush-seconds" in err and "got -2.0" in err and "Traceback" not in err


def test_buffered_parts_of_a_closed_day_are_compacted_and_read_once(tmp_path, monkeypatch):
    from core.monitor import record

    run = make_run(tmp_path / "runs")
    yesterday = store.utc_now() - pd.Timedelta(days=1)
    monkeypatch.setattr(record, "utc_now", lambda: yesterday)
    served = ServedLog(flush_seconds=3600)
    answered = []
    for k in range(store.COMPACT_MIN_FILES + 2):  # a flush per request: more parts than compaction leaves alone
        answered += served.record(run, *request(2, k))["prediction_id"].tolist()
        served.flush()
    served.close()
    day = store.log_dir(run) / store.PREDICTIONS / f"day={yesterday.date().isoformat()}"
    assert len(list(day.glob("*.parquet"))) == store.COMPACT_MIN_FILES + 2  # filed under the day they were scored
    assert store.compact(run) == store.COMPACT_MIN_FILES + 2
    assert [p.name.startswith("compact-") for p in store.list_parts(run, store.PREDICTIONS)] == [True]
    assert sorted(logged(run)["row_id"]) == sorted(answered)


def test_serve_help_states_the_durability_rule():
    from core.server.cli import serve_parser

    text = " ".join(serve_parser().format_help().split())
    assert "--log-flush-seconds S" in text and "(default 2.0; 0: write each request before answering it)" in text
    assert "a crash (kill -9) loses at most the last S seconds" in text and "prediction_id returned is the id logged" in text


def test_personal_data_found_while_writing_is_left_out_and_told_with_the_next_answer(tmp_path):
    run = make_run(tmp_path / "runs")
    said = []
    served = ServedLog(flush_seconds=3600, say=said.append)
    rows, scores = request(3, 1)
    rows["region"] = ["ann@example.com", "bob@example.org", "cy@example.net"]  # looks like e-mail addresses
    first = served.record(run, rows, scores)
    assert not first.attrs.get("notices")  # the rows are looked at when they are written
    served.flush()
    assert "in.region" not in logged(run).columns and sorted(logged(run)["row_id"]) == sorted(first["prediction_id"])
    assert any("Personal data is never logged: region" in line for line in said)
    notes = served.record(run, *request(1, 2)).attrs["notices"]
    assert len(notes) == 1 and "Personal data is never logged: region" in notes[0]
    assert not served.record(run, *request(1, 3)).attrs.get("notices")  # told once
    served.close()


def test_row_ids_join_only_the_id_like_columns_and_agree_with_the_joined_frame(tmp_path, monkeypatch):
    """A request's ids come from its id-like columns alone (inputs and predictions are never joined whole for
    them), and are the ids the joined frame gives: none without an id-like column, the id column's values as
    text with one, none for a column whose name only looks like an id."""
    from core.monitor import ids as ids_mod
    from core.monitor import spec as spec_mod
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    run = make_run(tmp_path / "runs")
    meta = read_metadata(run)
    spec = get_scenario("credit").monitor()
    kinds = spec_mod.input_columns(meta)
    join = spec_mod.rows_with_inputs

    def joined_ids(rows, scores):  # the ids of the whole joined frame, as the log's rows are built
        src = join(rows, scores, kinds)
        found = spec.id_columns(meta, src)
        return [None] * len(scores) if not found else ids_mod.ids_as_text(src[found[0]]).tolist()

    joins = []
    monkeypatch.setattr(spec_mod, "rows_with_inputs", lambda *a: joins.append(1) or join(*a))
    rows, scores = request(5, 0)
    ids = spec.row_ids(meta, rows, scores)
    assert ids.isna().all() and len(ids) == 5
    rows, scores = request(5, 1, ids=True)
    ids = spec.row_ids(meta, rows, scores)
    assert ids.tolist() == [str(v) for v in rows["applicant_id"]] == joined_ids(rows, scores)
    named = rows.drop(columns="applicant_id").assign(ref=[1, 1, 1, 1, 2])  # id-like name, not distinct
    assert spec.row_ids(meta, named, scores).isna().all() and joined_ids(named, scores) == [None] * 5
    answered = scores.assign(application_ref=[f"a{i}" for i in range(5)])  # the id in the predictions
    assert spec.row_ids(meta, named, answered).tolist() == joined_ids(named, answered) == [f"a{i}" for i in range(5)]
    assert joins == []  # row_ids itself joined nothing (joined_ids called the original)


def test_a_small_requests_ids_found_on_plain_lists_are_the_ids_pandas_finds(tmp_path, monkeypatch):
    """Requests of up to 64 rows have their id column found on the values of their log tables, not through
    pandas: the same ids as ``row_ids`` in every case (none, text ids with spaces, blanks, numbers, whole
    floats, ids that repeat, an id in the predictions, two id-like columns), and the same column as
    ``find_id_column``'s pandas path and as ``find_id_in_rows`` on the JSON instances the service reads; repeated
    candidate labels, larger requests and values the service decodes are left to pandas."""
    import numpy as np

    from core.monitor import ids as ids_mod
    from core.monitor import spec as spec_mod
    from core.monitor.columns import Columns
    from core.server.limits import Limits, rows_to_frame
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    meta = read_metadata(make_run(tmp_path / "runs"))
    spec = get_scenario("credit").monitor()
    kinds = spec_mod.input_columns(meta)
    rows, scores = request(6, 3, ids=True)
    plain = rows.drop(columns="applicant_id")
    cases = {
        "no id": (plain, scores),
        "text ids": (rows, scores),
        "spaces": (rows.assign(applicant_id=[" a1", "a2 ", "a3", "a4", "a5", "a6"]), scores),
        "blank text ids": (rows.assign(applicant_id=pd.array(["x1", None, "x3", "x4", "x5", "x6"], dtype="str")), scores),
        "numbers": (plain.assign(customer_id=[10000001 + i for i in range(6)]), scores),
        "whole floats": (plain.assign(customer_id=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), scores),
        "a blank float": (plain.assign(customer_id=[1.0, 2.0, 3.0, np.nan, 5.0, 6.0]), scores),
        "repeats": (plain.assign(ref=[1, 1, 2, 2, 3, 3]), scores),
        "in the predictions": (plain, scores.assign(application_ref=[f"r{i}" for i in range(6)])),
        "two id-like columns": (plain.assign(batch_id=[7] * 6, loan_number=[f"L{i}" for i in range(6)]), scores),
        "no inputs": (None, scores.assign(application_ref=[f"r{i}" for i in range(6)])),
    }
    nonempty = 0
    for name, (inputs, answered) in cases.items():
        tables = (None if inputs is None else Columns.of(inputs), Columns.of(answered))
        fast = ids_mod._small_row_ids(*tables, kinds)
        slow = spec.row_ids(meta, inputs, answered).tolist()
        assert fast is not None and len(fast) == len(slow), name
        assert [None if pd.isna(v) else v for v in fast] == [None if pd.isna(v) else v for v in slow], name
        assert spec.row_id_values(meta, inputs, answered, tables).tolist() == fast.tolist(), name
        nonempty += any(not pd.isna(v) for v in fast)
        if inputs is not None:
            small = ids_mod.find_id_column(inputs, exclude=kinds)
            monkeypatch.setattr(ids_mod, "SMALL_ROWS", 0)  # pandas' loop over the same rows
            assert ids_mod.find_id_column(inputs, exclude=kinds) == small, name
            monkeypatch.setattr(ids_mod, "SMALL_ROWS", 64)
            sent = json.loads(inputs.to_json(orient="records"))  # the service's JSON instances of these rows
            assert ids_mod.find_id_in_rows(sent, exclude=kinds) == ids_mod.find_id_column(
                rows_to_frame(sent, Limits()), exclude=kinds) == small, name
    assert nonempty == 7  # the cases with an id found an id
    larger = json.loads(request(65, 1, ids=True)[0].to_json(orient="records"))
    assert ids_mod.find_id_in_rows(larger, exclude=kinds) is NotImplemented  # the frame's path decides
    binary = [{"image_id": {"b64": "AA=="}, "x1": 1.0}]  # a value the service decodes: the frame's path
    assert ids_mod.find_id_in_rows(binary, exclude=kinds) is NotImplemented
    assert ids_mod._small_row_ids(*(Columns.of(r) for r in request(65, 1, ids=True)), kinds) is None  # larger
    twice = pd.concat([scores, rows[["applicant_id"]], rows[["applicant_id"]]], axis=1)  # a label given twice
    assert ids_mod._small_row_ids(Columns.of(plain), Columns.of(twice), kinds) is None


def test_a_flush_yields_to_requests_being_answered_and_writes_the_same_rows(tmp_path, monkeypatch):
    """The writer builds many requests' rows in slices and, between slices, waits while a request is being
    answered: the rows written are the same as one build's, and the flush does not finish while an answer
    is in progress (until the pause's limit)."""
    from core.monitor import buffer, record

    runs = {k: make_run(tmp_path / k) for k in ("sliced", "whole")}
    logs = {k: ServedLog(flush_seconds=3600) for k in runs}
    sent = [request(1 + i % 3, seed=i, ids=True) for i in range(23)]
    for k, served in logs.items():
        for rows, scores in sent:
            served.record(runs[k], rows, scores)
    monkeypatch.setattr(record, "CONCAT_SLICE", 10_000)  # "whole": one join, as before slices
    assert logs["whole"].flush() == sum(len(r) for r, _ in sent)

    monkeypatch.setattr(record, "CONCAT_SLICE", 4)
    monkeypatch.setattr(buffer, "PAUSE_LIMIT_SECONDS", 3600.0)  # only the answer's end lets the flush go on
    served = logs["sliced"]
    waits, yields = [], []
    answer = served.answering()
    answer.__enter__()  # a request in progress

    def sleep(seconds):  # the pause's wait: the answer ends after a few of them
        if seconds == buffer.YIELD_SECONDS:  # every pause first lets go of the interpreter lock
            yields.append(seconds)
            return
        waits.append(seconds)
        if len(waits) == 5:
            answer.__exit__(None, None, None)

    monkeypatch.setattr(buffer.time, "sleep", sleep)
    assert served.flush() == sum(len(r) for r, _ in sent)
    assert len(waits) == 5 and served.buffer._answering == 0  # it waited for the answer, then went on
    assert len(yields) > 23 // 4  # and paused between slices, with or without an answer in progress
    cols = ["row_id", "event_time", "score", "decision", "in.x1", "in.x2", "in.region", "id_generated"]
    got, want = (logged(runs[k]).sort_values("row_id")[cols].reset_index(drop=True) for k in ("sliced", "whole"))
    pd.testing.assert_frame_equal(got, want)
    assert list(logged(runs["sliced"]).columns) == list(logged(runs["whole"]).columns)


def test_pause_waits_only_while_a_request_is_answered_and_never_beyond_its_limit(monkeypatch):
    from core.monitor import buffer

    buf = LogBuffer(seconds=3600)
    clock, waits = [0.0], []
    monkeypatch.setattr(buffer.time, "monotonic", lambda: clock[0])

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(buffer.time, "sleep", sleep)
    buf.pause(limit=5)
    assert waits == [buffer.YIELD_SECONDS]  # nothing answered: the lock let go of for an instant, no wait
    waits.clear()
    with buf.answering(), buf.answering():
        assert buf._answering == 2
        buf.pause(limit=0.01)
    assert buf._answering == 0
    assert waits[0] == buffer.YIELD_SECONDS
    waits = waits[1:]
    assert len(waits) >= 2 and 0.01 <= sum(waits) < 0.011  # waited while answering, up to the limit, no longer


def test_a_sliced_build_writes_the_rows_of_a_one_shot_build(monkeypatch, tmp_path):
    """The flush builds in slices (rows joined a few requests at a time and level by level, the log frame column
    by column, personal data judged column by column) and gets the one-shot build's frames exactly: requests with
    and without their own ids and dates, a number sent as an integer by some and as a decimal by others, a
    category missing in a run of requests, and e-mail addresses in a column of only some requests (that
    column is left out of every row of their part, and kept in the others)."""
    from core.monitor import record
    from core.monitor.record import PredictionRecorder

    monkeypatch.setattr(record, "CONCAT_SLICE", 3)  # several levels of joins with a few requests
    run = make_run(tmp_path / "runs")
    maker = PredictionRecorder(run, source="api")
    requests = []
    for i in range(40):
        own = i % 2 == 0
        rows, scores = request(1 + i % 3, seed=i, ids=own)
        if own:
            rows["application_date"] = f"2026-03-{1 + i % 28:02d}"
            if i % 8 == 0:
                rows["x1"] = [int(v * 10) for v in range(len(rows))]  # integers here, decimals elsewhere
            if 10 <= i < 20:
                rows["region"] = None
        else:
            rows["region"] = [f"client{i}-{k}@example.com" for k in range(len(rows))]
        requests.append(maker.request_ids(rows, scores))
    pauses = []
    whole, whole_notes = PredictionRecorder(run, source="api"), []
    sliced, sliced_notes = PredictionRecorder(run, source="api"), []
    want = whole.build_requests(requests, notices=whole_notes)
    got = sliced.build_requests(requests, notices=sliced_notes, pause=lambda: pauses.append(1))
    assert len(got) == len(want) == 2 and len(pauses) > 40
    for (g_reqs, g), (w_reqs, w) in zip(got, want):
        assert g_reqs == w_reqs
        pd.testing.assert_frame_equal(g, w)
    assert sliced_notes == whole_notes and len(whole_notes) == 1 and "region" in whole_notes[0]
    given, generated = (w for _, w in want)
    assert "in.region" in given.columns and "in.region" not in generated.columns
    assert not given["id_generated"].any() and generated["id_generated"].all()
    missing = sum(len(r) for i, r in enumerate(requests) if i % 2 == 0 and 10 <= i < 20)
    assert given["event_time"].notna().all() and given["in.region"].isna().sum() == missing


def test_written_items_are_let_go_of_in_slices_and_a_writer_may_keep_its_list(monkeypatch):
    import weakref

    from core.monitor import buffer

    kept, pauses = [], []

    def sink(items):  # keeps its own list of the items' sizes, not the items
        kept.append([len(f) for f in items])
        return [], None

    buf = LogBuffer(seconds=3600)
    monkeypatch.setattr(buf, "pause", lambda: pauses.append(len(refs) - sum(r() is None for r in refs)))
    refs = []
    for i in range(2 * buffer.RELEASE_SLICE + 1):
        frame = pd.DataFrame({"row_id": [f"r{i}"], "scored_at": pd.Timestamp("2026-01-02")})
        refs.append(weakref.ref(frame))
        buf.add("r", "run", frame, sink)
        del frame
    assert buf.flush() == 2 * buffer.RELEASE_SLICE + 1
    assert kept == [[1] * (2 * buffer.RELEASE_SLICE + 1)]  # the writer saw every item
    assert all(r() is None for r in refs)  # none is held after the flush
    assert pauses == [buffer.RELEASE_SLICE + 1, 1, 0]  # alive at each pause: freed a slice at a time
    buf.close()


def test_buffered_requests_as_column_arrays_log_the_rows_and_types_written_one_request_at_a_time(tmp_path):
    """A buffered request keeps its inputs and answer as column arrays (``core.monitor.columns``), not frames:
    the log it writes holds every row, value and type that writing each request as it was answered holds."""
    buffered, direct = make_run(tmp_path / "a"), make_run(tmp_path / "b")
    later, now = ServedLog(flush_seconds=3600), ServedLog(flush_seconds=0)
    for i in range(12):
        rows, scores = request(1 + i % 3, seed=i, ids=True)
        if i % 4 == 1:
            rows["x1"] = [int(v * 10) for v in range(len(rows))]  # integers here, decimals elsewhere
        later.record(buffered, rows, scores)
        now.record(direct, rows, scores)
    assert later.pending() == sum(1 + i % 3 for i in range(12))
    later.close()
    now.close()
    a, b = (logged(r).drop(columns=["log_key", "scored_at"]).sort_values("row_id", ignore_index=True)
            for r in (buffered, direct))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_table_kept_as_column_arrays_joins_into_the_frame_pandas_joins():
    import gc

    from core.monitor.columns import Columns, join

    frames = []
    for i in range(9):
        rows, scores = request(1 + i % 2, seed=i, ids=i % 3 == 0)
        if i == 4:
            rows["region"] = None  # a missing text value
        frames.append(rows)
    odd = frames[2].assign(x1=lambda d: (d["x1"] * 10).round().astype(int))  # another type: joined by pandas
    for group in (frames, [*frames, odd], frames[:1]):
        tables = [Columns.of(f) for f in group]
        pd.testing.assert_frame_equal(join(tables), pd.concat(group, ignore_index=True), check_exact=True)
    pd.testing.assert_frame_equal(Columns.of(frames[4]).frame(), frames[4].reset_index(drop=True), check_exact=True)
    # Far fewer objects for the collector to walk than the frame it was made from.
    gc.collect()
    before = len(gc.get_objects())
    kept = [Columns.of(frames[0]) for _ in range(200)]
    tables = len(gc.get_objects()) - before
    copies = [frames[0].copy() for _ in range(200)]
    as_frames = len(gc.get_objects()) - before - tables
    assert len(kept) == len(copies) == 200 and tables * 3 < as_frames
