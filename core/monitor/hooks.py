"""The calls the HTTP service (``python -m core serve``, ``core/server/app.py``) makes into the loop.

The service's ``:predict`` route logs what it answered, and its ``:feedback`` route hands the body
over; both run in the service's thread pool (they write files)::

    from core.monitor.hooks import ServedLog, feedback_response, request_id_columns

    served = ServedLog(flush_seconds=2.0)  # one per app; served.close() on shutdown writes what is buffered

    # POST /v1/models/{name}:predict: a row id the client sends (an id-like column the model does
    # not read, such as applicant_id or transaction_id) is kept for the log, not sent to the model.
    ids = request_id_columns(p.meta, df)
    out = await run_in_threadpool(p.predict, df.drop(columns=ids))
    out = await run_in_threadpool(served.record, p.run_dir, df, out)
    # -> the predictions with a "prediction_id" per row (the request's id when it sent one, else a
    #    generated id): the id feedback sends back.

    # POST /v1/models/{name}:feedback with {"outcomes": [{"id": ..., "label": ...}, ...]}: the run's
    # buffered rows are written first, so an outcome sent right after its prediction matches it.
    await run_in_threadpool(served.flush, p.run_dir)
    status, body = await run_in_threadpool(feedback_response, p.run_dir, body_bytes)
    return JSONResponse(body, status_code=status)

``feedback_response`` answers 200 with ``core.monitor.feedback.FeedbackResult`` as JSON
(``received``, ``matched``, ``unmatched``, ``unmatched_examples``, ``repeated``, ``replaced``,
``notices``), or 400 in the service's refusal shape ``{"error": {"expected", "got", "fix",
"message"}}`` for a body it cannot use (not JSON, no outcomes, an outcome without id or label, a label
the scenario cannot read). Logging never fails a prediction: a log that cannot be written is
reported in the response's ``notices`` instead.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from core.errors import DataValidationError


class ServedLog:
    """One prediction recorder per served run (``source="api"``), shared by the service's threads.

    With ``flush_seconds`` above 0 (the service's default, ``serve --log-flush-seconds``) a request's log
    rows go to an in-memory buffer (``core.monitor.buffer.LogBuffer``) written by a background thread
    every ``flush_seconds`` (or at 2,000 rows) and on ``close()``; the ids returned are the ids logged.
    With 0 every request writes its own part before it is answered.
    """

    def __init__(self, flush_seconds: float = 0.0, *, say=None):
        from core.monitor.buffer import LogBuffer

        self._recorders: dict[str, object] = {}
        self._lock = threading.Lock()
        self._run_locks: dict[str, threading.Lock] = {}
        self._late: dict[str, list[str]] = {}  # notices found while writing, for the run's next answer
        self._keys: dict[str, str] = {}  # run folder as given -> resolved
        self.say = say
        self.flush_seconds = float(flush_seconds)
        self.buffer = LogBuffer(seconds=self.flush_seconds, say=say) if self.flush_seconds > 0 else None

    def key(self, run_dir) -> str:
        """The run folder's resolved path (resolved once per folder: it touches the disk)."""
        raw = str(run_dir)
        found = self._keys.get(raw)
        if found is None:
            found = self._keys[raw] = str(Path(run_dir).resolve())
        return found

    def recorder(self, run_dir):
        from core.monitor.record import open_recorder

        key = self.key(run_dir)
        with self._lock:
            if key not in self._recorders:
                self._recorders[key] = open_recorder(run_dir, source="api")
                self._run_locks.setdefault(key, threading.Lock())
            return self._recorders[key]

    def key_rule(self, run_dir, meta):
        """The run's keyed-pseudonym rule (``core.data.pseudonym``), or None: a request holds raw card numbers
        where the run's own files hold pseudonyms, and the log keeps only the pseudonyms."""
        from core.data.pseudonym import run_key_rule

        key = ("keys", self.key(run_dir))
        with self._lock:
            if key not in self._recorders:
                self._recorders[key] = run_key_rule(run_dir, meta)
            return self._recorders[key]

    def record(self, run_dir, inputs, predictions):
        """Log the answered rows; returns ``predictions`` with ``prediction_id`` (unchanged when the
        run is not monitored or logging is off with ``STUDIO_PREDICTION_LOG=0``)."""
        from core.monitor.record import ID_COLUMN

        ids, notes = self.record_ids(run_dir, inputs, predictions)
        if ids is None and not notes:
            return predictions
        out = predictions.copy()
        if ids is not None:
            out[ID_COLUMN] = ids
        if notes:
            out.attrs["notices"] = [*(predictions.attrs.get("notices") or []), *notes]
        return out

    def record_ids(self, run_dir, inputs, predictions) -> tuple:
        """Log the answered rows without touching ``predictions``: (their ``prediction_id`` values in order,
        or None when nothing was logged; the notices the answer should carry). The service adds both to
        its JSON answer itself: copying a one-row frame to add one column cost more than logging it."""
        from core.monitor.record import LOG_ERRORS, Request

        rec = self.recorder(run_dir)
        if rec is None:
            return None, []
        key = self.key(run_dir)
        rule = self.key_rule(run_dir, rec.meta)
        if rule is not None and inputs is not None:  # the request's raw keys, made the pseudonyms the model read
            inputs = rule.apply(inputs)
        with self._run_locks[key]:  # the recorder's notices and id bookkeeping, one request at a time
            before = len(rec.notices)
            try:  # buffered, most scenarios: the ids now, the log rows of many requests built at flush
                item = rec.request_ids(inputs, predictions) if self.buffer is not None else None
                frame = item if item is not None else rec.prepare(inputs, predictions)
            except LOG_ERRORS as exc:
                frame = None
                rec.fail(exc)
            notes = rec.notices[before:] + self._late.pop(key, [])
        if frame is not None and self.buffer is not None:
            notes += self.buffer.add(key, run_dir, frame, lambda items: self._write(key, rec, items))
        elif frame is not None:
            try:
                rec.write(frame)
            except LOG_ERRORS as exc:
                frame = None
                with self._run_locks[key]:
                    rec.fail(exc)
                    notes.append(rec.notices[-1])
        if frame is None and rec.notices:  # the log failed once: try again with a fresh recorder next time
            with self._lock:
                self._recorders.pop(key, None)
        ids = None if frame is None else frame.ids if isinstance(frame, Request) else frame["row_id"].to_numpy()
        return ids, notes

    def _write(self, key: str, rec, items: list) -> tuple[list, str | None]:
        """The buffer's writer for one run: build the waiting requests' log rows at once and append them;
        (items not written, the write's error or None). Notices found while building (personal data left
        out, rows that cannot be logged) go with the run's next answer and to standard error."""
        import pandas as pd

        from core.monitor.record import LOG_ERRORS, Request

        requests = [i for i in items if isinstance(i, Request)]
        parts = []
        if requests:
            # Built without the run's lock: a request answered meanwhile takes that lock for its ids only,
            # and no longer waits for the rows of the many requests before it to be built.
            late: list[str] = []
            parts += rec.build_requests(requests, notices=late, pause=self.pause)
            if late:
                with self._run_locks[key]:
                    rec.notices.extend(late)
                    self._late.setdefault(key, []).extend(late)
            for line in late:
                if self.say is not None:
                    self.say(line)
        parts += [(g, g[0] if len(g) == 1 else pd.concat(g, ignore_index=True))
                  for g in _groups([i for i in items if not isinstance(i, Request)])]
        left, error = [], None
        for done, frame in parts:
            if error is None:
                try:
                    self.pause()
                    rec.write(frame, pause=self.pause)
                except LOG_ERRORS as exc:  # a full disk, permissions: kept for the next flush
                    error = str(exc)
            if error is not None:
                left += done
        return left, error

    def answering(self):
        """A context the service holds while it answers a request (a flush in progress yields to it)."""
        return contextlib.nullcontext() if self.buffer is None else self.buffer.answering()

    def pause(self) -> None:
        if self.buffer is not None:
            self.buffer.pause()

    def flush(self, run_dir=None) -> int:
        """Write the buffered rows now (one run's, or all); the rows written (0 without a buffer)."""
        if self.buffer is None:
            return 0
        return self.buffer.flush(None if run_dir is None else self.key(run_dir))

    def pending(self) -> int:
        return 0 if self.buffer is None else self.buffer.pending()

    def close(self) -> list[str]:
        """Write everything buffered (the service's shutdown); lines about rows that could not be written."""
        return [] if self.buffer is None else self.buffer.close()


def _groups(frames: list) -> list[list]:
    """Built log rows that can go in one Parquet part: the same day scored, the same columns and types."""
    out: dict[tuple, list] = {}
    for f in frames:
        day = f["scored_at"].max().date() if "scored_at" in f else None
        out.setdefault((day, tuple((str(c), str(t)) for c, t in f.dtypes.items())), []).append(f)
    return list(out.values())


SERVED_LOG = ServedLog()  # writes each call at once; the service builds its own, buffered (core/server/app.py)


def request_id_columns(meta: dict, df, rows: list | None = None) -> list[str]:
    """The request's row-id column (id-like name, a distinct value per row, not read by the model),
    as a list of at most one name; [] when the run is not monitored or the request has none. ``rows``:
    the JSON instances ``df`` was built from (dicts of field -> value), whose values are read instead of
    the frame's when the request is small (``core.monitor.ids.find_id_in_rows``: the same choice)."""
    from core.monitor.ids import find_id_column, find_id_in_rows
    from core.monitor.spec import input_columns
    from core.store.scenarios import find_scenario

    scenario = find_scenario(meta.get("scenario"))
    if scenario is None or scenario.monitor() is None or not len(df.columns):
        return []
    kinds = input_columns(meta)
    col = find_id_in_rows(rows, exclude=kinds) if rows is not None else NotImplemented
    if col is NotImplemented:
        col = find_id_column(df, exclude=kinds)
    return [col] if col is not None and col in df.columns else []


def feedback_response(run_dir, body) -> tuple[int, dict]:
    """(HTTP status, JSON body) for ``POST /v1/models/{name}:feedback`` (see the module docstring)."""
    from core.monitor.feedback import record_feedback

    try:
        if isinstance(body, (bytes, bytearray, str)):
            try:
                body = json.loads(body or b"null")
            except ValueError as exc:
                raise DataValidationError(f'Expected a JSON body {{"outcomes": [{{"id": ..., "label": ...}}]}}; got text '
                                          f"that is not JSON ({exc}). Fix: send JSON with Content-Type: "
                                          "application/json.") from exc
        if not isinstance(body, dict) or "outcomes" not in body:
            raise DataValidationError('Expected a JSON object with "outcomes": [{"id": ..., "label": ...}]; got '
                                      f"{type(body).__name__ if not isinstance(body, dict) else 'an object without it'}. "
                                      'Fix: send {"outcomes": [{"id": "A1", "label": 1}]}.')
        return 200, record_feedback(run_dir, body["outcomes"]).to_dict()
    except DataValidationError as exc:
        from core.serve.serving import error_parts

        return 400, {"error": error_parts(exc)}
