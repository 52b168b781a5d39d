"""Deterministic weekly retail sales by store x department, with a second file of store covariates.

The two tables have the shape analysts bring from a retail chain (the layout of the public
"Store Sales Forecasting" competition):

- ``sales``: ``Store, Dept, Date, Weekly_Sales, IsHoliday`` — one row per store, department and
  week (weeks end on Friday), from 2010-02-05 for ``weeks`` weeks (143: about 2¾ years).
- ``features``: ``Store, Date, Temperature, Fuel_Price, MarkDown1..MarkDown5, CPI, Unemployment,
  IsHoliday`` — one row per store and week, running ``future_weeks`` (39) weeks past the sales, so
  the covariates are known for the forecast horizon.

How the sales are made (all multiplicative on a series' base level):

- scale heterogeneity: store size (lognormal, ~20x between smallest and largest store) times
  department size (lognormal, ~1,000x between departments), times a per-series factor;
- annual seasonality: a smooth department profile (three yearly harmonics, department-specific
  amplitude and phase; stores modulate it a little) that repeats year on year;
- holidays: the week holding Thanksgiving (Black Friday) and the two weeks before Christmas are
  large spikes in most departments (sizes vary by department); the Christmas week itself is
  flagged but sells less; Super Bowl and Labor Day weeks give small lifts. ``IsHoliday`` flags
  the weeks holding Super Bowl Sunday, Labor Day, Thanksgiving and Christmas Day;
- trend: a store growth rate plus a per-series rate (a few percent a year either way);
- markdowns: promotional markdowns per store and week lift sales a little in sensitive departments;
  MarkDown1..5 are blank before November 2011 and often blank afterwards, as in real extracts;
- temperature: per-store climate; a few seasonal departments react to warm or cold weeks;
- CPI, Unemployment, Fuel_Price: slow random walks; CPI and Unemployment are blank for the last
  13 weeks of the features file (published late);
- noise: persistent (AR(1), rho 0.4) lognormal noise, larger for small departments (about 6 %
  for the biggest, 35 % for the smallest);
- awkward rows: about 8 % of series start late, 4 % stop early, 5 % have missing weeks (no row),
  2 % are too short to forecast (each case at least once
  from 10 series), and small departments have occasional negative weeks (returns).

Everything comes from one ``numpy`` generator seeded with ``seed``: the same arguments give the same
tables. Run ``python scripts/make_retail_weekly.py --series 3000 --out DIR`` to write
``train.csv`` and ``features.csv``; tests and ``bench/bench_demand.py`` import
``make_retail_weekly`` directly.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START = "2010-02-05"  # a Friday: weeks run Saturday..Friday and are labelled by their Friday
MARKDOWN_FROM = "2011-11-04"


@dataclass(frozen=True)
class RetailWeekly:
    """The two generated tables."""

    sales: pd.DataFrame
    features: pd.DataFrame


def _event_dates(years) -> dict[str, list[pd.Timestamp]]:
    """Dates of the US retail events that drive the weekly pattern."""
    out = {"superbowl": [], "laborday": [], "thanksgiving": [], "christmas": []}
    for y in years:
        feb = pd.date_range(f"{y}-02-01", f"{y}-02-14")
        out["superbowl"].append(feb[feb.dayofweek == 6][0])  # first Sunday of Feb (close enough)
        sep = pd.date_range(f"{y}-09-01", f"{y}-09-07")
        out["laborday"].append(sep[sep.dayofweek == 0][0])
        nov = pd.date_range(f"{y}-11-01", f"{y}-11-30")
        out["thanksgiving"].append(nov[nov.dayofweek == 3][3])
        out["christmas"].append(pd.Timestamp(f"{y}-12-25"))
    return out


def _week_flags(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Per week (labelled by its Friday): which event falls inside it, and Christmas proximity."""
    ev = _event_dates(range(dates.min().year, dates.max().year + 1))
    flags = {}
    for name, days in ev.items():
        f = np.zeros(len(dates), dtype=bool)
        for d in days:
            f |= (dates >= d) & (dates - pd.Timedelta(days=6) <= d)
        flags[name] = f
    # Days from the week's Friday to the next Christmas Day: the pre-Christmas rush weeks.
    xmas = pd.to_datetime([f"{d.year}-12-25" for d in dates])
    flags["days_to_xmas"] = (xmas - dates).days.to_numpy()
    return flags


