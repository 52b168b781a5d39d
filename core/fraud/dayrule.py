"""The fraud day rule: which whole days of a transaction log larger than memory training reads.

With K = the longest feature window + the label delay + 1 day (the reach of every window
feature, ``core.fraud.service.history_keep``), given every day's transactions and frauds (the first
pass over the log, ``core.fraud.sample.block_days``):

- The sample is the most recent whole days whose rows, together with the rows of the K days
  before them, number at most ``--sample-rows`` (``choose_start``). The first of those days starts
  the training period (a later ``--train-start`` is kept; an earlier one is moved to it, with a
  notice); the K days before it are read as history for the window features only, never trained
  on. Every fraud inside the sample is kept; none from outside is added, so the fraud rate the
  model learns is the recent one. When the whole log fits, every row is read.
- ``TimeSample`` says which rows were used and left out: the notice on standard error and the
  JSON's ``data.sample``.

Because no window reaches further back than K, every sampled transaction gets the features it
would get from the whole log (equal up to floating-point rounding: window sums are differences of
running sums that start at another row). Reading the blocks is ``core.scale.sample``'s part.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.errors import DataValidationError


@dataclass
class TimeSample:
    """Which rows were trained on, and why: the JSON's ``data.sample`` and the notice on stderr."""

    budget: int
    file_rows: int
    file_frauds: int
    first_day: pd.Timestamp  # first day in the file
    last_day: pd.Timestamp
    train_start: pd.Timestamp | None  # first day of the sample's training period (None: the whole log)
    history_from: pd.Timestamp | None  # first day read as feature history only
    loaded_rows: int
    history_rows: int
    sample_frauds: int
    older_frauds: int  # frauds before history_from: not read
    reach_days: int
    engine: str
    partitions: int
    files: int
    moved_train_start: str | None = None  # the --train-start that was moved to train_start
    features: object = None  # with --engine dask: the window features built on the cluster (BuiltFeatures)
    unit: str | None = None  # the log's elapsed-time unit (core.fraud.clock), None for dates

    @property
    def whole(self) -> bool:
        return self.train_start is None

    def notice(self) -> str:
        def d(ts):  # a day in the log's own terms (a date, or "86,400 seconds (day 2)" for elapsed time)
            return _day_text(ts, self.unit)

        if self.whole:
            return (f"The whole log fits --sample-rows {self.budget:,}: all {self.file_rows:,} transactions "
                    f"({d(self.first_day)} .. {d(self.last_day)}) are read.")
        left, left_frauds = self.file_rows - self.loaded_rows, self.older_frauds
        text = (f"Training on a time-aware sample of a log of {self.file_rows:,} transactions "
                f"({d(self.first_day)} .. {d(self.last_day)}): the most recent whole days that fit "
                f"--sample-rows {self.budget:,}, i.e. {self.loaded_rows - self.history_rows:,} transactions from "
                f"{d(self.train_start)} on ({self.sample_frauds:,} frauds, all kept) for the training, gap and "
                f"test periods, plus {self.history_rows:,} from the {self.reach_days} days before "
                f"({d(self.history_from)} on) read as history for the window features only. "
                f"The {left:,} older transactions ({left_frauds:,} frauds) are not used; raise --sample-rows "
                "to train on more.")
        if self.moved_train_start:
            text += f" --train-start {self.moved_train_start} was moved to {d(self.train_start)}."
        return text

    def summary(self) -> dict:
        day = (lambda d: None if d is None else _day_text(d, self.unit))
        return {
            "rule": ("most recent whole days whose rows, with the rows of the window reach before them, fit the "
                     "budget; the reach is read as feature history only; every fraud inside is kept, none "
                     "outside is added"),
            "budget_rows": self.budget, "file_rows": self.file_rows, "file_frauds": self.file_frauds,
            "file_first_day": day(self.first_day), "file_last_day": day(self.last_day),
            "whole_log": self.whole, "train_start": day(self.train_start), "history_from": day(self.history_from),
            "reach_days": self.reach_days, "rows_read": self.loaded_rows, "history_rows": self.history_rows,
            "sample_rows": self.loaded_rows - self.history_rows, "sample_frauds": self.sample_frauds,
            "rows_left_out": self.file_rows - self.loaded_rows,
            "frauds_left_out": self.older_frauds,
            "moved_train_start": self.moved_train_start,
            "engine": self.engine, "partitions": self.partitions, "files": self.files,
            "features": ({"built_on": "dask", **self.features.summary} if self.features is not None
                         else {"built_on": "this process"}),
        }


def _day_text(ts, unit: str | None) -> str:
    """A day for messages and the JSON: its date, or the point in the log's elapsed-time unit."""
    from core.fraud.clock import Clock

    return str(pd.Timestamp(ts).date()) if unit is None else Clock(unit).point(ts)


def choose_start(days: pd.DataFrame, budget: int, reach: pd.Timedelta, *, gap_days: int,
                 train_start=None, test_start=None, unit: str | None = None) -> tuple[pd.Timestamp | None, str | None]:
    """(first training day of the sample or None when the whole log fits, the --train-start moved).

    ``days``: rows and frauds per day (index: days, ascending). Raises when the budget cannot hold
    the last day with its history, or leaves no training period before the test period.
    """
    from core.fraud.split import _day, suggest_split

    total = int(days["rows"].sum())
    if total <= budget:
        return None, None
    index = days.index
    cum = days["rows"].to_numpy()[::-1].cumsum()[::-1]  # rows from each day to the end

    def rows_from(day) -> int:
        i = int(index.searchsorted(day, side="left"))
        return int(cum[i]) if i < len(cum) else 0

    fits = [d for d in index if rows_from(d - reach) <= budget]
    if not fits:
        need = rows_from(index[-1] - reach)
        raise DataValidationError(
            f"Expected --sample-rows to hold at least the last day of the log and the {reach.days} days of history "
            f"its features need ({need:,} rows); got {budget:,}. Fix: --sample-rows {need:,} or more.")
    start = fits[0]
    moved = None
    if train_start is not None:
        asked = _day(train_start, "train-start")
        if asked >= start:
            start = asked
        else:
            moved = _day_text(asked, unit)
    first_read = index[index.searchsorted(start - reach, side="left")]
    if test_start is not None:
        test = _day(test_start, "test-start")
    else:
        test = suggest_split(pd.Series([first_read, index[-1]]), gap_days=gap_days)[1]
    if start >= test - pd.Timedelta(days=gap_days):
        latest = test - pd.Timedelta(days=gap_days + 7)  # a week of training before the gap
        need = rows_from(latest - reach)
        raise DataValidationError(
            f"Expected the sample to reach back before the test period from {_day_text(test, unit)} (minus the {gap_days}-day "
            f"gap) so that some days are left to train on; got --sample-rows {budget:,}, which reaches back to "
            f"{_day_text(start, unit)} only. Fix: --sample-rows {need:,} or more for a week of training"
            + (", or a later --test-start." if test_start is not None else ", or a smaller --gap-days."))
    return start, moved
