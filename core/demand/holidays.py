"""The holiday flag of a sales table and the holiday-weighted MAE (WMAE) that retail planners use.

WMAE weighs each period's absolute error by 5 when the period is a holiday and by 1 otherwise
(the metric of the public retail "Store Sales Forecasting" competition): holiday weeks carry much
of the year's sales, and a miss there costs more than in an ordinary week.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

HOLIDAY_NAMES = ("isholiday", "is_holiday", "holiday")
HOLIDAY_WEIGHT = 5.0


def find_holiday_column(columns: Sequence[str], binary: Sequence[str] | None = None) -> str | None:
    """The holiday flag among ``columns`` by name (IsHoliday / is_holiday / holiday), or None.
    With ``binary`` given, only a column that holds 0/1 (or True/False) values counts."""
    for c in columns:
        if str(c).strip().lower().replace(" ", "_") in HOLIDAY_NAMES and (binary is None or c in binary):
            return c
    return None


def compute_wmae(y, forecast, holiday) -> float:
    """Holiday-weighted MAE: sum(w * |forecast - y|) / sum(w), w = 5 on holiday periods, else 1."""
    y, f = np.asarray(y, dtype=float).ravel(), np.asarray(forecast, dtype=float).ravel()
    h = np.asarray(holiday, dtype=float).ravel()
    if not (len(y) == len(f) == len(h)):
        raise ValueError(f"actuals, forecasts and holiday flags differ in length: {len(y)}, {len(f)}, {len(h)}")
    if len(y) == 0:
        return float("nan")
    w = np.where(h > 0.5, HOLIDAY_WEIGHT, 1.0)
    return float(np.sum(w * np.abs(f - y)) / np.sum(w))


def add_wmae(metrics: pd.DataFrame, backtest: pd.DataFrame, methods: dict[str, str]) -> pd.DataFrame:
    """``metrics`` (one row per method) with a ``wmae`` column from the backtest's ``holiday`` column."""
    out = metrics.copy()
    out["wmae"] = [compute_wmae(backtest["y"], backtest[f"{p}_p50"], backtest["holiday"]) for p in methods]
    return out
