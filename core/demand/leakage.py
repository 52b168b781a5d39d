"""The leakage audit of a sales history's covariates (``core.audit.audit_covariates``), on its training rows.

``audit_sales`` measures on the periods the model trains on (each series' history before the held-out
backtest tail, or the whole file when a separate test file is given); ``apply_audit`` returns the sales
data with the suspects as observed covariates (``ColumnMap.lagged``: past values only, see
``core.demand.features.same_period_covariates``) and the audit in its ``DataReport`` (``leakage``), where
the CLI's JSON, the page and the saved run read it. The page, the CLI and the model search all train
on what ``apply_audit`` returns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from core.audit import LeakAudit, audit_covariates
from core.demand.data import SERIES_COL, SalesData
from core.errors import DataValidationError
from core.data.safety import short_list


def hold_periods(horizon: int, origins: int = 1, step: int | None = None) -> int:
    """Periods held out at the end of every series for the backtest (as ``core.demand.forecast.plan_split``)."""
    return int(horizon) + (int(origins) - 1) * int(step or horizon)


def training_rows(data: SalesData, hold: int) -> np.ndarray:
    """Boolean mask of the rows before each series' held-out tail (``hold`` = 0: every row)."""
    f = data.frame
    pos = f.groupby(SERIES_COL, sort=False).cumcount().to_numpy()
    size = f[SERIES_COL].map(f.groupby(SERIES_COL, sort=False).size()).to_numpy()
    return pos < size - int(hold)


def known_ahead(join, data: SalesData) -> tuple[str, ...]:
    """Covariates a joined covariates file gives for dates after the sales history (the forecast horizon)."""
    if join is None or not len(data.frame):
        return ()
    return tuple(join.joined) if join.last_covariate_date > data.frame["date"].max() else ()


def audit_sales(data: SalesData, *, hold: int, known: Sequence[str] = (), keep: Sequence[str] = (),
                lag: Sequence[str] = (), seed: int = 0) -> LeakAudit:
    """Audit ``data``'s covariates on its training rows; ``keep`` / ``lag`` are the analyst's overrides."""
    unknown = [c for c in (*keep, *lag) if c not in data.covariates]
    if unknown:
        raise DataValidationError(
            f"--keep-column / --lag-column must name covariates of the model; {short_list(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not among them ({short_list(data.covariates) if data.covariates else 'none'}). "
            "Fix: use the column names as the file spells them, or add the column to --covariates.")
    mask = training_rows(data, hold)
    if not mask.any():  # too short to hold anything out: the planner's split will say so; audit every row
        mask = np.ones(len(data.frame), dtype=bool)
    return audit_covariates(data.frame, covariates=data.covariates, binary=data.binary_covariates, train=mask,
                            quantity=data.columns.target, known_ahead=known, keep=keep, lag=lag, seed=seed)


def apply_audit(data: SalesData, audit: LeakAudit) -> SalesData:
    """``data`` with the audit's past-only covariates as ``ColumnMap.lagged`` and the audit in its report."""
    lagged = tuple(r["column"] for r in audit.roles if r["role"] == "past values only")
    report = replace(data.report, leakage=audit.to_dict())
    return replace(data, columns=replace(data.columns, lagged=lagged), report=report)


def roles_with_audit(roles: list[dict], audit: LeakAudit) -> list[dict]:
    """The column-role rows (``ColumnGuess.roles()``) with each covariate's role and why from the audit."""
    by = {r["column"]: r for r in audit.roles}
    return [{**r, "role": f"covariate ({by[r['column']]['role']})", "why": by[r["column"]]["why"]}
            if r["column"] in by else r for r in roles]
