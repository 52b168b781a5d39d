"""Column roles of a transaction log, their detection, and validation of the raw log."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list

# Names seen in public fraud data sets (handbook simulator, Kaggle sets, our sample), lower case.
ALIASES = {
    "time": ("timestamp", "tx_datetime", "datetime", "transaction_time", "trans_date_trans_time",
             "event_time", "time", "date", "step"),
    "amount": ("amount", "tx_amount", "amt", "transaction_amount", "value"),
    "customer": ("customer_id", "card_id", "cc_num", "card", "customer", "account_id", "user_id",
                 "card_number", "cc_number", "pan", "account_number", "nameorig"),
    "terminal": ("terminal_id", "merchant_id", "merchant", "terminal", "store_id", "namedest"),
    "target": ("is_fraud", "tx_fraud", "fraud", "isfraud", "label", "class"),
}
ROLE_NAMES = {"time": "timestamp", "amount": "amount", "customer": "customer / card",
              "terminal": "terminal / merchant", "target": "fraud label"}
# Columns that describe the label rather than the transaction; never used as model inputs.
LEAKY = ("tx_fraud_scenario", "fraud_scenario", "pattern")


# Personal data that can be a customer key, most specific first (core.data.privacy kinds).
KEY_KINDS = ("card", "iban", "email", "phone")
KEY_ROLE = "customer / card key"


@dataclass(frozen=True)
class FraudColumns:
    """Which column plays which role. ``customer`` and ``terminal`` are optional. ``time_unit`` is
    None for dates and times, or the unit of elapsed time (``core.fraud.clock.UNITS``)."""

    time: str
    amount: str
    target: str | None = "is_fraud"
    customer: str | None = None
    terminal: str | None = None
    time_unit: str | None = None
    time_notice: str | None = field(default=None, compare=False)  # what was assumed about the unit

    def roles(self) -> dict[str, str]:
        """Role -> column, for the roles that are set."""
        return {k: getattr(self, k) for k in ROLE_NAMES if getattr(self, k)}

    @property
    def clock(self):
        from core.fraud.clock import Clock

        return Clock(self.time_unit)


def detect_columns(df: pd.DataFrame) -> dict[str, str | None]:
    """Guess each role's column from common names; ``None`` where nothing matches."""
    lower = {str(c).lower(): c for c in df.columns}
    found: dict[str, str | None] = {}
    for role, names in ALIASES.items():
        found[role] = next((lower[n] for n in names if n in lower), None)
    return found


def make_columns(df: pd.DataFrame, *, time=None, amount=None, target=None, customer=None,
                 terminal=None, require_target: bool = True, time_unit: str | None = None) -> FraudColumns:
    """Fill unset roles from :func:`detect_columns` and check the result against ``df``.

    ``time_unit`` None / "auto" reads dates, or guesses the unit of a numeric time column
    (``core.fraud.clock``; the guess and its reason are in ``time_notice``); a unit reads the time
    column as elapsed time in it."""
    guess = detect_columns(df)
    given = {"time": time, "amount": amount, "target": target, "customer": customer,
             "terminal": terminal}
    roles = {k: (v if v else guess[k]) for k, v in given.items()}
    needed = ["time", "amount"] + (["target"] if require_target else [])
    for role in needed:
        if not roles[role]:
            raise DataValidationError(
                f"Expected {'an' if ROLE_NAMES[role][0] in 'aeiou' else 'a'} {ROLE_NAMES[role]} column; got none of the usual names "
                f"({', '.join(ALIASES[role][:4])}, ...) among {short_list(df.columns)}. "
                f"Fix: choose the {ROLE_NAMES[role]} column in the column mapping "
                f"(CLI: --{'target' if role == 'target' else role + '-col'}).")
    for role, col in roles.items():
        if col and col not in df.columns:
            raise DataValidationError(
                f"Expected column '{col}' for the {ROLE_NAMES[role]}; it is not in the file, "
                f"which has {short_list(df.columns)}. Fix: pick one of those columns.")
    used = [c for c in roles.values() if c]
    dupes = sorted({c for c in used if used.count(c) > 1})
    if dupes:
        raise DataValidationError(
            f"Expected a different column for each role; got '{dupes[0]}' in more than one role. "
            "Fix: map each of timestamp, amount, customer, terminal and label to its own column.")
    from core.fraud.clock import resolve_time_unit

    unit, notice = resolve_time_unit(df[roles["time"]], roles["time"], time_unit)
    return FraudColumns(**roles, time_unit=unit, time_notice=notice)


