"""Time-aware train / test split of a transaction log.

Training rows run from ``train_start`` up to ``test_start - gap_days``; test rows from
``test_start`` on. Every row before ``train_start`` is history: it feeds the window features but is
never trained or scored on. The gap mirrors the label delay: fraud in the last days before the test
period would not yet be known when the model is retrained in production.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    unit: str | None = None  # the log's elapsed-time unit (core.fraud.clock), None for dates

    def summary(self) -> dict:
        """JSON-friendly description of the periods and their sizes."""
        from core.fraud.clock import Clock

        clock = Clock(self.unit)
        history = (f"up to {(self.train_start - pd.Timedelta(days=1)).date()}"
                   if not clock.elapsed and self.train_start == self.train_start.normalize()
                   else f"before {clock.point(self.train_start)}")
        return {
            "history": f"{history} ({self.n_history:,} rows)",
            "train": f"{clock.period(self.train_start, self.train_end)} ({len(self.train_idx):,} rows)",
            "gap_days": self.gap_days,
            "test": f"{clock.period(self.test_start, self.test_end)} ({len(self.test_idx):,} rows)",
            "dropped_known_compromised_cards": self.n_dropped_known_cards,
        }


def _day(value, name: str, clock=None) -> pd.Timestamp:
    """A split point as the start of its day (whole days: the sample's day rule)."""
    from core.fraud.clock import Clock

    return (clock or Clock()).parse(value, name).normalize()


SHORT_DAYS = 4  # below this a log has no room for day-long windows, a label delay and a test period
TEST_DAYS = 7  # the test period the span must hold besides the windows and the delay (the handbook's week)


def suggest_split(times: pd.Series, *, gap_days: int = 7) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Default (train_start, test_start): last ~2 weeks tested, up to 30 days of history first.
    A log shorter than ``SHORT_DAYS`` is cut in time order: the last quarter of its span (to the
    minute) is tested, everything before it trained on."""
    if times.max() - times.min() < pd.Timedelta(days=SHORT_DAYS):
        cut = (times.min() + 0.75 * (times.max() - times.min())).floor("min")
        return times.min(), cut
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
    clock = cols.clock
    if gap_days is None or int(gap_days) < 0:
        raise DataValidationError(
            f"Expected a gap of 0 or more days; got {gap_days}. Fix: use e.g. 7 (the label delay).")
    gap_days = int(gap_days)
    auto_train, auto_test = suggest_split(times, gap_days=gap_days)
    test_start = clock.parse(test_start, "test-start") if test_start is not None else auto_test
    train_start = clock.parse(train_start, "train-start") if train_start is not None else auto_train
    train_end = test_start - pd.Timedelta(days=gap_days)
    last = times.max()
    test_end = (clock.parse(test_end, "test-end") if test_end is not None
                else last.normalize() + pd.Timedelta(days=1))
    span = clock.span(times.min(), last)
    at = clock.point
    if train_start >= train_end:
        raise DataValidationError(
            f"Expected the training period to end after it starts; got train-start {at(train_start)} "
            f"and test-start {at(test_start)} minus a {gap_days}-{clock.period_word} gap = {at(train_end)}. "
            f"Fix: move train-start earlier or test-start later ({span}).")
    t = times.to_numpy()
    train_mask = (t >= train_start.to_datetime64()) & (t < train_end.to_datetime64())
    test_mask = (t >= test_start.to_datetime64()) & (t < test_end.to_datetime64())
    if not test_mask.any():
        raise DataValidationError(
            f"Expected transactions in the test period from {at(test_start)}; got none ({span}). "
            "Fix: choose a test-start inside the data.")
    if not train_mask.any():
        raise DataValidationError(
            f"Expected transactions in the training period {clock.period(train_start, train_end)}; got none "
            f"({span}). Fix: adjust the dates.")
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
            f"{at(test_start)}; got {int(np.nansum(y[test_mask]))} fraud among "
            f"{int(test_mask.sum()):,}. Fix: choose a longer or different test period.")
    return TimeSplit(
        train_idx=np.flatnonzero(train_mask), test_idx=np.flatnonzero(test_mask),
        train_start=train_start, train_end=train_end, test_start=test_start, test_end=test_end,
        gap_days=gap_days, n_history=int((t < train_start.to_datetime64()).sum()),
        n_dropped_known_cards=dropped, unit=cols.time_unit)


def _known_compromised(log: pd.DataFrame, cols: FraudColumns, train_start: pd.Timestamp,
                       gap_days: int) -> np.ndarray:
    """Rows whose card had a fraud, from train_start on, more than ``gap_days`` before their day."""
    times = log[cols.time]
    y = log[cols.target].to_numpy(float)
    fraud_times = times.where((y == 1) & (times >= train_start))
    first_fraud = fraud_times.groupby(log[cols.customer]).transform("min")
    day = times.dt.normalize()
    return (first_fraud < day - pd.Timedelta(days=gap_days)).fillna(False).to_numpy(bool)


def fit_to_span(times: pd.Series, config, clock=None, *, has_ids: bool = True):
    """(``config`` fitted to a log shorter than its windows + label delay + a test week, the notice
    saying what changed and why; or ``config`` and None when it fits or the split was chosen).

    From ``SHORT_DAYS`` days on, the windows shrink in proportion to the span, and the gap and
    label delay are kept unless they leave under two days to train on (then both shrink, which
    the notice says may flatter the test figures). Below that, there is no room for a label delay:
    the log is cut in time order (``suggest_split``) and trained without history features, since
    terminal fraud rates would read labels the team would not have yet and customer windows would
    look back less far for training rows than for test rows.
    """
    from core.fraud.clock import Clock

    clock = clock or Clock()
    f = config.features
    if config.train_start is not None or config.test_start is not None or not f.history:
        return config, None
    span = (times.max() - times.min()) / pd.Timedelta(days=1)
    need = max(f.windows) + f.delay_days + TEST_DAYS
    if span >= need:
        return config, None
    w = clock.period_word
    have = (f"The log spans {span:,.1f} {w}s, less than the {max(f.windows)}-{w} history windows + "
            f"{f.delay_days}-{w} label delay + a {TEST_DAYS}-{w} test period ({need} {w}s)" if has_ids else
            f"The log spans {span:,.1f} {w}s, too short for a {f.delay_days}-{w} label delay and a "
            f"{TEST_DAYS}-{w} test period")
    if span < SHORT_DAYS:
        train, test = suggest_split(times)
        fitted = replace(config, gap_days=0, features=replace(f, history=False))
        text = (f"{have}: it is split in time order, the first three quarters of its span to train "
                f"({clock.period(train, test)}) and the rest to test (from {clock.point(test)}), with no gap")
        if not has_ids:
            return fitted, text + "."
        return fitted, (text + " and no history features. With no room for a label delay, terminal fraud rates "
                        "would use labels the team would not have yet, and customer windows would look back less "
                        "far for training rows than for test rows.")
    first, last = times.min().normalize(), times.max().normalize()
    n_days = (last - first).days + 1
    test_days = min(14, max(1, n_days // 4))
    gap = min(config.gap_days, max(0, n_days - test_days - 2))
    windows = tuple(sorted({max(1, int(round(x * span / need))) for x in f.windows}))
    delay = min(f.delay_days, gap)
    fitted = replace(config, gap_days=gap, features=replace(f, windows=windows, delay_days=delay))
    said = "/".join(str(x) for x in windows)
    text = f"{have}: the history windows shrink to {said} {w}s and the test period is the last {test_days} {w}s"
    if gap < config.gap_days:
        text += (f"; the gap and the label delay shrink to {gap} {w}s to leave two {w}s to train on, so labels "
                 f"arrive sooner than the {config.gap_days}-{w} delay and the test figures may flatter the model")
    else:
        text += f"; the {gap}-{w} gap and label delay are kept, so no label is used before it would be known"
    return fitted, text + "."