def make_retail_weekly(n_series: int = 3000, *, seed: int = 0, weeks: int = 143,
                       future_weeks: int = 39) -> RetailWeekly:
    """Generate ``n_series`` store x department weekly series and the store covariates (see module doc)."""
    rng = np.random.default_rng(seed)
    n_stores = max(2, min(45, math.ceil(n_series / 70)))
    per_store = math.ceil(n_series / n_stores)
    n_dept_ids = max(per_store + 10, 99)
    dates = pd.date_range(START, periods=weeks + future_weeks, freq="W-FRI")
    W, WF = weeks, weeks + future_weeks
    flags = _week_flags(dates)
    t_year = np.arange(WF) / 52.18
    ang = 2 * np.pi * (dates.dayofyear.to_numpy() / 365.25)

    # ---- stores: size, climate, covariates (known for the whole features range)
    store_ids = np.arange(1, n_stores + 1)
    store_size = rng.lognormal(0.0, 0.75, n_stores)
    store_growth = rng.normal(0.01, 0.03, n_stores)
    temp = (rng.uniform(40, 75, n_stores)[:, None] + rng.uniform(12, 25, n_stores)[:, None]
            * np.cos(ang - 2 * np.pi * 200 / 365.25)[None, :] + rng.normal(0, 5, (n_stores, WF)))
    fuel = 2.7 + np.cumsum(rng.normal(0.004, 0.04, (n_stores, WF)), axis=1) + rng.normal(0, 0.1, (n_stores, 1))
    cpi_base = np.where(rng.random(n_stores) < 0.5, 127.0, 211.0) + rng.normal(0, 3, n_stores)
    cpi = cpi_base[:, None] * (1 + 0.0004 * np.arange(WF))[None, :] + np.cumsum(rng.normal(0, 0.05, (n_stores, WF)), 1)
    unemp = np.clip(rng.uniform(4, 12, n_stores)[:, None] + np.cumsum(rng.normal(-0.005, 0.05, (n_stores, WF)), 1), 3, 15)
    md_on = dates >= pd.Timestamp(MARKDOWN_FROM)
    md = np.zeros((5, n_stores, WF))
    md_present = np.zeros((5, n_stores, WF), dtype=bool)
    for k in range(5):
        base = rng.lognormal(7.5 - 0.4 * k, 0.6, n_stores)[:, None]
        md[k] = base * rng.lognormal(0, 0.9, (n_stores, WF)) * (1 + 3 * (flags["thanksgiving"] | flags["christmas"]))
        md_present[k] = md_on[None, :] & (rng.random((n_stores, WF)) < rng.uniform(0.5, 0.95))
    md_total = (md * md_present).sum(axis=0)
    md_rel = md_total / np.maximum(np.median(md_total[:, md_on], axis=1, keepdims=True), 1.0)

    # ---- departments: size, seasonal profile, holiday sensitivities, drivers
    dept_size = rng.lognormal(8.6, 1.5, n_dept_ids)
    amp = rng.uniform(0.0, 0.35, (n_dept_ids, 3)) / np.array([1, 2, 3])
    phase = rng.uniform(0, 2 * np.pi, (n_dept_ids, 3))
    thanks = np.where(rng.random(n_dept_ids) < 0.7, rng.lognormal(np.log(1.35), 0.3, n_dept_ids), 1.0)
    xmas = np.where(rng.random(n_dept_ids) < 0.6, rng.lognormal(np.log(1.4), 0.4, n_dept_ids), 1.0)
    xmas_week = rng.uniform(0.75, 0.95, n_dept_ids)
    small_event = rng.uniform(1.0, 1.12, (n_dept_ids, 2))
    md_beta = np.where(rng.random(n_dept_ids) < 0.4, rng.uniform(0.01, 0.05, n_dept_ids), 0.0)
    temp_beta = np.where(rng.random(n_dept_ids) < 0.2, rng.normal(0, 0.004, n_dept_ids), 0.0)
    harmonics = np.stack([np.cos((h + 1) * ang[None, :] - phase[:, h, None]) for h in range(3)], axis=2)
    dept_season = np.exp((amp[:, None, :] * harmonics).sum(axis=2))  # (depts, WF)
    rush = np.zeros((n_dept_ids, WF))
    d2x = flags["days_to_xmas"]
    for lo, hi, share in ((0, 6, 1.0), (7, 13, 0.55), (14, 20, 0.2)):
        wk = (d2x >= lo) & (d2x <= hi)
        rush[:, wk] = np.log(xmas)[:, None] * share
    event = (rush + np.log(thanks)[:, None] * flags["thanksgiving"][None, :]
             + np.log(xmas_week)[:, None] * flags["christmas"][None, :]
             + np.log(small_event[:, 0])[:, None] * flags["superbowl"][None, :]
             + np.log(small_event[:, 1])[:, None] * flags["laborday"][None, :])

    # ---- series: which departments each store carries
    store_of, dept_of = [], []
    for s in range(n_stores):
        depts = np.sort(rng.choice(np.arange(1, n_dept_ids + 1), size=per_store, replace=False))
        store_of += [s] * per_store
        dept_of += list(depts)
    store_of, dept_of = np.array(store_of[:n_series]), np.array(dept_of[:n_series])
    di = dept_of - 1
    S = n_series
    level = store_size[store_of] * dept_size[di] * rng.lognormal(0, 0.4, S)
    growth = store_growth[store_of] + rng.normal(0, 0.03, S)
    store_mod = rng.normal(0, 0.05, (n_stores, 1))
    log_mu = (np.log(level)[:, None] + growth[:, None] * t_year[None, :]
              + np.log(dept_season[di]) * (1 + store_mod[store_of]) + event[di]
              + md_beta[di, None] * np.log1p(md_rel[store_of])
              + temp_beta[di, None] * (temp[store_of] - temp[store_of].mean(axis=1, keepdims=True)))
    sigma = np.clip(0.06 * (60_000 / level) ** 0.18, 0.05, 0.35)
    eps = rng.normal(0, 1, (S, WF))
    ar = np.zeros((S, WF))
    ar[:, 0] = eps[:, 0]
    for t in range(1, WF):
        ar[:, t] = 0.4 * ar[:, t - 1] + math.sqrt(1 - 0.16) * eps[:, t]
    sales = np.exp(log_mu + sigma[:, None] * ar)[:, :W]
    # Returns: small departments now and then book a negative week.
    neg = (rng.random((S, W)) < 0.004) & (level[:, None] < 2_000)
    sales = np.where(neg, -rng.uniform(0, 0.3, (S, W)) * level[:, None], sales)
    sales = np.round(sales, 2)

    # ---- availability: late starts, early stops, missing weeks, very short series
    present = np.ones((S, W), dtype=bool)
    kind = rng.random(S)
    if S >= 10:  # every awkward case at least once, also in small test sets
        kind[[1, 3, 5, 7]] = [0.05, 0.10, 0.15, 0.18]
    for i in range(S):
        if kind[i] < 0.08:
            present[i, : rng.integers(8, 60)] = False
        elif kind[i] < 0.12:
            present[i, W - rng.integers(5, 40):] = False
        elif kind[i] < 0.17:
            present[i, rng.random(W) < rng.uniform(0.02, 0.1)] = False
        elif kind[i] < 0.19:
            present[i, : W - rng.integers(10, 60)] = False
    rows, cols = np.nonzero(present)
    holiday = flags["superbowl"] | flags["laborday"] | flags["thanksgiving"] | flags["christmas"]
    sales_df = pd.DataFrame({"Store": store_ids[store_of[rows]], "Dept": dept_of[rows],
                             "Date": dates[cols].strftime("%Y-%m-%d"), "Weekly_Sales": sales[rows, cols],
                             "IsHoliday": holiday[cols]})

    feat = {"Store": np.repeat(store_ids, WF), "Date": np.tile(dates.strftime("%Y-%m-%d"), n_stores),
            "Temperature": np.round(temp.ravel(), 2), "Fuel_Price": np.round(fuel.ravel(), 3)}
    for k in range(5):
        feat[f"MarkDown{k + 1}"] = np.where(md_present[k], np.round(md[k], 2), np.nan).ravel()
    late = np.arange(WF) >= WF - 13
    feat["CPI"] = np.where(late[None, :], np.nan, np.round(cpi, 4)).ravel()
    feat["Unemployment"] = np.where(late[None, :], np.nan, np.round(unemp, 3)).ravel()
    feat["IsHoliday"] = np.tile(holiday, n_stores)
    return RetailWeekly(sales_df, pd.DataFrame(feat))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder for train.csv and features.csv")
    args = ap.parse_args()
    data = make_retail_weekly(args.series, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    data.sales.to_csv(args.out / "train.csv", index=False)
    data.features.to_csv(args.out / "features.csv", index=False)
    print(f"{len(data.sales):,} sales rows, {len(data.features):,} feature rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
