"""Generate a home-equity loan file shaped like the public HMEQ table, for tests and the credit benchmark.

HMEQ-like files are the opposite of a tidy table: blanks in almost every column, and the blanks
themselves carry risk. The file has the thirteen HMEQ columns:

* ``BAD`` (1 = defaulted or seriously delinquent, about 20 % of rows), ``LOAN`` (amount asked for,
  1,100 .. 89,900, never blank), ``MORTDUE`` (still due on the mortgage), ``VALUE`` (the property's
  value), ``REASON`` (``DebtCon`` / ``HomeImp``), ``JOB`` (``Other``, ``ProfExe``, ``Office``, ``Mgr``,
  ``Self``, ``Sales``), ``YOJ`` (years at the present job), ``DEROG`` (major derogatory reports),
  ``DELINQ`` (delinquent credit lines), ``CLAGE`` (age of the oldest credit line in months),
  ``NINQ`` (recent credit inquiries), ``CLNO`` (credit lines) and ``DEBTINC`` (debt-to-income ratio);
* blanks at about HMEQ's rates (``DEBTINC`` about 21 %, ``DEROG`` 12 %, ``DELINQ`` 10 %, ``MORTDUE``,
  ``YOJ`` and ``NINQ`` about 9 %, ``CLAGE`` 5 %, ``JOB`` 5 %, ``REASON`` 4 %, ``CLNO`` 4 %, ``VALUE``
  2 %), written as empty fields; about 3 % of rows are incomplete applications with most of the
  bureau columns blank at once;
* blanks that predict the outcome: a missing debt-to-income ratio is far more common for stressed
  applicants (who skip the income documentation), and a missing property value goes with default
  even more often; a blank ``JOB`` is a little riskier than any job;
* non-linear risk: derogatory reports and delinquent lines add risk with diminishing returns, a
  debt-to-income ratio above about 43 adds a step, a young credit history and many recent
  inquiries add risk, and the job and the reason shift it;
* repeat applications: about 20 % of rows are the same household applying again, every column
  equal to an earlier row except the loan amount, with the same outcome.

Everything is drawn from one seeded numpy Generator, so the file is identical on every run and
machine. It tests code paths; no quality figure is claimed on it:

    python scripts/make_home_equity.py --rows 6000 --out /tmp/hmeq.csv

``make_home_equity(n_rows, seed)`` returns the frame; ``write_home_equity(path, n_rows, seed)``
writes the CSV (no index column, blanks as empty fields).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "BAD"
COLUMNS = [TARGET, "LOAN", "MORTDUE", "VALUE", "REASON", "JOB", "YOJ", "DEROG", "DELINQ", "CLAGE", "NINQ",
           "CLNO", "DEBTINC"]
JOBS = ["Other", "ProfExe", "Office", "Mgr", "Self", "Sales"]
JOB_SHARES = [0.42, 0.224, 0.167, 0.135, 0.034, 0.02]
JOB_RISK = {"Other": 0.15, "ProfExe": -0.25, "Office": -0.55, "Mgr": 0.1, "Self": 0.45, "Sales": 0.9}
# Blank rates per column, before the incomplete applications add theirs (HMEQ's rates overall).
BLANK = {"MORTDUE": 0.06, "VALUE": 0.019, "REASON": 0.042, "JOB": 0.047, "YOJ": 0.06, "DEROG": 0.095,
         "DELINQ": 0.072, "CLAGE": 0.025, "NINQ": 0.06, "CLNO": 0.008}
INCOMPLETE = ["MORTDUE", "YOJ", "DEROG", "DELINQ", "CLAGE", "NINQ", "CLNO"]
REPEAT_SHARE = 0.2
# Logit offset that gives about 20 % positives (found once by bisection, seed 0).
_INTERCEPT = -3.55


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_home_equity(n_rows: int = 6000, seed: int = 0) -> pd.DataFrame:
    """An HMEQ-like frame of ``n_rows`` loans (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows)
    stress = rng.normal(0, 1, n)

    value = np.clip(np.exp(rng.normal(np.log(89_000), 0.5, n)), 8_000, 855_909).round(0)
    mortdue = np.clip(value * rng.beta(6, 2.4, n) * np.exp(0.08 * stress), 2_063, 399_550).round(0)
    loan = np.clip(np.exp(rng.normal(np.log(16_300), 0.55, n)), 1_100, 89_900).round(-2)
    reason = np.where(rng.random(n) < 0.69, "DebtCon", "HomeImp").astype(object)
    job = rng.choice(JOBS, n, p=JOB_SHARES).astype(object)
    yoj = np.clip(rng.gamma(1.3, 6.8, n), 0, 41).round(1)
    derog = np.clip(rng.poisson(np.exp(-1.9 + 0.9 * stress)), 0, 10).astype(float)
    delinq = np.clip(rng.poisson(np.exp(-1.2 + 0.9 * stress) * rng.gamma(1.0, 1.0, n)), 0, 15).astype(float)
    clage = np.clip(rng.gamma(4.4, (180 - 22 * stress) / 4.4), 0, 1_168).round(2)
    ninq = np.clip(rng.poisson(np.exp(0.05 + 0.35 * stress) * rng.gamma(0.8, 1.25, n)), 0, 17).astype(float)
    clno = np.clip(rng.poisson(rng.gamma(4.5, 21 / 4.5, n)), 0, 71).astype(float)
    debtinc = np.clip(rng.normal(33.5 + 2.5 * stress, 7.5, n), 0.5, None)
    tail = rng.random(n) < 0.01
    debtinc[tail] = rng.uniform(50, 203, tail.sum())
    debtinc = debtinc.round(4)

    # Blanks that carry risk: stressed applicants skip the income papers (no debt-to-income ratio)
    # and a missing property value goes with default more often still.
    debtinc_blank = rng.random(n) < _sigmoid(-1.55 + 1.1 * stress)
    value_blank = rng.random(n) < BLANK["VALUE"] * np.exp(0.6 * stress) / np.exp(0.18)
    job_blank = rng.random(n) < BLANK["JOB"]

    score = (
        _INTERCEPT
        + 1.3 * np.log1p(derog) + 0.9 * np.log1p(delinq)
        + 0.025 * (debtinc - 34) + 1.6 * _sigmoid((debtinc - 43) * 0.8)
        - 0.006 * (np.clip(clage, 0, 600) - 180) + 0.22 * np.clip(ninq, 0, 8)
        + np.array([JOB_RISK[j] for j in job]) + 0.35 * job_blank
        + 0.2 * (reason == "HomeImp")
        - 0.25 * np.log(loan / 16_300) + 0.4 * np.clip(mortdue / value - 0.7, -1, 1)
        + 2.2 * debtinc_blank + 2.6 * value_blank
        + 0.35 * stress
    )
    y = (rng.random(n) < _sigmoid(score)).astype(int)

    df = pd.DataFrame({
        TARGET: y, "LOAN": loan.astype(int), "MORTDUE": mortdue, "VALUE": value, "REASON": reason, "JOB": job,
        "YOJ": yoj, "DEROG": derog, "DELINQ": delinq, "CLAGE": clage, "NINQ": ninq, "CLNO": clno,
        "DEBTINC": debtinc,
    }, columns=COLUMNS)
    df.loc[debtinc_blank, "DEBTINC"] = np.nan
    df.loc[value_blank, "VALUE"] = np.nan
    df.loc[job_blank, "JOB"] = np.nan
    for col in ("MORTDUE", "REASON", "YOJ", "DEROG", "DELINQ", "CLAGE", "NINQ", "CLNO"):
        df.loc[rng.random(n) < BLANK[col], col] = np.nan
    incomplete = rng.random(n) < 0.03
    for col in INCOMPLETE:
        df.loc[incomplete & (rng.random(n) < 0.8), col] = np.nan

    # Repeat applications: a later row copies an earlier household, all but the loan amount.
    repeat = np.flatnonzero(rng.random(n) < REPEAT_SHARE)
    repeat = repeat[repeat > 0]
    source = (rng.random(len(repeat)) * repeat).astype(int)
    keep = [c for c in COLUMNS if c != "LOAN"]
    df.loc[repeat, keep] = df.loc[source, keep].to_numpy()
    df[TARGET] = df[TARGET].astype(int)
    for col in ("MORTDUE", "VALUE", "YOJ", "DEROG", "DELINQ", "CLAGE", "NINQ", "CLNO", "DEBTINC"):
        df[col] = df[col].astype(float)
    return df


def write_home_equity(path, n_rows: int = 6000, seed: int = 0) -> Path:
    """Write the CSV: the thirteen columns, no index, blanks as empty fields."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_home_equity(n_rows, seed).to_csv(path, index=False)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = write_home_equity(args.out, args.rows, args.seed)
    df = pd.read_csv(out)
    print(f"wrote {out} ({len(df):,} rows, {df[TARGET].mean():.2%} positives)")


if __name__ == "__main__":
    main()
