"""Recording scored rows in a run's prediction log: one call per door.

``PredictionRecorder(run_dir, source=...)`` is opened once by each door (``python -m core score``
with ``source="cli"``, the Score page with ``"page"``, the HTTP service with ``"api"``) and called
with each scored batch or chunk: ``ids = recorder.record(inputs, scored)``. The scenario's
``monitor()`` hook turns the rows into log rows (id, event time, score, decision, the inputs as the
model read them); the recorder adds the key, the time and the door, leaves personal data out, gives
rows without an id a generated one (``prediction_id``, returned so outcomes can be matched later)
and appends one Parquet file (``core.monitor.store``).

Personal data never enters the log: an input column the run recorded as personal data (left out or
pseudonymised when it was trained) or that looks like personal data in this batch
(``core.data.privacy.detect_personal_columns``: e-mail, phone, card, IBAN, national id, names) is left
out of the log, with a notice. A pseudonym (a keyed hash that replaced a card number) is logged as
it is: it is what the model read.

Logging never stops a scoring: if the log cannot be written, the rows are scored, the output is
written, and a notice says that these rows are not monitored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.monitor.columns import Columns, join
from core.monitor.store import INPUT_PREFIX, PREDICTIONS, apply_retention, utc_now, write_part

ID_COLUMN = "prediction_id"  # the column a generated id is returned in
LOG_ENV = "STUDIO_PREDICTION_LOG"  # "0" turns the log off for every door of this process
SOURCES = ("cli", "page", "api")
LOG_ERRORS = (DataValidationError, OSError, ValueError, KeyError)  # what stops a log write, never a scoring


def logging_enabled() -> bool:
    import os

    return os.environ.get(LOG_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class PredictionRecorder:
    """Appends scored rows of one run to its prediction log (see the module docstring)."""

    def __init__(self, run_dir, *, source: str, meta: dict | None = None, deferred: bool = False):
        from core.store.registry import read_metadata
        from core.store.scenarios import find_scenario

        if source not in SOURCES:
            raise DataValidationError(f"Expected the scoring door as one of {', '.join(SOURCES)}; got '{source}'. "
                                      "Fix: pass source='cli', 'page' or 'api'.")
        self.run_dir = Path(run_dir)
        self.meta = meta if meta is not None else read_metadata(self.run_dir)
        scenario = find_scenario(self.meta.get("scenario"))
        spec = scenario.monitor() if scenario is not None and hasattr(scenario, "monitor") else None
        self.spec = spec if spec is not None and not spec.unsupported(self.meta) else None
        self.source = source
        self.deferred = deferred  # parts stay hidden until commit() (the CLI: once its output is in place)
        self._pending: list[Path] = []
        self.rows = 0
        self.generated = False  # whether any row got a generated id
        # Whether the door's output carries ID_COLUMN: decided on the first batch (a CSV written chunk
        # by chunk keeps the columns of its first chunk).
        self.id_in_output: bool | None = None
        self._unreturned = 0
        self.notices: list[str] = []
        self._left_out: set[str] = set()
        self._failed = False
        self._retention_checked = False

    @property
    def active(self) -> bool:
        return self.spec is not None and not self._failed

    def record(self, inputs: pd.DataFrame | None, scored: pd.DataFrame) -> pd.Series | None:
        """Log the rows of ``scored`` (with ``inputs``, the rows the model read, when they align);
        returns their ids in ``scored``'s order, or None when nothing was logged."""
        try:
            frame = self.prepare(inputs, scored)
            if frame is None:
                return None
            self.write(frame)
        except LOG_ERRORS as exc:
            self.fail(exc)
            return None
        return pd.Series(frame["row_id"].to_numpy(), index=scored.index, name=ID_COLUMN)

    def prepare(self, inputs: pd.DataFrame | None, scored: pd.DataFrame) -> pd.DataFrame | None:
        """The log rows of ``scored`` (ids, key, time and door added, personal data left out), not yet
        written; None when nothing is to be logged. Raises one of ``LOG_ERRORS`` for rows it cannot log.
        The HTTP service buffers these and writes many requests' rows at once (``core.monitor.buffer``)."""
        if not self.active or scored is None or not len(scored):
            return None
        batch = uuid.uuid4().hex[:12]
        frame, missing = self.log_rows(inputs, scored, batch)
        if missing.any():
            self.generated = True
        if self.id_in_output is None:
            self.id_in_output = bool(missing.any())
        elif not self.id_in_output:
            self._unreturned += int(missing.sum())
        return frame

    def request_ids(self, inputs: pd.DataFrame | None, scored: pd.DataFrame) -> "Request | None":
        """A request's ids now (its id column's values, else generated) and what to log later with
        ``write_requests``; None when nothing is logged or the scenario's log rows need ``prepare``
        (``MonitorSpec.batch_log``)."""
        if not self.active or scored is None or not len(scored) or not getattr(self.spec, "batch_log", False):
            return None
        tables = (None if inputs is None else Columns.of(inputs), Columns.of(scored))
        # A plain object array: a pandas Series's masked assignment cost half a millisecond a request.
        ids = self.spec.row_id_values(self.meta, inputs, scored, tables)
        batch = uuid.uuid4().hex[:12]
        missing = pd.isna(ids)
        if missing.any():
            for i in np.flatnonzero(missing):
                ids[i] = f"p-{batch}-{i:06d}"
            self.generated = True
        if self.id_in_output is None:
            self.id_in_output = bool(missing.any())
        elif not self.id_in_output:
            self._unreturned += int(missing.sum())
        return Request(*tables, ids, missing, batch, utc_now())

    def build_requests(self, requests: list["Request"], *, notices: list[str] | None = None, pause=None
                       ) -> list[tuple[list["Request"], pd.DataFrame]]:
        """The log rows of many requests built at once: one ``log_frame`` over the requests of a day with the
        same columns, each row with the id it was answered with; (requests, rows) per part to write. A group
        that cannot be built is built request by request, and a request that cannot be built alone is left
        out with a notice (it would fail the same way on every try). Notices go to ``notices`` when given
        (the service's writer thread builds without the lock its requests take; it hands them on itself),
        else to ``self.notices``. ``pause()``, when given, is called between slices of the work (the service's
        buffer: it waits while requests are being answered)."""
        sink = self.notices if notices is None else notices
        groups: dict[tuple, list[Request]] = {}
        for k, r in enumerate(requests):
            if pause is not None and k and not k % (4 * CONCAT_SLICE):
                pause()
            # ``tolist()``: iterating pandas' Arrow-backed column labels one by one cost 0.5 ms a request
            key = (r.now.date(), None if r.inputs is None else tuple(map(str, r.inputs.names)),
                   tuple(map(str, r.scored.names)))
            groups.setdefault(key, []).append(r)
        out = []
        for same in groups.values():
            try:
                out.append((same, self._build(same, sink, pause)))
            except LOG_ERRORS:
                for r in same:
                    try:
                        out.append(([r], self._build([r], sink)))
                    except LOG_ERRORS as exc:
                        sink.append(f"{len(r):,} answered row(s) were not recorded in the run's prediction "
                                            f"log ({exc}); they will not appear on the Monitor page.")
        return out

    def _build(self, same: list["Request"], notices: list[str], pause=None) -> pd.DataFrame:
        if pause is None:
            inputs = None if same[0].inputs is None else join([r.inputs for r in same])
            frame = self.spec.log_frame(self.meta, inputs, join([r.scored for r in same]))
        else:  # in slices, each short, with ``pause()`` between them (see ``build_requests``)
            frame = self.spec.log_frame(self.meta, None, self._rows(same, pause), pause=pause)
        frame = self._without_personal_data(frame, notices, pause)
        step = pause if pause is not None else (lambda: None)  # a pause before each added column
        step()
        frame["row_id"] = np.concatenate([r.ids for r in same])
        frame["id_generated"] = np.concatenate([r.missing for r in same])
        step()
        frame.insert(0, "log_key", [f"{r.batch}-{i}" for r in same for i in range(len(r))])
        step()
        frame.insert(3, "scored_at", pd.Series(np.repeat(np.array([r.now.to_datetime64() for r in same]),
                                                         [len(r) for r in same]), dtype="datetime64[us]").to_numpy())
        step()
        frame.insert(4, "source", self.source)
        return frame

    def _rows(self, same: list["Request"], pause) -> pd.DataFrame:
        """The requests' answered rows with the inputs the model read beside them (``rows_with_inputs``, what
        a ``batch_log`` spec's ``log_frame`` reads), with ``pause()`` between the steps: the same frame as
        joining all inputs, all answers, then the two. Requests that keep their values as blocks (the usual
        case: ``core.monitor.columns``) are joined all at once, column by column: one frame of all the rows,
        where joining them ``CONCAT_SLICE`` requests at a time built and joined dozens of small frames (most
        of a flush's CPU). Others are joined ``CONCAT_SLICE`` requests at a time."""
        from core.monitor.columns import plain
        from core.monitor.spec import input_columns, rows_with_inputs

        kinds = input_columns(self.meta)
        step = len(same) if plain([r.scored for r in same] + [r.inputs for r in same if r.inputs is not None]) \
            else CONCAT_SLICE
        parts = []
        for i in range(0, len(same), step):
            chunk = same[i:i + step]
            if i:
                pause()
            scored = join([r.scored for r in chunk], pause)
            if chunk[0].inputs is not None:
                pause()
                inputs = join([r.inputs for r in chunk], pause)
                pause()
                scored = rows_with_inputs(inputs, scored, kinds)
            parts.append(scored)
        return _concat(parts, pause)

    def write(self, frame: pd.DataFrame, *, now: pd.Timestamp | None = None, pause=None) -> None:
        """Append prepared log rows (``prepare``) as one Parquet part; raises ``DataValidationError`` when
        the log cannot be written. The part goes in the day folder of its latest ``scored_at``. ``pause()``,
        when given, is called between the write's steps (``write_part``)."""
        now = now if now is not None else pd.Timestamp(frame["scored_at"].max())
        path = write_part(self.run_dir, PREDICTIONS, frame, now=now, pending=self.deferred, pause=pause)
        if self.deferred and path is not None:
            self._pending.append(path)
        self._check_retention()
        self.rows += len(frame)

    def log_rows(self, inputs: pd.DataFrame | None, scored: pd.DataFrame, batch: str) -> tuple[pd.DataFrame, np.ndarray]:
        """(the log rows of ``scored``, which of them got a generated id ``p-<batch>-<i>``), written
        nowhere: ``record`` appends them, a Dask worker stages them (``core.scale.predlog``)."""
        frame = self.spec.log_frame(self.meta, inputs, scored)
        frame = self._without_personal_data(frame)
        missing = frame["row_id"].isna().to_numpy()
        if missing.any():
            frame.loc[missing, "row_id"] = [f"p-{batch}-{i:06d}" for i in np.flatnonzero(missing)]
        frame["id_generated"] = missing
        now = utc_now()
        frame.insert(0, "log_key", [f"{batch}-{i}" for i in range(len(frame))])
        frame.insert(3, "scored_at", pd.Series([now] * len(frame), dtype="datetime64[us]").to_numpy())
        frame.insert(4, "source", self.source)
        return frame, missing

    def decide_ids(self, rows: pd.DataFrame) -> bool:
        """Decide, before any row is scored, whether the output carries ``prediction_id``: as ``record``
        decides on its first batch, from ``rows`` (the first rows as the scorer keeps them): when they
        have no id column, or an id missing. A scorer writing blocks in parallel needs this up front."""
        cols = self.spec.id_columns(self.meta, rows) if self.active else []
        cols = [c for c in cols if c in rows.columns]
        self.id_in_output = not cols or bool(rows[cols].isna().any(axis=None))
        return self.id_in_output

    def adopt(self, frames, blocks: list[dict]) -> None:
        """Append log rows built elsewhere (Dask workers, ``core.scale.predlog``): ``frames`` yields each
        block's log rows in order, ``blocks`` are the workers' counts (rows, generated and unreturned
        ids, personal columns left out, errors). All or nothing: if any block could not build its
        rows, or the log cannot be written, none of them is logged and a notice says so."""
        for b in blocks:
            self._note_left_out(b.get("left_out") or [])
        errors = [b["error"] for b in blocks if b.get("error")]
        if errors:
            self.fail(errors[0])
            return
        written: list[Path] = []
        rows = 0
        try:
            for frame in frames:
                path = write_part(self.run_dir, PREDICTIONS, frame, pending=self.deferred)
                if path is not None:
                    written.append(path)
                    rows += len(frame)
            self._check_retention()
        except (DataValidationError, OSError, ValueError) as exc:
            from core.monitor.store import discard

            if self.deferred:
                discard(written)
            self.fail(exc)
            return
        if self.deferred:
            self._pending += written
        self.rows += rows
        self.generated = self.generated or any(b.get("generated") for b in blocks)
        self._unreturned += sum(int(b.get("unreturned") or 0) for b in blocks)

    def _check_retention(self) -> None:
        if not self._retention_checked:  # once per door opening: old day folders go
            self._retention_checked = True
            apply_retention(self.run_dir)

    def fail(self, exc) -> None:
        """Stop logging with this recorder, with the notice the door shows."""
        self._failed = True
        self.notices.append(f"These predictions were scored but not recorded in the run's prediction log "
                            f"({exc}); they will not appear on the Monitor page.")

    def commit(self) -> None:
        """Publish the parts logged with ``deferred`` (the scoring's output is complete)."""
        from core.monitor.store import publish

        try:
            publish(self._pending)
        except OSError as exc:
            self.notices.append(f"The predictions were scored but not recorded in the run's prediction log ({exc}).")
            self.rows = 0
        self._pending = []

    def abort(self) -> None:
        """Drop the parts logged with ``deferred`` (the scoring failed: nobody received them)."""
        from core.monitor.store import discard

        discard(self._pending)
        self._pending, self.rows = [], 0

    def _without_personal_data(self, frame: pd.DataFrame, notices: list[str] | None = None,
                               pause=None) -> pd.DataFrame:
        """``frame`` without the input columns that are personal data: the run's recorded ones, and those whose
        values in the first 2,000 rows look like it (a column is left out of every row or of none). The columns
        are looked at one by one, with ``pause()`` between them when given."""
        from core.data.privacy import detect_personal_columns

        inputs = [c for c in frame.columns if c.startswith(INPUT_PREFIX)]
        recorded = set(personal_columns(self.meta))
        sample = frame[inputs].head(2_000).rename(columns=lambda c: c[len(INPUT_PREFIX):])
        if pause is not None:
            pause()
        found = {p.column for p in detect_personal_columns(sample, pause=pause)}
        drop = [c for c in inputs if c[len(INPUT_PREFIX):] in recorded | found]
        self._note_left_out((c[len(INPUT_PREFIX):] for c in drop), notices)
        return frame.drop(columns=drop)

    def _note_left_out(self, columns, notices: list[str] | None = None) -> None:
        new = sorted(set(map(str, columns)) - self._left_out)
        if new:
            self._left_out.update(new)
            (self.notices if notices is None else notices).append(f"Personal data is never logged: {', '.join(new)} "
                                f"{'is' if len(new) == 1 else 'are'} left out of the prediction log.")

    @property
    def left_out(self) -> list[str]:
        """The personal columns left out of the log so far."""
        return sorted(self._left_out)

    def summary(self) -> dict:
        """What the door reports: rows logged, where, and whether ids were generated."""
        from core.monitor.store import log_dir

        return {"rows": self.rows, "location": str(log_dir(self.run_dir)), "source": self.source,
                "generated_ids": bool(self.id_in_output), "notices": list(self.notices)}

    def notice(self) -> str | None:
        """One line for the user after scoring (None when nothing was logged and nothing went wrong)."""
        if not self.rows:
            return self.notices[-1] if self.notices else None
        ids = (f" Rows without an id got a generated id in the '{ID_COLUMN}' column: send outcomes back "
               "with it.") if self.id_in_output else ""
        lost = (f" {self._unreturned:,} row(s) had an empty id and were logged under generated ids that are not in "
                "the output: give every row an id to match their outcomes.") if self._unreturned else ""
        return f"{self.rows:,} predictions recorded in the run's prediction log.{ids}{lost}"


