"""Which period of the previous year a weekly forecast period is compared with: the holiday-aligned lag.

A year is 52 weeks and a day (two in leap years), so the week 52 weeks before a forecast week is the
same season, but the holidays that move between weeks do not follow: Easter falls anywhere from
22 March to 25 April, and a holiday flagged in the data (Thanksgiving, the Super Bowl, Christmas in
a 53-week year) can sit one week earlier or later than 52 weeks back. Seasonal naive compares a
normal week with last year's Easter week and Easter week with a normal one; both errors are large.

``aligned_lags`` gives, per period of a weekly grid, the lag (in weeks) of its reference in the year
before: the week with the same position relative to Easter Sunday when the week lies within six
days of Easter (so the same two weeks are matched whatever weekday labels the week), the nearest
flagged week when the period carries the data's holiday flag, and otherwise 52 weeks, or 53 / 51
when 52 weeks back falls on last year's Easter or a flagged holiday that this week does not have.
Other frequencies keep the season (7 days, 12 months): their periods do not drift between years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EASTER_DAYS = 6  # a weekly date within this many days of Easter Sunday is an Easter week
SEARCH = (52, 53, 51, 54, 50)  # lags tried for a flagged holiday, nearest to a year first


def easter_sunday(year: int) -> pd.Timestamp:
    """Western (Gregorian) Easter Sunday of ``year`` (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return pd.Timestamp(year=year, month=month, day=day + 1)


def easter_offsets(dates: pd.DatetimeIndex) -> np.ndarray:
    """Days from each date to Easter Sunday of its own year (negative before Easter)."""
    dates = pd.DatetimeIndex(dates)
    years = np.unique(dates.year)
    sunday = {y: easter_sunday(int(y)) for y in years}
    base = pd.DatetimeIndex([sunday[y] for y in dates.year])
    return np.asarray((dates.normalize() - base).days, dtype=int)


def aligned_lags(dates: pd.DatetimeIndex, season: int, frequency: str, holiday: np.ndarray | None = None) -> np.ndarray:
    """Per date, the lag (periods) of its reference a year before; ``season`` everywhere but weekly data.

    ``holiday`` (optional, one 0/1 value per date) is the data's holiday flag: a flagged week is
    compared with the nearest flagged week about a year before, and an unflagged week avoids one.
    Flags before the first date are unknown and count as off.
    """
    dates = pd.DatetimeIndex(dates)
    n = len(dates)
    lags = np.full(n, int(season), dtype=int)
    if frequency != "weekly" or season != 52 or n == 0:
        return lags
    back = max(SEARCH) + 1  # dates before the first one that a reference may fall on
    ext = pd.DatetimeIndex(dates[0] - pd.to_timedelta(np.arange(back, 0, -1) * 7, unit="D")).append(dates)
    off = easter_offsets(ext)
    easter = np.abs(off) <= EASTER_DAYS
    flag = np.zeros(len(ext), dtype=bool)
    if holiday is not None:
        flag[back:] = np.asarray(holiday, dtype=float) > 0.5
    q = np.arange(back, back + n)
    todo = np.ones(n, dtype=bool)
    # Easter weeks: the week at the same distance from last year's Easter Sunday (within half a week).
    e = easter[q]
    if e.any():
        years = dates.year[e]
        prev = pd.DatetimeIndex([easter_sunday(int(y) - 1) for y in years])
        target = prev + pd.to_timedelta(off[q][e], unit="D")
        lags[e] = np.rint((dates[e] - target).days.to_numpy() / 7).astype(int)
        todo &= ~e
    # Flagged weeks: the nearest flagged week about a year before.
    f = todo & flag[q]
    for lag in reversed(SEARCH):  # the first of SEARCH that matches wins
        hit = f & flag[q - lag]
        lags[hit] = lag
    todo &= ~f
    # Ordinary weeks whose week a year before was last year's Easter or a flagged holiday.
    busy = easter | flag
    clash = todo & busy[q - 52]
    chosen = np.full(n, 52)
    for lag in reversed((53, 51, 54, 50)):
        free = clash & ~busy[q - lag]
        chosen[free] = lag
    lags[clash] = chosen[clash]
    return lags
