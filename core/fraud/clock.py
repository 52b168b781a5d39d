"""Time in a transaction log: wall-clock timestamps, or elapsed time since an unknown start.

Many published fraud logs carry no dates: the most common one counts seconds since its first
transaction (``Time``), simulators count steps. Such a column is read as elapsed time in a unit
(``UNITS``): value 0 becomes ``ORIGIN`` and every value lands that many units later, so the
windows, the label delay and the time split work as for dates. Nothing in the result claims a
calendar: the time of day is counted from the start of the log, there is no weekday, and every
message gives points in the column's own unit ("86,400 seconds, day 2"). A step is an ordered
period of unknown length; windows, delay and split count whole steps (one step = one day inside).

The unit is given (``--time-unit``, the page's selector) or guessed by ``guess_time_unit``, which
says why, so the notice can tell the analyst what was assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError

UNITS = {"seconds": 1, "minutes": 60, "hours": 3_600, "days": 86_400, "steps": 86_400}
CHOICES = ("auto", *UNITS)  # --time-unit and the page's selector
ORIGIN = pd.Timestamp("2000-01-01")  # elapsed value 0; its date and weekday carry no meaning
DAY_SECONDS = 86_400
# Header words that say the unit (checked before the values): TX_TIME_SECONDS, time_days, step.
_HINTS = {"seconds": ("seconds", "second", "secs", "sec"), "minutes": ("minutes", "minute", "mins", "min"),
          "hours": ("hours", "hour", "hrs", "hr"), "days": ("days", "day"), "steps": ("step", "steps", "tick")}
MAX_SPAN_YEARS = 200  # a nanosecond timestamp holds ~292 years around ORIGIN


def is_numeric_time(s: pd.Series) -> bool:
    """Whether a time column holds plain numbers (elapsed time) rather than dates. Compact dates
    written as numbers (20240304) count as dates."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return False
    v = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s
    filled = s.notna()
    if not filled.any() or v[filled].isna().any():
        return False
    vals = v[filled].to_numpy(float)
    if np.all(vals == np.round(vals)) and vals.min() >= 19000101 and vals.max() <= 21001231:
        dates = pd.to_datetime(pd.Series(vals.astype(np.int64)).astype(str), format="%Y%m%d", errors="coerce")
        if dates.notna().all():
            return False
    return True