@dataclass
class Request:
    """One request's answered rows, waiting in the service's buffer (``PredictionRecorder.request_ids``): its
    inputs and answer as plain column arrays (``core.monitor.columns``), not DataFrames."""

    inputs: Columns | None
    scored: Columns
    ids: np.ndarray
    missing: np.ndarray
    batch: str
    now: pd.Timestamp

    def __len__(self) -> int:
        return len(self.ids)


CONCAT_SLICE = 16  # requests' frames joined at a time between pauses (see ``_concat``)


def _concat(frames: list[pd.DataFrame], pause=None) -> pd.DataFrame:
    """``pd.concat(frames, ignore_index=True)``; with ``pause``, joined ``CONCAT_SLICE`` frames at a time with a
    ``pause()`` between joins, level by level (the joined slices are joined the same way until one frame is
    left: no single join of hundreds of frames). The same columns and types: pandas promotes a column's type
    the same way in one step or several."""
    if pause is None or len(frames) <= CONCAT_SLICE:
        return pd.concat(frames, ignore_index=True)
    while len(frames) > 1:
        parts = []
        for i in range(0, len(frames), CONCAT_SLICE):
            pause()
            parts.append(pd.concat(frames[i:i + CONCAT_SLICE], ignore_index=True))
        frames = parts
    return frames[0]


