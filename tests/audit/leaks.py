"""Generated files with a known leak, for the leakage audit's tests.

- ``bike_rentals``: a daily bike-rental look-alike (UCI "Bike Sharing"): ``cnt`` = ``casual`` + ``registered``
  riders; ``temp``, ``hum`` and ``windspeed`` are the day's measured weather; ``weekday``, ``workingday``,
  ``holiday`` and ``season`` are calendar. Riders follow the weather and the calendar.
- ``produce_sales``: a weekly produce-sales look-alike (the Hass avocado file) per region: ``Total Volume`` =
  the three product codes ``4046`` + ``4225`` + ``4770`` = the four bag sizes ``Small Bags`` + ``Large Bags`` +
  ``XLarge Bags`` + ``Jumbo Bags`` (rounded to cents); ``AveragePrice`` and ``promo`` are honest plans that move
  the volume.
- ``credit_applications``: applications with honest attributes, a ``chargeback_flag`` recorded after the
  outcome (1 for 99 % of defaulters, 1 % of repayers), an ``account_no`` whose last digit is 7 exactly
  for defaulters, and a ``loan_ref`` identifier (``D-``/``R-`` prefix per outcome, one per row).
- ``fraud_log``: a transaction log with honest ``channel`` and ``amount``, and a ``case_outcome`` column
  filled in by the investigation afterwards ("confirmed" for 99 % of frauds, "none" otherwise).
- ``fraud_log_leaky_amount``: the same log where every fraud's ``amount`` is above every genuine one (as an
  amount corrected once the case was known would be): the mapped amount separates fraud on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def bike_rentals(days: int = 730, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    date = pd.date_range("2011-01-01", periods=days, freq="D")
    doy = date.day_of_year.to_numpy()
    weekday = date.day_of_week.to_numpy()
    holiday = np.isin(doy, [1, 17, 45, 150, 185, 246, 315, 359]).astype(int)
    workingday = ((weekday < 5) & (holiday == 0)).astype(int)
    season = (date.month.to_numpy() % 12) // 3 + 1
    temp = np.clip(0.5 - 0.3 * np.cos(2 * np.pi * (doy - 15) / 365.25) + rng.normal(0, 0.08, days), 0.02, 1.0)
    hum = np.clip(0.6 + rng.normal(0, 0.15, days), 0.1, 1.0)
    wind = np.clip(0.2 + rng.gamma(2.0, 0.04, days), 0.02, 0.8)
    weather = np.exp(1.4 * temp - 0.8 * (hum - 0.6) - 1.2 * (wind - 0.28))
    trend = 1.0 + 0.5 * np.arange(days) / days
    casual = rng.poisson(250 * weather * np.where(workingday == 1, 0.6, 1.8) * trend)
    registered = rng.poisson(1300 * weather ** 0.7 * np.where(workingday == 1, 1.25, 0.8) * trend)
    return pd.DataFrame({"dteday": date.strftime("%Y-%m-%d"), "season": season, "holiday": holiday,
                         "weekday": weekday, "workingday": workingday, "temp": temp.round(4), "hum": hum.round(4),
                         "windspeed": wind.round(4), "casual": casual, "registered": registered,
                         "cnt": casual + registered})


def produce_sales(weeks: int = 160, regions: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    dates = pd.date_range("2015-01-04", periods=weeks, freq="W-SUN")
    woy = dates.isocalendar().week.to_numpy(dtype=float)
    for r in range(regions):
        base = 80_000 * (1 + r)
        price = np.round(1.4 + 0.15 * np.sin(2 * np.pi * woy / 52) + rng.normal(0, 0.05, weeks), 2)
        promo = (rng.random(weeks) < 0.15).astype(int)
        volume = base * (1 + 0.25 * np.sin(2 * np.pi * (woy - 5) / 52)) * np.exp(-1.2 * (price - 1.4)) \
            * (1 + 0.3 * promo) * rng.lognormal(0, 0.08, weeks)
        codes = rng.dirichlet([6, 5, 1], weeks) * volume[:, None]
        bags = rng.dirichlet([8, 3, 1, 0.5], weeks) * volume[:, None]
        codes, bags = codes.round(2), bags.round(2)
        total = codes.sum(axis=1).round(2)
        bags[:, 0] = (total - bags[:, 1:].sum(axis=1)).round(2)  # the bags add up to the same total
        rows.append(pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "region": f"R{r + 1}", "AveragePrice": price,
                                  "Total Volume": total, "4046": codes[:, 0], "4225": codes[:, 1], "4770": codes[:, 2],
                                  "Small Bags": bags[:, 0], "Large Bags": bags[:, 1], "XLarge Bags": bags[:, 2],
                                  "Jumbo Bags": bags[:, 3], "promo": promo}))
    return pd.concat(rows, ignore_index=True)


def credit_applications(n: int = 1_200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.8, 0.4, n).round(-2)
    debt = np.clip(rng.beta(2, 5, n) + rng.normal(0, 0.05, n), 0, 1.5).round(3)
    util = rng.beta(2, 3, n).round(3)
    purpose = rng.choice(["car", "home", "education", "other"], n)
    logit = -2.2 + 3.0 * (debt - 0.3) + 2.0 * (util - 0.4) - 0.5 * (np.log(income) - 10.8)
    default = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    chargeback = np.where(default == 1, rng.random(n) < 0.99, rng.random(n) < 0.01).astype(int)
    digits = rng.integers(100_000, 999_999, n) * 10
    last = np.where(default == 1, 7, rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 9], n))
    ref = [f"{'D' if d else 'R'}-{i:05d}" for i, d in zip(rng.permutation(n), default)]
    return pd.DataFrame({"loan_ref": ref, "account_no": digits + last, "annual_income": income,
                         "debt_to_income": debt, "credit_utilisation": util, "purpose": purpose,
                         "chargeback_flag": chargeback, "default": default})


def fraud_log(days: int = 40, per_day: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    t = pd.Timestamp("2024-03-01") + pd.to_timedelta(np.sort(rng.uniform(0, days * 86_400, n)), unit="s")
    amount = rng.lognormal(3.5, 0.8, n).round(2)
    channel = rng.choice(["online", "in-store", "phone"], n, p=[0.5, 0.4, 0.1])
    fraud = (rng.random(n) < np.where(channel == "online", 0.03, 0.008) * np.where(amount > 80, 2.0, 1.0)).astype(int)
    case = np.where(fraud == 1, np.where(rng.random(n) < 0.99, "confirmed", "none"), "none")
    return pd.DataFrame({"transaction_id": np.arange(1, n + 1), "timestamp": t.strftime("%Y-%m-%d %H:%M:%S"),
                         "customer_id": [f"C{c:05d}" for c in rng.integers(0, 2_000, n)],
                         "terminal_id": [f"T{c:04d}" for c in rng.integers(0, 500, n)], "amount": amount,
                         "channel": channel, "case_outcome": case, "is_fraud": fraud})


def fraud_log_leaky_amount(days: int = 30, per_day: int = 200, seed: int = 0) -> pd.DataFrame:
    df = fraud_log(days=days, per_day=per_day, seed=seed)
    bump = np.random.default_rng(seed + 1).uniform(5_000, 9_000, len(df)).round(2)
    return df.assign(amount=np.where(df["is_fraud"] == 1, bump, df["amount"].clip(upper=4_000)))
