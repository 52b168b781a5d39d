"""Time-aware train / test split of a transaction log.

Training rows run from ``train_start`` up to ``test_start - gap_days``; test rows from
``test_start`` on. Every row before ``train_start`` is history: it feeds the window features but is
never trained or scored on. The gap mirrors the label delay: fraud in the last days before the test
period would not yet be known when the model is retrained in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.fraud.columns import FraudColumns


@dataclass(frozen=True)
class TimeSplit:
    """Row positions (in the prepared, time-sorted log) of the training and test periods."""

    train_idx: np.ndarray
    test_idx: np.ndarray
    train_start: pd.Timestamp
    train_end: pd.Timestamp  # exclusive
    test_start: pd.Timestamp
    test_end: pd.Timestamp  # exclusive
    gap_days: int
    n_history: int
    n_dropped_known_cards: int

    def summary(self) -> dict:
        """JSON-friendly description of the periods and their sizes."""
        day = pd.Timedelta(days=1)
        return {
            "history": f"up to {(self.train_start - day).date()} ({self.n_history:,} rows)",
            "train": f"{self.train_start.date()} .. {(self.train_end - day).date()} "
                     f"({len(self.train_idx):,} rows)",
            "gap_days": self.gap_days,
            "test": f"{self.test_start.date()} .. {(self.test_end - day).date()} "
                    f"({len(self.test_idx):,} rows)",
            "dropped_known_compromised_cards": self.n_dropped_known_cards,
        }


def _day(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise DataValidationError(
            f"Expected a date for {name} like 2024-04-01; got '{value}'. Fix: use YYYY-MM-DD.")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def suggest_split(times: pd.Series, *, gap_days: int = 7) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Default (train_start, test_start): last ~2 weeks tested, up to 30 days of history first."""
    first, last = times.min().normalize(), times.max().normalize()
    n_days = (last - first).days + 1
    test_days = min(14, max(1, n_days // 4))
    gap = min(gap_days, max(0, n_days - test_days - 2))
    remaining = max(1, n_days - test_days - gap)
    train_days = max(remaining // 3, min(14, remaining))
    history = remaining - train_days
    if history > 30:
        train_days += history - 30
        history = 30
    return first + pd.Timedelta(days=history), first + pd.Timedelta(days=n_days - test_days)


def split_by_time(log: pd.DataFrame, cols: FraudColumns, *, train_start=None, test_start=None,
                  gap_days: int = 7, test_end=None, drop_known_cards: bool = True) -> TimeSplit:
    """Split a prepared log by time. Raises :class:`DataValidationError` for unusable periods.

    With ``drop_known_cards`` (the handbook's convention), test rows of cards that already had a
    fraud whose label was known on that day (from ``train_start`` up to ``gap_days`` before the
    day) are set aside: such a card is blocked in practice and never reaches the model.
    """
    times = log[cols.time]
    if gap_days is None or int(gap_days) < 0:
        raise DataValidationError(
            f"Expected a gap of 0 or more days; got {gap_days}. Fix: use e.g. 7 (the label delay).")
    gap_days = int(gap_days)
    auto_train, auto_test = suggest_split(times, gap_days=gap_days)
    test_start = _day(test_start, "test-start") if test_start is not None else auto_test
    train_start = _day(train_start, "train-start") if train_start is not None else auto_train
    train_end = test_start - pd.Timedelta(days=gap_days)
    last = times.max()
    test_end = (_day(test_end, "test-end") if test_end is not None
                else last.normalize() + pd.Timedelta(days=1))
    span = f"the data run from {times.min().date()} to {last.date()}"
    if train_start >= train_end:
        raise DataValidationError(
            f"Expected the training period to end after it starts; got train-start {train_start.date()} "
            f"and test-start {test_start.date()} minus a {gap_days}-day gap = {train_end.date()}. "
            f"Fix: move train-start earlier or test-start later ({span}).")
    t = times.to_numpy()
    train_mask = (t >= train_start.to_datetime64()) & (t < train_end.to_datetime64())
    test_mask = (t >= test_start.to_datetime64()) & (t < test_end.to_datetime64())
    if not test_mask.any():
        raise DataValidationError(
            f"Expected transactions in the test period from {test_start.date()}; got none ({span}). "
            "Fix: choose a test-start inside the data.")
    if not train_mask.any():
        raise DataValidationError(
            f"Expected transactions in the training period {train_start.date()} .. "
            f"{(train_end - pd.Timedelta(days=1)).date()}; got none ({span}). Fix: adjust the dates.")
    y = log[cols.target].to_numpy(float)
    n_train_fraud = int(np.nansum(y[train_mask]))
    if n_train_fraud < 2:
        raise DataValidationError(
            f"Expected fraud cases in the training period to learn from; got {n_train_fraud} among "
            f"{int(train_mask.sum()):,} transactions. Fix: start training earlier or use a longer period.")
    dropped = 0
    if drop_known_cards and cols.customer:
        known = _known_compromised(log, cols, train_start, gap_days)
        dropped = int((test_mask & known).sum())
        test_mask &= ~known
    if np.nansum(y[test_mask]) < 1 or np.nansum(y[test_mask]) == test_mask.sum():
        raise DataValidationError(
            f"Expected both fraud and legitimate transactions in the test period from "
            f"{test_start.date()}; got {int(np.nansum(y[test_mask]))} fraud among "
            f"{int(test_mask.sum()):,}. Fix: choose a longer or different test period.")
    return TimeSplit(
        train_idx=np.flatnonzero(train_mask), test_idx=np.flatnonzero(test_mask),
        train_start=train_start, train_end=train_end, test_start=test_start, test_end=test_end,
        gap_days=gap_days, n_history=int((t < train_start.to_datetime64()).sum()),
        n_dropped_known_cards=dropped)


def _known_compromised(log: pd.DataFrame, cols: FraudColumns, train_start: pd.Timestamp,
                       gap_days: int) -> np.ndarray:
    """Rows whose card had a fraud, from train_start on, more than ``gap_days`` before their day."""
    times = log[cols.time]
    y = log[cols.target].to_numpy(float)
    fraud_times = times.where((y == 1) & (times >= train_start))
    first_fraud = fraud_times.groupby(log[cols.customer]).transform("min")
    day = times.dt.normalize()
    return (first_fraud < day - pd.Timedelta(days=gap_days)).fillna(False).to_numpy(bool)
