"""Parts of a forecast window both window versions share (``core.demand.features`` builds version 1,
``core.demand.windows`` version 2): calendar inputs, which covariates enter the history and which the
forecast periods, the horizon's steps and positions, and the ``Windows`` the network reads. Kept apart so
neither version imports the other back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - types only
    from core.demand.features import WindowConfig


def calendar_features(dates: pd.DatetimeIndex, frequency: str) -> tuple[np.ndarray, list[str]]:
    """Calendar features known for any date: day of week / day of year, week of year or month."""
    dates = pd.DatetimeIndex(dates)
    if frequency == "daily":
        dow = np.eye(7)[dates.day_of_week]
        ang = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
        cols = [dow, np.sin(ang)[:, None], np.cos(ang)[:, None]]
        names = [f"day of week {i}" for i in range(7)] + ["day of year sin", "day of year cos"]
    elif frequency == "weekly":
        ang = 2 * np.pi * dates.isocalendar().week.to_numpy(dtype=float) / 52.18
        cols = [np.sin(ang)[:, None], np.cos(ang)[:, None]]
        names = ["week of year sin", "week of year cos"]
    else:
        cols = [np.eye(12)[dates.month - 1]]
        names = [f"month {i}" for i in range(1, 13)]
    return np.concatenate(cols, axis=1).astype(np.float32), names


@dataclass
class Windows:
    """Model inputs for N forecast origins (and targets when the future is known)."""

    hist: np.ndarray  # (N, L * (1 + k) + 1)
    fut: np.ndarray  # (N, H, F)
    ref: np.ndarray  # (N, H, 1) seasonal-naive reference, scaled
    level: np.ndarray  # (N,) window level, log1p space
    target: np.ndarray | None  # (N, H) scaled, or None
    sid: np.ndarray  # (N,) series id per window
    origin: np.ndarray  # (N,) index of the last observed period
    weight: np.ndarray | None = None  # (N, H) loss weight per target (version 2; 0 = masked)

    def inputs(self) -> list[np.ndarray]:
        return [self.hist, self.fut, self.ref]

    def __len__(self) -> int:
        return len(self.level)


def history_covariates(cfg: WindowConfig) -> list[str]:
    """Covariates whose past values the history input holds (``cfg.past``): the 0/1 flags (a promotion's after-effect
    shows in the weeks after it) and the observed covariates (``cfg.lagged``). Other continuous covariates
    (fuel price, an index) enter in the forecast periods only: their past values are dozens of inputs each
    that mostly add noise."""
    return list(cfg.covariates) if cfg.past is None else [c for c in cfg.covariates if c in cfg.past]


def same_period_covariates(cfg: WindowConfig) -> list[str]:
    """Covariates read for each forecast period: all but the observed ones (``cfg.lagged``).

    An observed covariate (measured weather, a count of the same thing) is known only once its period
    has passed. It enters through the input window, which ends at the forecast origin: for the forecast
    of step h its newest value is h periods old (lag 1 for the next period, lag h for h periods ahead),
    exactly what is known when the forecast is made, in the backtest as in the forward forecast."""
    return [c for c in cfg.covariates if c not in cfg.lagged]


def horizon_steps(horizon: int, season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1..H, each step's offset to its seasonal reference period and its position features."""
    steps = np.arange(1, horizon + 1)
    ref_off = steps - season * np.ceil(steps / season).astype(int)
    pos = np.stack([steps / horizon, np.ceil(steps / season) / math.ceil(horizon / season)], axis=1)
    return steps, ref_off, pos.astype(np.float32)
