"""A saved fraud run as a predictor that keeps each card's and terminal's history between requests.

Every request is scored as ``python -m core score`` scores one chunk of a file (``core.fraud.service.score_chunk``
over the rolling history, then ``roll_history``): the saved labelled log to start with, then every
transaction scored so far (labels unknown), trimmed to the longest window plus the label delay. So a
stream of transactions posted in time order, one by one or in batches, gets exactly the risk and
decision of scoring that stream as one file. A request older than that reach is scored with part of
its history missing, as the file scorer does, and says so in a notice.

Only the history rows that share a customer or a terminal with the request enter its window features
(every other row is outside all of its windows), which keeps a one-row request fast on a long log:
they are found through an index of the history's rows by customer and by terminal, and the rows scored
since the index was built (a short tail) are searched directly. The tail joins the history
(``roll_history``, the file scorer's step) every ``MERGE_ROWS`` rows, not on every request; until then
rows older than the history's reach are left out of a request's rows by time, so the rows a request
reads are the same as with a history rolled on every request. The state (history and latest time) is
``snapshot()`` / ``restore()``-d by the server.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from core.serve.serving import Predictor, RequestError

MERGE_ROWS = 500  # scored rows kept as the history's tail before they are rolled into it

UNORDERED = ("{n} transaction(s) are older than the service's history reaches (the longest window plus the "
             "label delay before the latest transaction seen, {last}): they were scored with part of their "
             "history missing. Post transactions in time order.")


class FraudPredictor(Predictor):
    stateful = True

    def __init__(self, run_dir: Path, *, runtime: str):
        from core.fraud.persist import load_fraud_model
        from core.fraud.service import decision_thresholds, history_keep
        from core.store.registry import read_metadata

        meta = read_metadata(run_dir)
        self.saved = load_fraud_model(run_dir, runtime=runtime)
        super().__init__(run_dir, meta, runtime=runtime)
        self.review, self.block = decision_thresholds(meta)  # what `python -m core score` decides at
        self.keep = history_keep(self.saved.feature_config)
        self._example = None
        self._set_history(self.saved.history, None)
        self.scored = 0
        self._example = self.example_row()  # from the saved log, before the predictor lets go of it
        # The saved log lives on as the rolling history only: it was held twice, and the first roll left
        # the old frame in memory for good. What else reads it (a restored state's columns) keeps its columns.
        self.saved = dataclasses.replace(self.saved, history=self.saved.history.iloc[:0])

    def _set_history(self, history: pd.DataFrame, last_time) -> None:
        self.history, self.last_time = history, last_time
        self._tail = history.iloc[:0]  # rows scored since the history was last rolled
        self._index: dict[str, dict] = {}  # key column -> {key value: row positions in the history}

    def _merge_tail(self) -> None:
        """Roll the tail into the history as the file scorer rolls a chunk (old rows dropped)."""
        from core.fraud.service import roll_history

        if len(self._tail):
            history, last = roll_history(self.history, self._tail, self.saved.columns.time, self.last_time,
                                         self.keep)
            self._set_history(history, last)

    def example_row(self) -> dict:
        """The next transaction after the saved log: its last card and terminal, a typical amount (made once,
        when the predictor is built)."""
        from core.serve.serving import personal_columns

        if self._example is not None:
            return dict(self._example)
        row = super().example_row()
        cols, hist = self.saved.columns, self.saved.history
        # A key kept as a keyed pseudonym (a card number) is shown as its pseudonym, which the run's secret
        # leaves as it is; other personal columns are not shown.
        keyed = set(getattr(self.saved.keys, "columns", ()) or ())
        private = set(personal_columns(self.meta)) - keyed
        if len(hist):
            last = hist.iloc[-1]
            after = pd.Timestamp(hist[cols.time].max()) + pd.Timedelta(minutes=5)
            # A log timed in elapsed seconds, hours or steps (core.fraud.clock) takes a number in its unit.
            row[cols.time] = (round(cols.clock.value(after), 3) if cols.time_unit
                              else after.isoformat(sep=" "))
            for c in (cols.customer, cols.terminal):
                if c and c not in private:
                    row[c] = str(last[c])
            if cols.amount not in row:
                row[cols.amount] = round(float(hist[cols.amount].median()), 2)
        return {c: row[c] for c in self.columns() if c in row}

    def _reach(self, new_log: pd.DataFrame) -> pd.DataFrame:
        """The history rows the request's window features read: those of its customers and terminals
        (in the history's order, then the tail's), none older than the history's reach."""
        import numpy as np

        cols = self.saved.columns
        keys = [c for c in (cols.customer, cols.terminal) if c]
        if not keys or any(new_log[c].isna().any() for c in keys):
            self._merge_tail()  # no key to look up: every row
            return self._filtered(self.history, keys, new_log)
        hist = self.history
        found = []
        for c in keys:
            if c not in self._index:
                self._index[c] = hist.groupby(c, sort=False, dropna=True, observed=True).indices
            found += [self._index[c].get(v) for v in pd.unique(new_log[c])]
        found = [f for f in found if f is not None]
        parts = [hist.take(np.unique(np.concatenate(found))) if found else hist.iloc[:0]]
        if len(self._tail):
            parts.append(self._filtered(self._tail, keys, new_log))
        reach = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        if self.last_time is not None:  # what rolling the history would have dropped by now
            reach = reach[(reach[cols.time] >= self.last_time - self.keep).to_numpy()].reset_index(drop=True)
        return reach

    @staticmethod
    def _filtered(frame: pd.DataFrame, keys: list[str], new_log: pd.DataFrame) -> pd.DataFrame:
        if not keys or not len(frame):
            return frame
        mask = None
        for c in keys:
            m = frame[c].isin(pd.unique(new_log[c]))
            mask = m if mask is None else mask | m
        return frame[mask].reset_index(drop=True)

    def predict(self, df: pd.DataFrame, *, remember: bool = True) -> pd.DataFrame:
        """Risk, approve / review / block and alert per transaction, in the request's order. With
        ``remember=False`` (the Runs page's "Try it") the transactions do not join the history."""
        from core.errors import DataValidationError
        from core.fraud.service import pseudonymise_keys, score_chunk
        from core.fraud.pipeline import prepare_new_transactions

        # A run whose card numbers are keyed pseudonyms: the request's are made alike with the run's secret,
        # as the batch scorer does, so histories line up and no raw card number enters the kept state.
        part = pseudonymise_keys(self.saved, self.check(df))
        cols = self.saved.columns
        try:
            new_log = prepare_new_transactions(part, cols, self.saved.extra_columns)
        except DataValidationError as exc:
            from core.serve.serving import error_parts

            times = (f"times as numbers of {cols.time_unit} since the log's start" if cols.time_unit
                     else "times as ISO 8601 (2024-05-01 13:45:00)")
            raise RequestError("transactions with a readable time and amount", error_parts(exc)["got"],
                               f"send {times} and amounts as numbers") from exc
        with self.lock:
            notices = []
            if self.last_time is not None:
                late = int((new_log[cols.time] < self.last_time - self.keep).sum())
                if late:
                    notices.append(UNORDERED.format(n=late, last=self.last_time))
            scored = score_chunk(self.saved, part, new_log, self._reach(new_log), review=self.review,
                                 block=self.block)
            if remember:
                self._tail = pd.concat([self._tail, new_log.assign(_row=-1)[self.history.columns]], ignore_index=True)
                latest = new_log[cols.time].max()
                self.last_time = latest if self.last_time is None else max(self.last_time, latest)
                if len(self._tail) >= MERGE_ROWS:
                    self._merge_tail()
                self.scored += len(part)
        out = scored[[c for c in scored.columns if c not in part.columns]].reset_index(drop=True)
        out.attrs["notices"] = notices
        return out

    def snapshot(self) -> dict:
        """The rolling history and the latest time seen (a consistent pair, taken under the lock)."""
        with self.lock:
            self._merge_tail()
            return {"history": self.history, "last_time": self.last_time, "scored": self.scored}

    def restore(self, state: dict) -> None:
        cols = self.saved.columns
        history = state["history"]
        missing = [c for c in self.saved.history.columns if c not in history.columns]
        if missing:
            raise RequestError(f"a saved state with the history columns {list(self.saved.history.columns)}",
                               f"one without {missing}", "delete the state file; the service starts from the "
                               "run's saved log")
        history = history[list(self.saved.history.columns)]
        history[cols.time] = pd.to_datetime(history[cols.time])
        with self.lock:
            self._set_history(history.reset_index(drop=True),
                              None if state.get("last_time") is None else pd.Timestamp(state["last_time"]))
            self.scored = int(state.get("scored") or 0)


def make_predictor(run_dir: Path, *, runtime: str) -> FraudPredictor:
    return FraudPredictor(run_dir, runtime=runtime)
