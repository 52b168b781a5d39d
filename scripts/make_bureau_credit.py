"""Generate a credit-bureau file shaped like the one analysts bring from Kaggle's "Give Me Some
Credit" (cs-training.csv), for tests and the credit benchmark.

The file has the same eleven columns — the outcome ``SeriousDlqin2yrs`` and ten bureau features —
and the same habits that trip up a model built for tidy data:

* a leading row-number column with an empty header (pandas reads it as ``Unnamed: 0``), counting
  1 .. n, as ``DataFrame.to_csv`` writes the index;
* the three past-due counts (``NumberOfTime30-59DaysPastDueNotWorse``,
  ``NumberOfTime60-89DaysPastDueNotWorse``, ``NumberOfTimes90DaysLate``) hold small counts (0 for
  most people, rarely above 10) plus the codes 96 and 98 for "unknown", always in all three at
  once (about 0.18 % of rows); those applicants default far more often than the rest;
* ``RevolvingUtilizationOfUnsecuredLines`` is a share (mostly 0 .. 1) with a heavy tail of data
  entry errors in the hundreds and thousands;
* ``DebtRatio`` is below 1 for most rows, but where ``MonthlyIncome`` is missing (about 20 % of
  rows) it holds the monthly debt itself, in the hundreds and thousands;
* ``MonthlyIncome`` is log-normal with a long tail and some zeros; ``NumberOfDependents`` is
  missing for about 2.6 % of rows (always rows whose income is missing too);
* about 6.7 % of rows are positive (``SeriousDlqin2yrs`` = 1).

The outcome comes from a latent risk score with realistic non-linear shapes: risk rises steeply
with utilisation between 0.3 and 1 and flattens above it, each past-due count adds risk with
diminishing returns (90 days late the most), risk falls with age and rises again slightly for the
oldest, a U-shaped debt ratio, lower income means more risk, and an "unknown history" code means
much more. Everything is drawn from one seeded numpy Generator, so the file is identical on every
run and machine:

    python scripts/make_bureau_credit.py --rows 150000 --out /tmp/cs-training.csv
    python scripts/make_bureau_credit.py --rows 5000 --seed 1 --out /tmp/small.csv

``make_bureau_credit(n_rows, seed)`` returns the frame (index named as the file has it, starting
at 1); ``write_bureau_credit(path, n_rows, seed)`` writes the CSV with the unnamed index column.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "SeriousDlqin2yrs"
PAST_DUE = ["NumberOfTime30-59DaysPastDueNotWorse", "NumberOfTime60-89DaysPastDueNotWorse",
            "NumberOfTimes90DaysLate"]
COLUMNS = [TARGET, "RevolvingUtilizationOfUnsecuredLines", "age", PAST_DUE[0], "DebtRatio", "MonthlyIncome",
           "NumberOfOpenCreditLinesAndLoans", PAST_DUE[2], "NumberRealEstateLoansOrLines", PAST_DUE[1],
           "NumberOfDependents"]
# Logit offset that gives about 6.7 % positives at every size (found once by bisection, seed 0).
_INTERCEPT = -4.05


def make_bureau_credit(n_rows: int = 150_000, seed: int = 0) -> pd.DataFrame:
    """A Give-Me-Some-Credit-like frame; the index (1 .. n) is what the file's unnamed column holds."""
    rng = np.random.default_rng(seed)
    n = int(n_rows)

    age = np.clip(rng.normal(52, 14.5, n), 21, 103).round().astype(int)
    young = (age - 21) / 60.0

    # Hidden financial stress drives utilisation, lateness, debt and (partly) the outcome.
    stress = rng.normal(0, 1, n)

    # Revolving utilisation: a beta-shaped share, skewed higher for stressed applicants, plus a
    # heavy tail of entry errors (a limit typed as 0.01 of itself, or a balance in cents).
    util = rng.beta(0.6 + 0.5 * np.clip(stress + 1, 0, None), 2.2, n)
    over = rng.random(n) < 0.022
    util[over] = 1 + rng.exponential(0.3, over.sum())
    wild = rng.random(n) < 0.0022
    util[wild] = np.exp(rng.uniform(np.log(20), np.log(50_000), wild.sum()))

    # Monthly income: log-normal, rising with age until the fifties; some zeros; 20 % missing.
    peak = 1 - ((age - 52) / 40.0) ** 2
    income = np.exp(rng.normal(8.35 + 0.35 * peak - 0.12 * stress, 0.65, n))
    income[rng.random(n) < 0.012] = 0.0
    income = income.round()
    income_missing = rng.random(n) < 0.198

    # Debt ratio: monthly debt over income. Without an income the bureau stores the debt itself.
    debt = income * rng.gamma(1.6, 0.22 * np.exp(0.25 * stress), n)
    ratio = np.where(income > 0, debt / np.maximum(income, 1), rng.gamma(1.2, 900, n))
    ratio = np.where(income_missing, rng.lognormal(6.6, 1.4, n) * (rng.random(n) > 0.12), ratio)
    ratio = np.round(ratio, 6)

    lines = rng.poisson(np.clip(8.5 + 2.5 * np.sin(young * 3) + rng.normal(0, 2.5, n), 0.3, None))
    real_estate = rng.poisson(np.clip(1.0 + 0.4 * peak + 0.00003 * np.nan_to_num(income), 0.05, 8))
    dependents = rng.poisson(np.clip(0.75 * (1 - young) + 0.15, 0.05, None))
    dependents = np.where(rng.random(n) < 0.01, rng.integers(5, 21, n), dependents).astype(float)
    dependents[income_missing & (rng.random(n) < 0.13)] = np.nan

    # Past-due counts: zero for most; stressed applicants are late more often.
    late_rate = np.exp(-2.3 + 0.9 * stress)
    d30 = rng.poisson(late_rate)
    d60 = rng.poisson(late_rate * 0.35)
    d90 = rng.poisson(late_rate * 0.35 * np.exp(0.3 * stress))
    unknown = rng.random(n) < 0.0018
    code = np.where(rng.random(n) < 0.98, 98, 96)
    d30, d60, d90 = (np.clip(d, 0, 13 if i == 0 else 17) for i, d in enumerate((d30, d60, d90)))

    # The latent risk: non-linear in each feature, then a Bernoulli draw.
    u = np.clip(util, 0, 1.5)
    score = (
        _INTERCEPT
        + 3.4 / (1 + np.exp(-(u - 0.55) * 8))
        + 1.0 * np.log1p(d30) + 1.3 * np.log1p(d60) + 1.9 * np.log1p(d90)
        - 1.4 * young + 0.9 * np.clip(age - 85, 0, None) / 15
        + 0.35 * (np.clip(np.where(income_missing, 0.35, ratio), 0, 3) - 0.35) ** 2
        - 0.45 * np.where(income_missing, 0.0, np.clip(np.log((income + 500) / 5500), -2, 2))
        + 0.08 * np.nan_to_num(dependents)
        - 0.06 * np.clip(lines - 8, -8, 10) * (lines < 4)
        + 0.15 * stress
        + 0.12 * income_missing
    )
    score = np.where(unknown, score + 3.0, score)
    y = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(int)

    d30, d60, d90 = (np.where(unknown, code, d) for d in (d30, d60, d90))
    df = pd.DataFrame({
        TARGET: y,
        "RevolvingUtilizationOfUnsecuredLines": np.round(util, 8),
        "age": age,
        PAST_DUE[0]: d30,
        "DebtRatio": ratio,
        "MonthlyIncome": np.where(income_missing, np.nan, income),
        "NumberOfOpenCreditLinesAndLoans": lines,
        PAST_DUE[2]: d90,
        "NumberRealEstateLoansOrLines": real_estate,
        PAST_DUE[1]: d60,
        "NumberOfDependents": dependents,
    }, columns=COLUMNS)
    df.index = pd.RangeIndex(1, n + 1)
    return df


def write_bureau_credit(path, n_rows: int = 150_000, seed: int = 0) -> Path:
    """Write the CSV as Kaggle ships it: an unnamed leading row-number column, then the 11 columns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_bureau_credit(n_rows, seed).to_csv(path, index=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=150_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = write_bureau_credit(args.out, args.rows, args.seed)
    df = pd.read_csv(out)
    print(f"wrote {out} ({len(df):,} rows, {df[TARGET].mean():.2%} positives)")


if __name__ == "__main__":
    main()
