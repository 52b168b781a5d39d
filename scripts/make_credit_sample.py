"""Generate the bundled credit applications sample (sample_data/credit_applications.csv).

The data is synthetic but shaped like a retail lending book: applicants with income, debt ratio,
employment length, a requested loan, bureau-style history and a sensitive attribute (sex). Default
is drawn from a latent risk model with noise, so a good model reaches a ROC-AUC around 0.8 but the
classes are not trivially separable. Everything is drawn from one seeded numpy Generator, so the
file is identical on every run:

    python scripts/make_credit_sample.py            # sample_data/credit_applications.csv and
                                                    # credit_new_month.csv (next month, mild drift)
    python scripts/make_credit_sample.py --rows 2000 --seed 7 --out /tmp/x.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "sample_data" / "credit_applications.csv"
NEW_MONTH_OUT = DEFAULT_OUT.with_name("credit_new_month.csv")

PURPOSES = ["debt_consolidation", "car", "home_improvement", "education", "business", "medical", "other"]
PURPOSE_P = [0.34, 0.20, 0.16, 0.07, 0.08, 0.06, 0.09]
# Extra log-odds of default by purpose: small-business and medical loans are riskier.
PURPOSE_RISK = {"debt_consolidation": 0.15, "car": -0.25, "home_improvement": -0.2, "education": 0.05,
                "business": 0.45, "medical": 0.3, "other": 0.1}
REGIONS = ["North", "South", "East", "West", "Central"]
REGION_P = [0.22, 0.24, 0.18, 0.2, 0.16]
REGION_RISK = {"North": -0.05, "South": 0.1, "East": 0.05, "West": -0.1, "Central": 0.0}
HOUSING_RISK = {"own": -0.35, "mortgage": -0.15, "rent": 0.2, "other": 0.3}


def make_credit_sample(n_rows: int = 5000, seed: int = 42, *, shift: float = 0.0,
                       first_id: int = 100000) -> pd.DataFrame:
    """Return a synthetic credit applications frame with a 0/1 `default` target.

    ``shift`` > 0 makes a later population with mild drift (applicants a little younger, more
    financial stress: higher utilisation, more inquiries, more business loans, and a campaign that
    brings more applicants from the North); 0 gives the
    bundled sample unchanged. The same random draws are made either way.
    """
    rng = np.random.default_rng(seed)
    n = n_rows

    age = np.clip(rng.gamma(shape=9.0, scale=4.3, size=n) + 2 - 3 * shift, 21, 75).round().astype(int)
    sex = rng.choice(["F", "M"], size=n, p=[0.46, 0.54])
    # A later month's campaign in the North shifts the regional mix (a "watch" on the drift view).
    region_p = np.array(REGION_P) + shift * np.array([0.5, 0, 0, 0, 0])
    region = rng.choice(REGIONS, size=n, p=region_p / region_p.sum())

    # Employment length grows with age but is capped by working life.
    employment_years = np.minimum(rng.exponential(scale=2.0 + 0.12 * (age - 21), size=n), age - 18)
    employment_years = np.round(employment_years, 1)

    # Income: log-normal, rising with tenure; a modest pay gap makes the fairness view non-trivial
    # without sex itself ever entering the risk model.
    log_income = (10.55 + 0.018 * np.minimum(employment_years, 25) + 0.004 * (age - 21)
                  - 0.07 * (sex == "F") + rng.normal(0, 0.42, size=n))
    annual_income = np.round(np.exp(log_income), -2)

    housing_p = np.column_stack([
        np.clip(0.05 + 0.008 * (age - 21), 0.05, 0.45),  # own
        np.clip(0.15 + 0.006 * (age - 21), 0.15, 0.40),  # mortgage
        np.full(n, 0.0),  # rent: the remainder
        np.full(n, 0.06),  # other
    ])
    housing_p[:, 2] = 1 - housing_p.sum(axis=1)
    housing = np.array(["own", "mortgage", "rent", "other"])[
        (rng.random(n)[:, None] > np.cumsum(housing_p, axis=1)).sum(axis=1)]

    purpose_p = np.array(PURPOSE_P) + shift * np.array([0, -0.04, 0, 0, 0.06, 0, -0.02])
    purpose = rng.choice(PURPOSES, size=n, p=purpose_p / purpose_p.sum())
    loan_term_months = rng.choice([12, 24, 36, 48, 60], size=n, p=[0.12, 0.23, 0.33, 0.17, 0.15])
    loan_amount = np.round(np.clip(annual_income * rng.lognormal(np.log(0.22), 0.55, size=n),
                                   1000, 60000), -2)

    credit_history_years = np.round(np.clip(rng.normal((age - 18) * 0.55, 3.0, size=n), 0, age - 18), 1)
    open_accounts = rng.poisson(2 + 0.08 * credit_history_years, size=n)

    # A latent "financial stress" factor drives utilisation, delinquencies and debt ratio together,
    # which is what makes these features correlated in real bureau data.
    stress = rng.normal(0, 1, size=n) + 0.35 * shift
    credit_utilisation = np.round(np.clip(1 / (1 + np.exp(-(-0.6 + 0.9 * stress + rng.normal(0, 0.8, n)))), 0, 1.2), 3)
    past_delinquencies = rng.poisson(np.exp(-1.6 + 0.7 * stress), size=n)
    recent_inquiries = rng.poisson(np.exp(-0.2 + 0.35 * stress), size=n)
    monthly_payment = loan_amount / loan_term_months * (1 + 0.006 * loan_term_months)
    other_debt = annual_income * np.clip(rng.normal(0.18 + 0.07 * stress, 0.08, n), 0, None) / 12
    debt_to_income = np.round((other_debt + monthly_payment) / (annual_income / 12), 3)

    logit = (
        -2.0
        + 3.2 * (debt_to_income - 0.3)
        + 2.0 * (credit_utilisation - 0.4)
        + 0.55 * np.minimum(past_delinquencies, 6)
        + 0.18 * np.minimum(recent_inquiries, 8)
        - 0.07 * np.minimum(employment_years, 20)
        - 0.5 * (np.log(annual_income) - 10.6)
        + 0.015 * (loan_term_months - 36)
        - 0.035 * np.minimum(credit_history_years, 25)
        + 0.03 * np.maximum(30 - age, 0)
        + np.vectorize(PURPOSE_RISK.get)(purpose)
        + np.vectorize(HOUSING_RISK.get)(housing)
        + np.vectorize(REGION_RISK.get)(region)
        + 0.25 * stress  # stress that the applicant's file does not reveal
        + rng.normal(0, 0.35, size=n)  # idiosyncratic noise keeps the problem from being separable
    )
    default = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    df = pd.DataFrame({
        "applicant_id": [f"APP{first_id + i}" for i in range(n)],
        "age": age,
        "sex": sex,
        "region": region,
        "housing": housing,
        "employment_years": employment_years,
        "annual_income": annual_income,
        "loan_amount": loan_amount,
        "loan_term_months": loan_term_months,
        "purpose": purpose,
        "debt_to_income": debt_to_income,
        "credit_utilisation": credit_utilisation,
        "open_accounts": open_accounts,
        "past_delinquencies": past_delinquencies,
        "recent_inquiries": recent_inquiries,
        "credit_history_years": credit_history_years,
        "default": default,
    })
    # Missing values as they occur in application data: unreported employment, thin bureau files.
    for col, frac in [("employment_years", 0.04), ("credit_utilisation", 0.03),
                      ("annual_income", 0.01), ("housing", 0.015), ("credit_history_years", 0.02)]:
        df.loc[rng.random(n) < frac, col] = np.nan
    return df


def make_new_month(n_rows: int = 1500, seed: int = 43) -> pd.DataFrame:
    """The next month's applicants (mild drift, new ids) for the Score page and the Drift tab demos."""
    return make_credit_sample(n_rows, seed, shift=0.6, first_id=200000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--new-month-out", type=Path, default=NEW_MONTH_OUT,
                        help="also write the next month's applicants here (drifted sample batch)")
    args = parser.parse_args(argv)
    df = make_credit_sample(args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    print(f"wrote {len(df)} rows to {args.out} (default rate {df['default'].mean():.1%})")
    new = make_new_month()
    new.to_csv(args.new_month_out, index=False)
    print(f"wrote {len(new)} rows to {args.new_month_out} (default rate {new['default'].mean():.1%})")


if __name__ == "__main__":
    main()