def personal_columns(meta: dict) -> list[str]:
    """Columns the run recorded as personal data when it was trained (names only)."""
    from core.store.runmeta import section

    found = section(meta, "dataset").get("personal_data")
    return [str(p.get("column")) for p in found or [] if isinstance(p, dict) and p.get("column") is not None]


def open_recorder(run_dir, *, source: str, meta: dict | None = None, enabled: bool = True,
                  deferred: bool = False) -> PredictionRecorder | None:
    """A recorder for the run, or None when logging is off (``enabled=False``, e.g. ``--no-log``, or
    ``STUDIO_PREDICTION_LOG=0``) or the run's scenario has no monitoring."""
    if not enabled or not logging_enabled():
        return None
    recorder = PredictionRecorder(run_dir, source=source, meta=meta, deferred=deferred)
    return recorder if recorder.spec is not None else None


def attach_ids(recorder: PredictionRecorder | None, inputs, scored: pd.DataFrame) -> pd.DataFrame:
    """Record ``scored`` and return it with the generated ids in ``prediction_id`` when rows had none
    (the door's output then carries the id feedback needs)."""
    if recorder is None:
        return scored
    ids = recorder.record(inputs, scored)
    if ids is not None and recorder.id_in_output and ID_COLUMN not in scored.columns:
        scored = scored.copy()
        scored[ID_COLUMN] = ids.to_numpy()
    return scored
