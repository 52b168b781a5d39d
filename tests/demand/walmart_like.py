"""A deterministic file shaped like a weekly retail sales export, for guessing, metric and policy tests.

``make_walmart_like(stores=5, depts=10, weeks=156, seed=0)``: integer ``Store`` 1..stores, integer
``Dept`` 1..depts, ``Date`` every Friday from 2010-02-05 (three years), ``Weekly_Sales`` float
dollars with a per-department level, a yearly wave and a Christmas peak, where department 7 sells
almost nothing in most weeks (near-zero and negative weeks: returns exceeding sales) and every
department has an occasional near-zero week; ``IsHoliday`` bool for the weeks of the Super Bowl, Labor Day,
Thanksgiving and Christmas. Rows come store by store, date by date, as in the real export.
"""

import numpy as np
import pandas as pd


def make_walmart_like(stores: int = 5, depts: int = 10, weeks: int = 156, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2010-02-05", periods=weeks, freq="W-FRI")
    woy = dates.isocalendar().week.to_numpy().astype(float)
    wave = 1 + 0.15 * np.sin(2 * np.pi * woy / 52) + 0.6 * (woy >= 51)
    m, day = dates.month, dates.day
    holiday = np.asarray(((m == 2) & (day >= 8) & (day <= 14)) | ((m == 9) & (day >= 7) & (day <= 13))
                         | ((m == 11) & (day >= 22) & (day <= 28)) | ((m == 12) & (day >= 25)))
    rows = []
    for s in range(1, stores + 1):
        for d in range(1, depts + 1):
            level = 20_000.0 * (1 + 0.5 * np.sin(d)) * (1 + 0.1 * s)
            y = level * wave * (1 + 0.08 * holiday) + rng.normal(0, 0.07 * level, weeks)
            if d == 7:  # a department that barely sells: near-zero and negative (returns) weeks
                y = rng.normal(15.0, 25.0, weeks)
            y[rng.random(weeks) < 0.02] = rng.uniform(-5, 5)  # an occasional near-zero week anywhere
            rows.append(pd.DataFrame({"Store": s, "Dept": d, "Date": dates.strftime("%Y-%m-%d"),
                                      "Weekly_Sales": np.round(y, 2), "IsHoliday": holiday}))
    return pd.concat(rows, ignore_index=True).sort_values(["Store", "Date", "Dept"], kind="stable").reset_index(drop=True)