def customer_key_rule(customer: str | None = None):
    """Which personal column is kept as the customer key (``core.data.pseudonym.KeyRule.pick``).

    A column holding personal data is a key when the analyst maps it as the customer / card
    (``customer``); else when the column mapping would pick it by its name (cc_num, card_number,
    ...) and its values repeat like a key's; else, when no column has a customer's name, the first
    card, account, e-mail or phone column whose values repeat like a key's (``core.data.pseudonym.repeats_like_key``: most rows share their
    value with another row). Names, addresses and birth dates are never keys: they do not identify
    one customer. Everything else that is personal is dropped as usual.
    """
    from core.data.pseudonym import repeats_like_key

    def pick(df: pd.DataFrame, found) -> list[str]:
        personal = {c.column: c for c in found}
        if customer:
            return [customer] if customer in personal else []
        guess = detect_columns(df)["customer"]
        if guess:  # the mapping's pick by name; nothing else becomes the key beside it
            return [guess] if guess in personal and repeats_like_key(df[guess]) else []
        for kind in KEY_KINDS:
            for c in found:
                if c.kind == kind and repeats_like_key(df[c.column]):
                    return [c.column]
        return []

    return pick


def keyed_columns(df: pd.DataFrame) -> list[dict]:
    """The personal columns kept as keys when ``df`` was read (``df.attrs["personal_data"]``)."""
    return [p for p in df.attrs.get("personal_data") or [] if isinstance(p, dict) and p.get("key")]


def keyed_customer(df: pd.DataFrame) -> str | None:
    """The column kept as the customer key when ``df`` was read, or None."""
    keyed = keyed_columns(df)
    return str(keyed[0]["column"]) if keyed else None


def lost_key_notice(df: pd.DataFrame) -> str | None:
    """Why a left-out personal column named like a customer key takes the customer features with it."""
    names = set(ALIASES["customer"])
    lost = [p["column"] for p in df.attrs.get("personal_data") or []
            if isinstance(p, dict) and not p.get("key") and str(p.get("column")).lower() in names]
    if not lost:
        return None
    return (f"'{lost[0]}' holds personal data and was left out: its values do not repeat across rows the way a "
            "customer key's do, so it could not group a customer's transactions. Without a customer column there "
            "are no per-customer history features. Map a customer / card column (--customer-col) to keep it as a "
            "key, replaced by a keyed pseudonym.")


def extra_feature_columns(df: pd.DataFrame, cols: FraudColumns) -> list[str]:
    """Other columns that can feed the model: numeric or low-cardinality text, not IDs."""
    taken = set(cols.roles().values())
    out = []
    for c in df.columns:
        if c in taken or str(c).lower() in LEAKY or str(c).lower().endswith("_id"):
            continue
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            # Whole numbers with a distinct value per row are a row number or an id, not a feature;
            # measurements (anonymised components V1..V28, coordinates) are distinct per row too.
            whole = pd.api.types.is_integer_dtype(s) or bool((s.dropna() % 1 == 0).all())
            if not whole or s.nunique() < 0.9 * len(s):
                out.append(c)
        elif s.nunique() <= 30:
            out.append(c)
    return out


