"""Generate sample_data/demand_sales.csv: deterministic daily unit sales for store x product series.

About three years (2023-01-01 .. 2025-12-31) of daily sales for 4 stores x 5 products, plus two
new products with short history (one of them too short to forecast with the default horizon, so
the app shows how such series are reported). Demand has a trend, weekly and yearly seasonality,
holidays (closed days and pre-holiday peaks), promotions with a price cut, price changes with
price elasticity and stock-out runs of zero sales.

Also writes sample_data/demand_next_quarter.csv: the quarter after the sample (2026-01-01 .. 2026-03-31)
for the same series, with a stock-on-hand column, for the Score page's "Use the sample batch" (a
forecast of the quarter after it, safety stock, reorder points and order quantities without bringing a
file). It is drawn with its own seed, so the sample itself stays byte-identical.

Run: python scripts/make_demand_sample.py  (same output every time: fixed seeds).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
START, END = "2023-01-01", "2025-12-31"
OUT = Path(__file__).resolve().parents[1] / "sample_data" / "demand_sales.csv"
NEXT_OUT = OUT.with_name("demand_next_quarter.csv")
NEXT_START, NEXT_END = "2026-01-01", "2026-03-31"

STORES = {"S1": 1.0, "S2": 0.7, "S3": 1.4, "S4": 0.45}
PRODUCTS = {  # name: (base units/day at store factor 1, base price, yearly phase in days, yearly amplitude)
    "P1": (30.0, 2.5, 0, 0.25),      # staple with a mild winter peak
    "P2": (12.0, 6.0, 180, 0.45),    # summer product
    "P3": (6.0, 15.0, 330, 0.30),    # December gift product
    "P4": (45.0, 1.2, 90, 0.10),     # everyday low-price item
    "P5": (3.0, 40.0, 0, 0.20),      # slow mover (many zeros)
}
NEW_PRODUCTS = [("S1", "P6", "2025-08-01"), ("S2", "P6", "2025-08-01"), ("S3", "P7", "2025-12-06")]


def holiday_effects(dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Return (holiday flag, demand multiplier): closed on Dec 25 / Jan 1, peaks before them."""
    flag = np.zeros(len(dates), dtype=int)
    mult = np.ones(len(dates))
    md = dates.strftime("%m-%d")
    closed = np.isin(md, ["12-25", "01-01"])
    peaks = np.isin(md, ["12-22", "12-23", "12-24", "12-31", "07-03", "11-24"])
    flag[closed | peaks] = 1
    mult[peaks] = 1.8
    mult[closed] = 0.0
    return flag, mult


def make_series(rng: np.random.Generator, dates: pd.DatetimeIndex, store: str, product: str,
                base: float, price0: float, phase: int, amp: float) -> pd.DataFrame:
    n = len(dates)
    t = np.arange(n)
    doy = dates.day_of_year.to_numpy()
    dow = dates.day_of_week.to_numpy()
    trend = 1.0 + rng.uniform(-0.05, 0.25) * t / 365.0
    weekly = np.array([0.85, 0.8, 0.9, 0.95, 1.15, 1.4, 1.0])[dow]
    yearly = 1.0 + amp * np.cos(2 * np.pi * (doy - phase) / 365.25)
    hol_flag, hol_mult = holiday_effects(dates)
    # Promotions: a few 7-day blocks per year with a 20-30 % price cut and a demand uplift.
    promo = np.zeros(n, dtype=int)
    for start in rng.choice(np.arange(0, max(n - 7, 1), 7), size=max(1, n // 60), replace=False):
        promo[start:start + 7] = 1
    # Price: base price with one or two permanent increases, discounted during promotions.
    price = np.full(n, price0)
    lo = min(60, n // 3)
    for change in np.sort(rng.choice(np.arange(lo, max(n - 30, lo + 2)), size=2, replace=False)):
        price[change:] *= 1 + rng.uniform(0.03, 0.10)
    discount = rng.uniform(0.2, 0.3)
    price = np.where(promo == 1, price * (1 - discount), price)
    elasticity = -1.5
    price_effect = (price / price0) ** elasticity
    promo_uplift = np.where(promo == 1, 1.3, 1.0)
    mean = base * STORES[store] * trend * weekly * yearly * hol_mult * price_effect * promo_uplift
    # Negative binomial noise (over-dispersed counts like real retail sales).
    k = 8.0
    units = rng.negative_binomial(k, k / (k + np.maximum(mean, 1e-9)))
    units = np.where(mean <= 0, 0, units)
    # Stock-outs: short runs of zero sales, more often for slow movers.
    for start in rng.choice(n, size=max(1, n // 120), replace=False):
        units[start:start + int(rng.integers(1, 5))] = 0
    return pd.DataFrame({
        "date": dates.strftime("%Y-%m-%d"), "store": store, "product": product,
        "units": units.astype(int), "price": np.round(price, 2), "promo": promo, "holiday": hol_flag,
    })


def make_sample(seed: int = SEED, end: str = END) -> pd.DataFrame:
    """Build the whole sample table (deterministic for a given seed), through ``end``."""
    rng = np.random.default_rng(seed)
    all_dates = pd.date_range(START, end, freq="D")
    frames = []
    for store in STORES:
        for product, (base, price0, phase, amp) in PRODUCTS.items():
            frames.append(make_series(rng, all_dates, store, product, base, price0, phase, amp))
    for store, product, launch in NEW_PRODUCTS:
        dates = pd.date_range(launch, end, freq="D")
        frames.append(make_series(rng, dates, store, product, 20.0, 4.0, 200, 0.2))
    return pd.concat(frames, ignore_index=True)


def make_next_quarter(seed: int = SEED + 1) -> pd.DataFrame:
    """The quarter after the sample for the same series, with ``on_hand``: each series' stock at the end of
    each day, from a seeded replenishment (an order up to about two weeks of its mean sales every Monday)."""
    df = make_sample(seed, end=NEXT_END)
    df = df[df["date"] >= NEXT_START].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    stock = []
    for _, g in df.groupby(["store", "product"], sort=False):
        level = float(rng.uniform(5, 15) * max(g["units"].mean(), 1.0))
        on_hand, left = [], level
        for day, sold in zip(pd.to_datetime(g["date"]), g["units"]):
            if day.day_of_week == 0:
                left = max(left, level)
            left = max(left - sold, 0.0)
            on_hand.append(int(round(left)))
        stock.append(pd.Series(on_hand, index=g.index))
    return df.assign(on_hand=pd.concat(stock).sort_index())


def main() -> None:
    df = make_sample()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(df):,} rows, {df.groupby(['store', 'product']).ngroups} series)")
    nxt = make_next_quarter()
    nxt.to_csv(NEXT_OUT, index=False)
    print(f"wrote {NEXT_OUT} ({len(nxt):,} rows, {nxt.groupby(['store', 'product']).ngroups} series)")


if __name__ == "__main__":
    main()