def _tokens(name) -> set[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return {t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t}


def _span_words(span_units: float, unit: str) -> str:
    days = span_units * UNITS[unit] / DAY_SECONDS
    if unit == "steps":
        return f"{span_units:,.0f} steps"
    if days >= 730:
        return f"{days / 365.25:,.1f} years"
    return f"{days:,.1f} days" if days >= 1 else f"{days * 24:,.1f} hours"


def guess_time_unit(s: pd.Series, name) -> tuple[str, str]:
    """(unit, the reason in words) for a numeric time column.

    The header decides when it names a unit. Otherwise whole numbers shared by many transactions
    (20 or more per value on average) are steps, and anything else is read in the smallest unit in
    which the log covers at least a day (seconds for a two-day log counted in seconds; a log
    counted in hours only reaches a day when read as hours).
    """
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
    lo, hi = float(v.min()), float(v.max())
    hinted = [u for u, hints in _HINTS.items() if _tokens(name) & set(hints)]
    if len(hinted) == 1:
        return hinted[0], f"read as {hinted[0]} since the log's start, as its name says"
    distinct = len(np.unique(v))
    if np.all(v == np.round(v)) and len(v) / max(distinct, 1) >= 20:
        return "steps", (f"read as time steps (ordered periods of unknown length): {distinct:,} whole values, each "
                         f"shared by {len(v) / distinct:,.0f} transactions on average")
    span = hi - lo
    for unit in ("seconds", "minutes", "hours", "days"):
        if span * UNITS[unit] >= DAY_SECONDS or unit == "days":
            alt = {"seconds": "minutes", "minutes": "hours", "hours": "days", "days": "hours"}[unit]
            return unit, (f"read as {unit} since the log's start, the smallest unit in which the log covers at "
                          f"least a day ({_span_words(span, unit)}; as {alt} it would be {_span_words(span, alt)})")
    raise AssertionError("unreachable")  # "days" always returns


def resolve_time_unit(s: pd.Series, name, unit: str | None) -> tuple[str | None, str | None]:
    """(the unit to read ``s`` in, None for dates; the notice saying what was assumed, or None).

    ``unit`` is None / "auto" (guess for a numeric column, dates otherwise) or one of ``UNITS``.
    """
    if unit not in (None, "auto") and unit not in UNITS:
        raise DataValidationError(
            f"Expected a time unit of {', '.join(CHOICES)}; got '{unit}'. Fix: pass e.g. --time-unit seconds.")
    numeric = is_numeric_time(s)
    if unit in (None, "auto"):
        if not numeric:
            return None, None
        unit, why = guess_time_unit(s, name)
        v = pd.to_numeric(s, errors="coerce")
        return unit, (f"'{name}' holds numbers from {v.min():,.6g} to {v.max():,.6g}, not dates: {why}. The time "
                      "of day is counted from the log's first instant and there are no weekdays. Set the time unit "
                      "(--time-unit seconds|minutes|hours|days|steps, or the page's Time unit) if this is wrong.")
    if not numeric:
        sample = s.dropna().astype(str).head(3).tolist()
        raise DataValidationError(
            f"Expected numbers in '{name}' for --time-unit {unit} (time elapsed since the log's start); got values "
            f"such as {sample}. Fix: leave the time unit on auto for dates and times.")
    return unit, f"'{name}' is read as {unit} since the log's start (as chosen); there are no dates or weekdays."


def to_timestamps(s: pd.Series, unit: str, name) -> pd.Series:
    """Elapsed values in ``unit`` as timestamps counted from ``ORIGIN`` (value 0)."""
    v = pd.to_numeric(s, errors="coerce").astype(float)
    bad = s.notna() & v.isna()
    if bad.any():
        raise DataValidationError(
            f"Expected numbers in the time column '{name}' (read as {unit}); {int(bad.sum())} value(s) are not, "
            f"e.g. {s[bad].astype(str).head(3).tolist()}. Fix: clean those cells or pick the right time column.")
    secs = v.to_numpy() * UNITS[unit]
    finite = secs[np.isfinite(secs)]
    if len(finite) and np.abs(finite).max() > MAX_SPAN_YEARS * 365.25 * DAY_SECONDS:
        raise DataValidationError(
            f"Expected elapsed times within {MAX_SPAN_YEARS} years in '{name}'; got up to {np.abs(v).max():,.6g} "
            f"{unit}. Fix: choose a smaller time unit (e.g. seconds) or the right time column.")
    if np.all(finite == np.round(finite)):  # whole seconds stay exact (window edges compare seconds)
        delta = pd.to_timedelta(pd.Series(secs, index=s.index).astype("Int64"), unit="s")
    else:
        delta = pd.to_timedelta(pd.Series(secs, index=s.index), unit="s")
    return (ORIGIN + delta).astype("datetime64[ns]")


@dataclass(frozen=True)
class Clock:
    """How points in time are read and written for one log: dates (``unit`` None) or elapsed."""

    unit: str | None = None

    @property
    def elapsed(self) -> bool:
        return self.unit is not None

    @property
    def period_word(self) -> str:
        """What one window / delay / test unit is called: "day", or "step" for steps."""
        return "step" if self.unit == "steps" else "day"

    def value(self, ts) -> float:
        """An elapsed point as a number in the log's unit."""
        return (pd.Timestamp(ts) - ORIGIN).total_seconds() / UNITS[self.unit]

    def point(self, ts) -> str:
        """One instant in words: "2024-03-04 13:45", "86,400 seconds (day 2)", "step 17"."""
        ts = pd.Timestamp(ts)
        if not self.elapsed:
            return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"
        v = self.value(ts)
        if self.unit == "steps":
            return f"step {v:,.6g}"
        day = int(np.floor((ts - ORIGIN).total_seconds() / DAY_SECONDS)) + 1
        return f"{v:,.6g} {self.unit} (day {day})"

    def period(self, start, end) -> str:
        """A period [start, end) in words."""
        if not self.elapsed and pd.Timestamp(start) == pd.Timestamp(start).normalize() \
                and pd.Timestamp(end) == pd.Timestamp(end).normalize():
            last = pd.Timestamp(end) - pd.Timedelta(days=1)
            return f"{pd.Timestamp(start):%Y-%m-%d} .. {last:%Y-%m-%d}"
        return f"{self.point(start)} .. before {self.point(end)}"

    def span(self, first, last) -> str:
        """What the log covers, for messages: "the data run from X to Y"."""
        return f"the data run from {self.point(first)} to {self.point(last)}"

    def parse(self, value, name: str) -> pd.Timestamp:
        """A split point given by the analyst: a date (wall clock) or a number in the log's unit."""
        if self.elapsed and not isinstance(value, pd.Timestamp):
            try:
                v = float(str(value).strip().replace(",", ""))
            except ValueError:
                raise DataValidationError(
                    f"Expected {name} as a number of {self.unit} since the log's start (the time column counts "
                    f"{self.unit}); got '{value}'. Fix: e.g. {name} {3 * DAY_SECONDS // UNITS[self.unit]}.") from None
            return ORIGIN + pd.Timedelta(seconds=v * UNITS[self.unit])
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT or pd.isna(ts):
            raise DataValidationError(
                f"Expected a date for {name} like 2024-04-01; got '{value}'. Fix: use YYYY-MM-DD.")
        return ts.tz_localize(None) if ts.tzinfo else ts