def parse_labels(s: pd.Series, name: str) -> np.ndarray:
    """Fraud labels as 0/1 (NaN where unknown). Accepts 0/1, True/False, yes/no, fraud/legit."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy()
    mapping = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0,
               "fraud": 1.0, "legit": 0.0, "genuine": 0.0, "1.0": 1.0, "0.0": 0.0}
    text = s.astype("string").str.strip().str.lower()
    out = text.map(mapping)
    bad = text.notna() & out.isna()
    if bad.any():
        examples = short_list(sorted(text[bad].unique().tolist()), limit=5)
        raise DataValidationError(
            f"Expected the fraud label '{name}' to hold 0/1 (or yes/no, true/false); got "
            f"{int(bad.sum())} other value(s), e.g. {examples}. Fix: map the label to 0 = legitimate, "
            "1 = fraud, or choose the right label column.")
    return out.astype(float).to_numpy()


def prepare_log(df: pd.DataFrame, cols: FraudColumns, *, require_labels: bool = True
                ) -> pd.DataFrame:
    """A clean copy of the log sorted by time: parsed timestamps, numeric amounts, 0/1 labels.

    The original row number is kept in column ``_row`` so results map back to the user's file.
    """
    if len(df) == 0:
        raise DataValidationError("Expected a transaction log with rows; got an empty file. "
                                  "Fix: upload a file with at least a few hundred transactions.")
    out = df.copy()
    out["_row"] = np.arange(len(df))
    raw_t = df[cols.time]
    # ISO 8601 is fast and covers most exports; "mixed" is slower but reads anything else. Mixed
    # time zones become UTC; years pandas cannot hold (9999) count as unreadable.
    from core.data.datasets import parse_datetimes
    from core.fraud.clock import is_numeric_time, to_timestamps

    if cols.time_unit and not pd.api.types.is_datetime64_any_dtype(raw_t):  # a prepared log stays as it is
        t = to_timestamps(raw_t, cols.time_unit, cols.time)
    elif is_numeric_time(raw_t):
        v = pd.to_numeric(raw_t, errors="coerce")
        raise DataValidationError(
            f"Expected dates and times in '{cols.time}'; got numbers ({v.min():,.6g} .. {v.max():,.6g}), which read "
            "as dates would all fall on 1970-01-01. Fix: read them as elapsed time with a time unit (--time-unit "
            "auto|seconds|minutes|hours|days|steps, or the page's Time unit).")
    else:
        t = parse_datetimes(raw_t)
    bad = t.isna()
    if bad.any() and cols.time_unit:
        raise DataValidationError(
            f"Expected a time in every row of '{cols.time}' ({cols.time_unit} since the log's start); {int(bad.sum())} "
            f"of {len(df)} rows are empty. Fix: fill them or drop those rows.")
    if bad.any():
        examples = short_list(raw_t[bad].astype(str).head(3))
        raise DataValidationError(
            f"Expected timestamps in '{cols.time}'; {int(bad.sum())} of {len(df)} rows could not be "
            f"read as a date and time, e.g. {examples}. Fix: use a format like 2024-03-04 13:45:00, "
            "or pick the right timestamp column.")
    out[cols.time] = t.astype("datetime64[ns]")
    amt = pd.to_numeric(df[cols.amount], errors="coerce")
    bad = amt.isna()
    if bad.any():
        examples = short_list(df[cols.amount][bad].astype(str).head(3))
        raise DataValidationError(
            f"Expected numbers in the amount column '{cols.amount}'; {int(bad.sum())} rows are empty "
            f"or not numbers, e.g. {examples}. Fix: remove currency signs and fill the gaps.")
    out[cols.amount] = amt.astype(float)
    if cols.target and cols.target in df.columns:
        y = parse_labels(df[cols.target], cols.target)
        if require_labels and np.isnan(y).any():
            raise DataValidationError(
                f"Expected a fraud label on every row of '{cols.target}'; got {int(np.isnan(y).sum())} "
                "empty labels. Fix: fill them (0 = legitimate, 1 = fraud) or drop those rows.")
        out[cols.target] = y
    elif require_labels:
        raise DataValidationError(
            f"Expected a fraud label column; got none. Fix: choose the label column.")
    for role in ("customer", "terminal"):
        c = getattr(cols, role)
        if c:
            out[c] = df[c].astype("string").fillna("(missing)")
    return out.sort_values([cols.time, "_row"], kind="stable").reset_index(drop=True)
