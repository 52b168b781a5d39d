"""Low-rank smoothing across series: each department's sales in every store, denoised by the others.

A series' own value a year ago is a noisy seasonal reference: one week of one store's department.
The same department in other stores follows a few common weekly shapes (the season, the holidays,
store types), so projecting each week's values across stores onto the department's leading
components keeps what the stores share and drops most of one store's noise (the step the winning
entries of the public retail "Store Sales Forecasting" competition took before their seasonal models).

The groups are the values of the last series column (the product or department) when there are two
or more series columns: each group's series (its stores) form a matrix of periods, the gaps and the
periods outside a series' history counted as 0, whose top ``rank`` left singular vectors (learnt
only from periods before each series' forecast origin, ``fit_until``) project every period's values
across the group. Each week's smoothed value therefore uses that week's values of the group and
nothing later. The computation reads only the group's own series and the dates they span, so
scoring a file on several workers gives the same numbers when each group stays on one worker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RANK = 8  # components kept per group (fewer when a group has fewer than 2 * RANK series)
MIN_SERIES = 3  # groups with fewer series are left as they are


def smooth_column(series_cols) -> str | None:
    """The series column whose values group the series for smoothing (the last of two or more)."""
    cols = tuple(series_cols or ())
    return cols[-1] if len(cols) >= 2 else None


def group_rank(n_series: int, rank: int = RANK) -> int:
    """Components kept for a group of ``n_series`` series (0: not smoothed)."""
    if n_series < MIN_SERIES:
        return 0
    return int(max(1, min(rank, n_series // 2)))


def low_rank_smooth(frame: pd.DataFrame, rows: dict, group_index: int, n_parts: int, *,
                    fit_until: dict[str, int] | None = None, rank: int = RANK) -> dict[str, np.ndarray]:
    """Smoothed demand (units, >= 0) per series, aligned with its rows in ``frame`` (``series``, ``date``, ``y``).

    ``rows`` maps each series id to its row positions (date order); ids are the series columns
    joined with " / " and part ``group_index`` of ``n_parts`` names the group. ``fit_until`` (series
    -> periods) limits the periods each series lends to the components (its training history)."""
    sids = list(rows)
    parts = [str(s).split(" / ") for s in sids]
    if any(len(p) != n_parts for p in parts):
        return {}
    dates = frame["date"].to_numpy()
    y_all = frame["y"].to_numpy(dtype=float)
    groups: dict[str, list[str]] = {}
    for sid, p in zip(sids, parts):
        groups.setdefault(p[group_index], []).append(sid)
    out: dict[str, np.ndarray] = {}
    for members in groups.values():
        k = group_rank(len(members), rank)
        if k == 0:
            continue
        span = pd.DatetimeIndex(np.unique(np.concatenate([dates[rows[s]] for s in members])))
        M = np.zeros((len(members), len(span)))
        F = np.zeros_like(M)
        cols = []
        for i, s in enumerate(members):
            c = span.get_indexer(dates[rows[s]])
            cols.append(c)
            M[i, c] = y_all[rows[s]]
            n_fit = len(c) if fit_until is None else int(max(0, min(fit_until.get(s, len(c)), len(c))))
            F[i, c[:n_fit]] = y_all[rows[s]][:n_fit]
        u, _, _ = np.linalg.svd(F, full_matrices=False)
        basis = u[:, :k]
        S = basis @ (basis.T @ M)
        for i, s in enumerate(members):
            out[s] = np.maximum(S[i, cols[i]], 0.0)
    return out
