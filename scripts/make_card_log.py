"""Make a look-alike of the popular public card-transaction log (the simulated "credit card
transactions" file with ``cc_num``, ``merchant``, ``category``, ``amt``, ``first``, ``last``, ...).

It has the same 22 columns and the patterns that matter to the fraud scenario's code paths, not
the published file's figures: use it to test reading, personal data that is a key, scoring and the
page; never to claim a quality figure.

* cards (``cc_num``: 13-19 digit numbers that pass the Luhn check, read as integers) belong to a
  holder with a name, gender, street, city, state, zip, home coordinates, city population, job and
  date of birth: personal data a model must not see, beside a card number that is also the key;
* each card spends at its own rate, mostly at merchants near home, in 14 categories with their own
  amount patterns (a grocery basket is not a plane ticket), by day more than by night;
* merchants (``merchant``, named "fraud_<company>" as in the published file) have a category and
  coordinates (``merch_lat``, ``merch_long``) near their customers;
* fraud comes in bursts: a compromised card makes a run of 3-12 transactions over one to three
  days, mostly late at night, online or at grocery tills, at amounts far above its usual ones,
  while its holder keeps spending as usual.

    python scripts/make_card_log.py --cards 1000 --days 90 --out /tmp/card_log.csv.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORIES = {  # category: (share of legitimate spending, median amount, spread of log amount)
    "grocery_pos": (0.14, 60, 0.6), "gas_transport": (0.13, 55, 0.4), "home": (0.10, 45, 0.8),
    "shopping_pos": (0.09, 40, 0.9), "kids_pets": (0.09, 35, 0.8), "shopping_net": (0.07, 30, 1.0),
    "entertainment": (0.07, 40, 0.9), "food_dining": (0.07, 30, 0.8), "personal_care": (0.07, 25, 0.8),
    "health_fitness": (0.06, 40, 0.7), "misc_pos": (0.06, 30, 1.0), "misc_net": (0.05, 20, 1.1),
    "grocery_net": (0.04, 50, 0.5), "travel": (0.03, 90, 1.2),
}
FRAUD_CATEGORIES = {"shopping_net": (900, 0.25), "grocery_pos": (300, 0.15), "misc_net": (750, 0.35)}
FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Susan",
         "Daniel", "Karen", "Paul", "Nancy", "Mark", "Lisa"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson"]
STREETS = ["Oak", "Pine", "Maple", "Cedar", "Elm", "Lake", "Hill", "Park", "River", "Sunset"]
JOBS = ["Nurse", "Engineer, civil", "Teacher", "Accountant", "Designer", "Farmer", "Pharmacist", "Lawyer"]
STATES = ["TX", "NY", "PA", "CA", "OH", "MI", "IL", "FL", "AL", "MO"]
COMPANY = ["Rippin", "Kub", "Heller", "Gutmann", "Lind", "Buckridge", "Kirlin", "Sipes", "Haley", "Keeling",
           "Sporer", "Koss", "Bauch", "Raynor", "Corwin", "Kemmer"]


def _luhn_numbers(rng, n: int) -> np.ndarray:
    """``n`` distinct card numbers (13, 15, 16 or 18 digits) that pass the Luhn check, as integers."""
    out: dict[int, None] = {}
    while len(out) < n:
        length = int(rng.choice([16, 16, 16, 15, 13, 18]))
        body = [int(rng.integers(1, 10))] + [int(d) for d in rng.integers(0, 10, length - 2)]
        total = 0
        for i, d in enumerate(reversed(body)):  # the check digit will sit right of these
            if i % 2 == 0:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        out[int("".join(map(str, body)) + str((10 - total % 10) % 10))] = None
    return np.array(list(out), dtype=np.int64)


def make_card_transactions(n_cards: int = 300, *, days: int = 60, seed: int = 0, fraud_cards: float = 0.04,
                           start: str = "2019-01-01") -> pd.DataFrame:
    """About ``n_cards`` x ``days`` x 1.5 transactions in time order, with fraud bursts on
    ``fraud_cards`` of the cards; same arguments, same log."""
    rng = np.random.default_rng(seed)
    cards = _luhn_numbers(rng, n_cards)
    home = np.c_[rng.uniform(30, 45, n_cards), rng.uniform(-110, -75, n_cards)]
    rate = rng.gamma(2.0, 0.75, n_cards)  # transactions per day
    scale = rng.lognormal(0, 0.35, n_cards)  # how much this holder spends, relative to others
    share = np.array([v[0] for v in CATEGORIES.values()])
    prefs = rng.dirichlet(share * 40, n_cards)
    names = list(CATEGORIES)
    n_merch = max(30, n_cards // 2)
    merch_cat = rng.choice(len(names), n_merch, p=share / share.sum())
    merch_xy = home[rng.integers(0, n_cards, n_merch)] + rng.normal(0, 0.6, (n_merch, 2))
    merch_name = np.array([f"fraud_{COMPANY[i % 16]}{'' if i < 16 else '-' + COMPANY[(i // 16) % 16]} "
                           f"{['LLC', 'Inc', 'Group', 'and Sons'][i % 4]}" for i in range(n_merch)])

    counts = rng.poisson(np.repeat(rate[:, None], days, axis=1))
    card = np.repeat(np.repeat(np.arange(n_cards), days), counts.ravel())
    day = np.repeat(np.tile(np.arange(days), n_cards), counts.ravel())
    n = len(card)
    hour = np.clip(rng.normal(14, 4.5, n), 0, 23.99)
    cat = (prefs[card].cumsum(1) > rng.random(n)[:, None]).argmax(1)
    # A merchant of that category, nearer home more often than not.
    by_cat = [np.flatnonzero(merch_cat == c) for c in range(len(names))]
    merch = np.array([rng.choice(by_cat[c]) if len(by_cat[c]) else int(rng.integers(n_merch)) for c in cat])
    med = np.array([v[1] for v in CATEGORIES.values()])[cat]
    spread = np.array([v[2] for v in CATEGORIES.values()])[cat]
    amt = med * scale[card] * rng.lognormal(0, spread)
    fraud = np.zeros(n, dtype=int)

    # Fraud bursts: extra rows on compromised cards, late at night, far above the usual amounts.
    bad = rng.choice(n_cards, max(2, int(round(fraud_cards * n_cards))), replace=False)
    rows = []
    fcats = list(FRAUD_CATEGORIES)
    for c in bad:
        first = int(rng.integers(days // 4, days - 1))
        k = int(rng.integers(3, 13))
        f_day = first + rng.integers(0, min(3, days - first), k)
        f_hour = (rng.normal(23.5, 1.8, k)) % 24
        f_cat_i = rng.integers(0, len(fcats), k)
        f_amt = [FRAUD_CATEGORIES[fcats[i]][0] * rng.lognormal(0, FRAUD_CATEGORIES[fcats[i]][1]) for i in f_cat_i]
        f_merch = [rng.choice(by_cat[names.index(fcats[i])]) if len(by_cat[names.index(fcats[i])])
                   else int(rng.integers(n_merch)) for i in f_cat_i]
        rows.append(np.c_[np.full(k, c), f_day, f_hour, [names.index(fcats[i]) for i in f_cat_i], f_merch, f_amt])
    extra = np.vstack(rows)
    card = np.r_[card, extra[:, 0].astype(int)]
    day = np.r_[day, extra[:, 1].astype(int)]
    hour = np.r_[hour, extra[:, 2]]
    cat = np.r_[cat, extra[:, 3].astype(int)]
    merch = np.r_[merch, extra[:, 4].astype(int)]
    amt = np.r_[amt, extra[:, 5]]
    fraud = np.r_[fraud, np.ones(len(extra), dtype=int)]

    t = pd.Timestamp(start) + pd.to_timedelta(day * 86_400 + np.round(hour * 3_600).astype(int), unit="s")
    holder = np.arange(n_cards)
    gender = np.where(rng.random(n_cards) < 0.5, "F", "M")
    people = pd.DataFrame({
        "first": [FIRST[i % 16] for i in rng.integers(0, 16, n_cards)],
        "last": [LAST[i % 16] for i in rng.integers(0, 16, n_cards)], "gender": gender,
        "street": [f"{int(rng.integers(10, 9999))} {STREETS[i % 10]} Street" for i in holder],
        "city": [f"Town{int(i) % 97}" for i in rng.integers(0, 10_000, n_cards)],
        "state": rng.choice(STATES, n_cards), "zip": rng.integers(10_000, 99_999, n_cards),
        "lat": home[:, 0].round(4), "long": home[:, 1].round(4),
        "city_pop": rng.lognormal(8, 1.8, n_cards).astype(int) + 20, "job": rng.choice(JOBS, n_cards),
        "dob": [str((pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(d))).date())
                for d in rng.integers(0, 18_000, n_cards)],
    })
    df = pd.DataFrame({"trans_date_trans_time": t.strftime("%Y-%m-%d %H:%M:%S"), "cc_num": cards[card],
                       "merchant": merch_name[merch], "category": np.array(names)[cat], "amt": np.round(amt, 2)})
    df = pd.concat([df, people.iloc[card].reset_index(drop=True)], axis=1)
    df["trans_num"] = [f"{a:016x}{b:016x}" for a, b in rng.integers(0, 2**62, (len(df), 2))]
    # Seconds since 1970, seven years behind the dates, as in the published file.
    df["unix_time"] = np.asarray((t - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)) - 86_400 * 365 * 7
    df["merch_lat"] = (merch_xy[merch, 0] + rng.normal(0, 0.3, len(df))).round(6)
    df["merch_long"] = (merch_xy[merch, 1] + rng.normal(0, 0.3, len(df))).round(6)
    df["is_fraud"] = fraud
    return df.sort_values(["trans_date_trans_time", "cc_num"], kind="stable").reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cards", type=int, default=1000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    df = make_card_transactions(args.cards, days=args.days, seed=args.seed)
    df.to_csv(args.out, index=False)
    print(f"{len(df):,} transactions, {int(df['is_fraud'].sum()):,} fraud, {df['cc_num'].nunique():,} cards -> "
          f"{args.out}")


if __name__ == "__main__":
    main()
