"""The leakage audit of demand covariates: which may be read for the period being forecast.

A covariate is a *same-period input* (the network reads its value for each forecast period) only
when it is known before that period: calendar, price plans, promotions, markdowns, holidays, or
values a covariates file gives for the forecast horizon (a weather forecast). It is *observed* when
it is measured together with the quantity, and then enters only through its past values (see
``core.demand.features``: the input window up to the forecast origin). Measured on the training
rows only:

- **Reconstructs the quantity.** A set of covariates that sums to it (within 0.5 %) on at least 95 %
  of the training rows (subsets of up to ``MAX_SUBSET`` of the ``MAX_SUM_COLUMNS`` covariates most
  correlated with it are tried), or a linear fit of the quantity on one covariate, or on all numeric
  covariates, with R² > 0.95 (the smallest set that reaches it, added one column at a time, is named).
  A shared trend is not a reconstruction: the fit must also explain the period-to-period changes
  within each series (R² > ``R2_CHANGES``).
- **Observed with it, by name.** Weather actuals (temperature, rain, humidity, wind, ...), economic
  figures published after the period (fuel price, CPI, unemployment, ...), counts of the same thing
  (riders, visitors, orders, ...) and sales of a component (units, volume, sales) — unless the name
  says it is a forecast or a plan (``forecast_temp``, ``planned_orders``; for counts and sales also
  price, promotion, ...). A covariates file that gives such a column for the forecast horizon does not
  make it a forecast: a file of measured weather covering the test weeks holds what was measured
  then, which nobody knows ahead (``keep`` reads it for the same period when it really is a forecast).
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from core.audit.report import KEPT, PAST_ONLY, Finding, LeakAudit
from core.audit.separation import snake

R2_LEAK = 0.95  # a fit of the quantity on covariates above this reconstructs it
R2_CHANGES = 0.8  # ... and must explain this much of the within-series period-to-period changes too
SUM_SHARE = 0.95  # share of training rows on which a set of covariates must sum to the quantity
SUM_TOLERANCE = 0.005  # relative difference still counted as "sums to" (rounded components)
MAX_SUM_COLUMNS = 12
MAX_SUBSET = 6
SCREEN_ROWS = 5_000  # rows the subset sums are screened on before a hit is checked on every training row
FIT_ROWS = 100_000  # rows the linear fits use (a seeded sample of the training rows beyond this)

WEATHER = {"temp", "temps", "temperature", "atemp", "tmax", "tmin", "tavg", "rain", "rainfall", "precip",
           "precipitation", "prcp", "snow", "snowfall", "humidity", "hum", "wind", "windspeed", "gust",
           "weather", "weathersit", "cloud", "clouds", "cloudcover", "sunshine", "visibility", "dewpoint",
           "feelslike", "uv"}
COUNTS = {"count", "cnt", "casual", "registered", "riders", "rides", "visitors", "visits", "customers",
          "footfall", "traffic", "transactions", "users", "sessions", "clicks", "views", "calls", "tickets",
          "bookings", "orders", "units", "unit", "quantity", "qty", "sold", "demand", "sales", "sale", "volume",
          "passengers", "revenue", "turnover"}
ECONOMY = {"cpi", "unemployment", "unemployed", "inflation", "gdp", "fuel", "petrol", "gasoline", "diesel", "oil"}
FORECAST = {"forecast", "forecasted", "forecasts", "predicted", "prediction", "expected", "outlook", "plan",
            "planned", "scheduled"}
PLANNED = {"price", "prices", "cost", "promo", "promotion", "promotions", "markdown", "discount", "holiday",
           "holidays", "event", "events", "calendar", "weekday", "workingday", "weekend", "day", "week", "month",
           "year", "yr", "mnth", "season", "quarter", "dow", "plan", "planned", "forecast", "forecasted",
           "budget", "capacity", "open", "closed", "school", "payday", "launch", "campaign", "advert",
           "advertising", "ad", "ads", "spend"}


def words(name) -> list[str]:
    """Lower-case words of a column name (``WindSpeed`` -> wind, speed), as the outcome names are read."""
    return [w for w in snake(name).split("_") if w]


def observed_word(name) -> str | None:
    """The word that marks a covariate as measured with the quantity ('temperature', 'visitors'), or None
    when there is none or the name also says it is planned ('forecast_temp', 'sales_price')."""
    tokens = words(name)
    if any(t in FORECAST for t in tokens):
        return None
    measured = next((t for t in tokens if t in WEATHER or t in ECONOMY), None)
    if measured is not None:  # 'Fuel_Price' is the market's price, measured, not the retailer's plan
        return measured
    if any(t in PLANNED for t in tokens):
        return None
    return next((t for t in tokens if t in COUNTS), None)


def _r2(X: np.ndarray, y: np.ndarray) -> float:
    """R² of the least-squares fit of ``y`` on ``X`` with an intercept (0 when ``y`` does not vary)."""
    if len(y) < 3:
        return 0.0
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    return float(max(0.0, 1.0 - (resid ** 2).sum() / total))


def _names(cols: Sequence[str]) -> str:
    return " + ".join(f"'{c}'" for c in cols)


def _sum_subsets(X: pd.DataFrame, y: np.ndarray, seed: int) -> list[tuple[tuple[str, ...], float]]:
    """Minimal sets of covariates that sum to ``y`` on at least ``SUM_SHARE`` of the rows (quantity 0 rows
    aside), with that share."""
    nz = y != 0
    if nz.sum() < 10:
        return []
    Xn, yn = X[nz], y[nz]
    cols = [c for c in X.columns if Xn[c].std() > 0]
    if len(cols) > MAX_SUM_COLUMNS:
        corr = {c: np.corrcoef(Xn[c].to_numpy(float), yn)[0, 1] for c in cols}
        cols = sorted(cols, key=lambda c: -np.nan_to_num(corr[c], nan=-1.0))[:MAX_SUM_COLUMNS]
    if not cols:
        return []
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(yn), min(SCREEN_ROWS, len(yn)), replace=False))
    Xs, ys = Xn[cols].to_numpy(float)[pick], yn[pick]
    scale = 1e-3 * float(np.median(np.abs(yn)))
    subsets = [s for k in range(1, min(MAX_SUBSET, len(cols)) + 1) for s in combinations(range(len(cols)), k)]
    masks = np.zeros((len(subsets), len(cols)))
    for i, s in enumerate(subsets):
        masks[i, list(s)] = 1.0
    close = np.abs(masks @ Xs.T - ys[None, :]) <= SUM_TOLERANCE * np.abs(ys)[None, :] + scale
    found: list[tuple[tuple[str, ...], float]] = []
    for i in np.flatnonzero(close.mean(axis=1) >= SUM_SHARE):
        s = subsets[i]
        if any(set(f) <= {cols[j] for j in s} for f, _ in found):
            continue  # a smaller set already sums to it
        total = Xn[[cols[j] for j in s]].to_numpy(float).sum(axis=1)
        share = float((np.abs(total - yn) <= SUM_TOLERANCE * np.abs(yn) + scale).mean())
        if share >= SUM_SHARE:
            found.append((tuple(cols[j] for j in s), share))
    return found


class _Fits:
    """Linear fits of the quantity on covariates, on levels and on within-series changes."""

    def __init__(self, X: pd.DataFrame, y: np.ndarray, series: np.ndarray, seed: int):
        same = np.r_[False, series[1:] == series[:-1]]  # rows whose previous row is the same series' period
        dX, dy = X.diff().to_numpy(float)[same], np.diff(y, prepend=np.nan)[same]
        rng = np.random.default_rng(seed)
        lv = np.sort(rng.choice(len(y), min(FIT_ROWS, len(y)), replace=False))
        ch = np.sort(rng.choice(len(dy), min(FIT_ROWS, len(dy)), replace=False))
        self.cols = list(X.columns)
        self.X, self.y = X.to_numpy(float)[lv], y[lv]
        self.dX, self.dy = dX[ch], dy[ch]

    def r2(self, cols: Sequence[str]) -> tuple[float, float]:
        j = [self.cols.index(c) for c in cols]
        return _r2(self.X[:, j], self.y), _r2(self.dX[:, j], self.dy)

    def smallest_set(self, cols: Sequence[str]) -> list[str]:
        """Columns added one at a time, best first, until the levels fit passes ``R2_LEAK``."""
        chosen: list[str] = []
        rest = list(cols)
        while rest:
            best = max(rest, key=lambda c: self.r2([*chosen, c])[0])
            chosen.append(best)
            rest.remove(best)
            if self.r2(chosen)[0] > R2_LEAK:
                break
        return chosen


def audit_covariates(frame: pd.DataFrame, *, covariates: Sequence[str], binary: Sequence[str] = (),
                     train: np.ndarray, quantity: str, target: str = "y", series: str = "series",
                     known_ahead: Sequence[str] = (), keep: Sequence[str] = (), lag: Sequence[str] = (),
                     seed: int = 0) -> LeakAudit:
    """Audit the covariates of clean sales rows ``frame`` (sorted by series, then date) on the training
    rows ``train`` (a boolean mask). ``quantity`` is the quantity's name in the file (for the evidence),
    ``known_ahead`` covariates a covariates file gives for the forecast horizon, ``keep`` flagged covariates
    the analyst keeps as same-period inputs, ``lag`` covariates the analyst wants as past values only."""
    covariates = list(covariates)
    rows = frame.loc[np.asarray(train, dtype=bool)]
    y = np.nan_to_num(rows[target].to_numpy(float), nan=0.0, posinf=0.0, neginf=0.0)
    n = f"{len(rows):,} training rows"
    keep, lag, known_ahead = set(keep), set(lag), set(known_ahead)
    evidence: dict[str, tuple[str, str, float | None, tuple[str, ...]]] = {}
    numeric = [c for c in covariates if c not in binary]
    if numeric and len(rows) >= 10:
        X = rows[numeric].astype(float).replace([np.inf, -np.inf], np.nan).fillna(0.0)
        for cols, share in _sum_subsets(X, y, seed):
            text = (f"'{cols[0]}' equals '{quantity}'" if len(cols) == 1 else f"{_names(cols)} sum to '{quantity}'")
            for c in cols:
                evidence.setdefault(c, ("sum", f"{text} on {share:.0%} of {n}", share, tuple(x for x in cols if x != c)))
        fits = _Fits(X, y, rows[series].to_numpy(), seed)
        for c in numeric:
            level, change = fits.r2([c])
            if c not in evidence and level > R2_LEAK and change > R2_CHANGES:
                evidence[c] = ("fit", f"a linear fit of '{quantity}' on '{c}' alone has R² {level:.3f} on {n} "
                               f"({change:.2f} on its period-to-period changes)", level, ())
        if 1 < len(numeric) and len(rows) >= 10 * (len(numeric) + 1):
            level, change = fits.r2(numeric)
            if level > R2_LEAK and change > R2_CHANGES:
                subset = fits.smallest_set(numeric)
                if not all(c in evidence for c in subset):
                    level, change = fits.r2(subset)
                    text = (f"a linear fit of '{quantity}' on {_names(subset)} has R² {level:.3f} on {n} "
                            f"({change:.2f} on the period-to-period changes)")
                    for c in subset:
                        evidence.setdefault(c, ("fit", text, level, tuple(x for x in subset if x != c)))
    for c in covariates:
        word = observed_word(c)
        if c not in evidence and word is not None:
            what = ("weather measured" if word in WEATHER else "an economic figure measured" if word in ECONOMY
                    else "a count or sales figure recorded")
            given = (" (the covariates file's values for the forecast horizon are measurements too, unless they "
                     "are a forecast: then keep it for the same period)" if c in known_ahead else "")
            evidence[c] = ("observed", f"'{c}' is named like {what} in the same period as '{quantity}' "
                           f"('{word}'), not planned ahead{given}", None, ())
    findings = [Finding(c, kind, text, KEPT if c in keep else PAST_ONLY, score, together)
                for c, (kind, text, score, together) in evidence.items()]
    roles = [_role(c, evidence, binary, known_ahead, keep, lag) for c in covariates]
    return LeakAudit(rows=len(rows), checked=covariates, findings=findings, roles=roles)


SAME, PAST = "same period", "past values only"


def _role(c, evidence, binary, known_ahead, keep, lag) -> dict:
    """A covariate's role and why, for the role table and the JSON."""
    if c in evidence:
        text = evidence[c][1]
        if c in keep:
            return {"column": c, "role": SAME, "why": f"kept as a same-period input at your request, although {text}",
                    "suspect": True}
        return {"column": c, "role": PAST, "why": f"{text}: read only up to the forecast origin", "suspect": True}
    if c in lag:
        return {"column": c, "role": PAST, "why": "observed with the quantity (your choice): read only up to the "
                "forecast origin", "suspect": False}
    if c in known_ahead:
        why = "the covariates file gives its values for the forecast horizon: known in advance"
    elif any(t in PLANNED for t in words(c)):
        why = "named like a plan or the calendar (price, promotion, holiday, ...): known in advance"
    elif c in binary:
        why = "0/1 flag (an event such as a promotion or holiday): known in advance"
    else:
        why = ("does not reconstruct the quantity and is not named like a measurement of the same period: "
               "treated as known in advance")
    return {"column": c, "role": SAME, "why": why, "suspect": False}
