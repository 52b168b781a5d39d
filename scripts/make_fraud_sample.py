"""Make the bundled card-transaction log for the fraud scenario.

A deterministic generator in the spirit of the Fraud Detection Handbook's simulator (Le Borgne et
al., 2022, chapter 3.2): customers with a location and a spending profile, terminals with a
location, transactions at terminals near the customer over several weeks, and fraud from several
patterns so that no single column gives it away:

* compromised terminals: for a period of 2-4 weeks, most transactions at a terminal are fraud;
* compromised cards: for two weeks, a third of a card's transactions are fraud, with amounts
  several times the customer's usual spending, often online and at night, at far-away terminals;
* one-off amount spikes: a single transaction several times the customer's usual amount.

Legitimate customers also make occasional large purchases, so a large amount alone is not proof.
Everything is vectorised with NumPy, so the benchmark can make 300k or 1M rows in seconds:

    python scripts/make_fraud_sample.py                      # sample_data/fraud_transactions.csv.gz
                                                             # and fraud_new_month.csv.gz (28 more days)
    python scripts/make_fraud_sample.py --rows 1000000 --out /tmp/fraud_1m.csv.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "sample_data" / "fraud_transactions.csv.gz"
NEW_MONTH_OUT = DEFAULT_OUT.with_name("fraud_new_month.csv.gz")
START_DATE = "2024-03-04"  # a Monday, so weeks line up with calendar weeks
N_DAYS = 63
MEAN_TX_PER_DAY = 2.0  # the customers' rate is uniform on [0, 4]


def make_transactions(n_rows: int = 100_000, *, n_days: int = N_DAYS, seed: int = 7,
                      start_date: str = START_DATE) -> pd.DataFrame:
    """Simulate about ``n_rows`` transactions over ``n_days`` days; same seed, same log."""
    rng = np.random.default_rng(seed)
    n_customers = max(20, int(round(n_rows / (MEAN_TX_PER_DAY * n_days))))
    n_terminals = 2 * n_customers

    # Profiles. Spending spans 5..100 per transaction, so a fraudulent 300 at one customer is an
    # ordinary purchase at another: the amount needs the customer's history to mean anything.
    cust_xy = rng.uniform(0, 100, size=(n_customers, 2))
    cust_mean = rng.uniform(5, 100, size=n_customers)
    cust_std = cust_mean / 2
    cust_rate = rng.uniform(0, 4, size=n_customers)
    cust_online = rng.uniform(0.05, 0.35, size=n_customers)
    term_xy = rng.uniform(0, 100, size=(n_terminals, 2))

    # Transactions per customer and day, then one row each.
    counts = rng.poisson(np.repeat(cust_rate[:, None], n_days, axis=1))
    cust = np.repeat(np.repeat(np.arange(n_customers), n_days), counts.ravel())
    day = np.repeat(np.tile(np.arange(n_days), n_customers), counts.ravel())
    n = len(cust)
    secs = rng.normal(86_400 / 2, 20_000, size=n)
    secs = np.where((secs < 0) | (secs >= 86_400), rng.uniform(0, 86_400, size=n), secs)
    amount = rng.normal(cust_mean[cust], cust_std[cust])
    amount = np.where(amount <= 0, rng.uniform(0, 2, size=n) * cust_mean[cust], amount)
    # Honest big purchases: 0.4 % of transactions are 2-5 times the usual amount.
    big = rng.random(n) < 0.004
    amount[big] = cust_mean[cust[big]] * rng.uniform(2, 5, size=big.sum())
    online = rng.random(n) < cust_online[cust]

    # Terminals: a random point within ~5 units of the customer, snapped to the nearest terminal.
    from scipy.spatial import cKDTree

    tree = cKDTree(term_xy)
    radius = 5 * np.sqrt(10_000 / n_terminals)  # about 80 terminals within reach, like the handbook
    ang = rng.uniform(0, 2 * np.pi, size=n)
    rad = radius * np.sqrt(rng.random(n))
    pts = cust_xy[cust] + np.c_[rad * np.cos(ang), rad * np.sin(ang)]
    terminal = tree.query(pts)[1].astype(np.int64)

    fraud = np.zeros(n, dtype=np.int8)
    pattern = np.zeros(n, dtype=np.int8)  # kept out of the file: it would give the label away

    # 1) Compromised terminals: about one terminal in 6,000 per day, for 14-28 days.
    n_bad_terms = rng.poisson(n_terminals * n_days / 6_000)
    for t, d0, length in zip(rng.integers(0, n_terminals, n_bad_terms),
                             rng.integers(0, n_days, n_bad_terms),
                             rng.integers(14, 29, n_bad_terms)):
        hit = (terminal == t) & (day >= d0) & (day < d0 + length) & (rng.random(n) < 0.8)
        fraud[hit], pattern[hit] = 1, 1

    # 2) Compromised cards: about one card in 900 per day, for 14 days; a third of its
    # transactions in that period are fraud, bigger, more often online and at night, elsewhere.
    n_bad_cards = rng.poisson(n_customers * n_days / 900)
    for c, d0 in zip(rng.integers(0, n_customers, n_bad_cards), rng.integers(0, n_days, n_bad_cards)):
        rows = np.flatnonzero((cust == c) & (day >= d0) & (day < d0 + 14))
        rows = rows[rng.random(len(rows)) < 1 / 3]
        if not len(rows):
            continue
        fraud[rows], pattern[rows] = 1, 2
        amount[rows] = cust_mean[c] * rng.uniform(1.5, 5, size=len(rows))
        online[rows] = rng.random(len(rows)) < 0.7
        night = rng.random(len(rows)) < 0.5
        secs[rows[night]] = rng.uniform(0, 6 * 3600, size=night.sum())
        terminal[rows] = rng.integers(0, n_terminals, size=len(rows))

    # 3) One-off amount spikes: 0.15 % of transactions, 3-8 times the customer's usual amount.
    spike = (rng.random(n) < 0.0015) & (fraud == 0)
    amount[spike] = cust_mean[cust[spike]] * rng.uniform(3, 8, size=spike.sum())
    fraud[spike], pattern[spike] = 1, 3

    ts = (pd.Timestamp(start_date) + pd.to_timedelta(day, unit="D")
          + pd.to_timedelta(np.floor(secs).astype(np.int64), unit="s"))
    df = pd.DataFrame({
        "timestamp": ts,
        "customer_id": np.char.add("C", np.char.zfill(cust.astype(str), 6)),
        "terminal_id": np.char.add("T", np.char.zfill(terminal.astype(str), 6)),
        "amount": np.round(amount, 2),
        "channel": np.where(online, "online", "in-store"),
        "is_fraud": fraud,
    })
    order = np.lexsort((cust, df["timestamp"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "transaction_id", np.arange(1, len(df) + 1))
    df.attrs["pattern"] = pattern[order]
    return df


def make_new_month(n_rows: int = 100_000, *, seed: int = 7, days: int = 28,
                   n_days: int = N_DAYS) -> pd.DataFrame:
    """The ``days`` after the sample log (same seed, customers and terminals), with mild drift.

    The same seed with a longer period draws the same customer and terminal profiles first, so
    the new rows continue the sample's cards and terminals, whose history the fraud run keeps;
    only the days after the sample are kept. Drift: amounts about 8 % higher and more online
    payments, as in a holiday month. Transaction ids continue after the sample's.
    """
    n_customers = max(20, int(round(n_rows / (MEAN_TX_PER_DAY * n_days))))
    longer = make_transactions(int(n_customers * MEAN_TX_PER_DAY * (n_days + days)), n_days=n_days + days,
                               seed=seed)
    start = pd.Timestamp(START_DATE) + pd.Timedelta(days=n_days)
    new = longer[longer["timestamp"] >= start].reset_index(drop=True)
    rng = np.random.default_rng(seed + 1)
    new["amount"] = np.round(new["amount"] * rng.normal(1.08, 0.03, len(new)), 2)
    flip = (new["channel"] == "in-store") & (rng.random(len(new)) < 0.08)
    new.loc[flip, "channel"] = "online"
    new["transaction_id"] = np.arange(10_000_001, 10_000_001 + len(new))
    return new


def _write(df: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        df.to_parquet(out, index=False)
    else:
        # mtime=0 in the gzip header keeps the file byte-identical between runs.
        df.to_csv(out, index=False, date_format="%Y-%m-%d %H:%M:%S",
                  compression={"method": "gzip", "mtime": 0} if out.suffix == ".gz" else None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=N_DAYS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--new-month-out", type=Path, default=None,
                        help="also write the 28 days after the log (drifted sample batch); default: beside "
                             "the bundled sample when --out is the bundled sample")
    args = parser.parse_args(argv)
    df = make_transactions(args.rows, n_days=args.days, seed=args.seed)
    out = args.out
    _write(df, out)
    pats = np.bincount(df.attrs["pattern"], minlength=4)
    print(f"{out}: {len(df):,} rows, {df['is_fraud'].mean():.2%} fraud "
          f"(terminals {pats[1]}, cards {pats[2]}, spikes {pats[3]})")
    new_out = args.new_month_out or (NEW_MONTH_OUT if out == DEFAULT_OUT else None)
    if new_out is not None:
        new = make_new_month(args.rows, seed=args.seed, n_days=args.days)
        _write(new, new_out)
        print(f"{new_out}: {len(new):,} rows, {new['is_fraud'].mean():.2%} fraud")


if __name__ == "__main__":
    main()
