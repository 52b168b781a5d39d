"""Which column of a sales upload is the date, the quantity, the series ids and the covariates.

The guess is shown before anything trains (the CLI prints it on standard error and in its JSON, the
page shows it for confirmation), with the reason each column got its role. Names are matched by
tokens, so ``Weekly_Sales``, ``units_sold``, ``QtyOrdered`` and ``Passengers`` all read as a
quantity. When no column is named like a quantity the guess is too weak to train on: ``to_columns``
raises and the planner names the column instead (``--target`` / the page's quantity picker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from core.demand.data import ColumnMap
from core.errors import DataValidationError
from core.data.safety import short_list

# Name tokens that mark the quantity to forecast, best first.
QUANTITY_TOKENS = ("units", "unit", "quantity", "qty", "sold", "demand", "sales", "sale", "volume",
                   "orders", "passengers", "count", "cnt")
# Tokens that mark a column as something else even when a quantity token is present ("sales_price").
NOT_QUANTITY_TOKENS = ("price", "cost", "id", "promo", "promotion", "holiday", "discount", "flag", "is",
                       "has", "date", "pct", "percent", "rate", "share", "store", "dept", "sku")
DATE_TOKENS = ("date", "ds", "month", "week", "day", "period", "time", "timestamp", "datetime")
ID_TOKENS = ("store", "shop", "dept", "department", "product", "item", "sku", "id", "location", "region",
             "category", "family", "site", "warehouse", "branch", "series", "key")
MAX_ID_VALUES = 10_000  # an id column with more distinct values is a measurement, not a series key


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a column name: ``Weekly_Sales`` -> [weekly, sales], ``QtyOrdered`` -> [qty, ordered]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def _is_flag(s: pd.Series) -> bool:
    """Boolean or only 0/1 values (holiday, promotion): a covariate, never a quantity or series key."""
    if pd.api.types.is_bool_dtype(s):
        return True
    if not pd.api.types.is_numeric_dtype(s):
        return False
    return set(pd.unique(s.dropna())) <= {0, 1}


def _reads_as_dates(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    head = s.dropna().astype(str).head(50)
    if head.empty:
        return False
    from core.data.datasets import parse_datetimes

    return bool(parse_datetimes(head, formats=("mixed",)).notna().mean() > 0.9)


@dataclass(frozen=True)
class ColumnGuess:
    """Each column's role and why. ``problem`` says why the guess cannot be trained on as it is."""

    date: str | None
    target: str | None
    series: tuple[str, ...]
    covariates: tuple[str, ...]
    why: dict[str, str] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()
    problem: str | None = None

    def to_columns(self) -> ColumnMap:
        """The column map to load with; raises ``DataValidationError`` when the guess is weak."""
        if self.problem:
            raise DataValidationError(self.problem)
        return ColumnMap(date=self.date, target=self.target, series=self.series)

    def roles(self) -> list[dict]:
        """One row per column: column, role, why (for the page table and the CLI JSON)."""
        role = {self.date: "date", self.target: "quantity",
                **({c: "quantity?" for c in self.candidates} if self.target is None else {}),
                **{c: "series" for c in self.series}, **{c: "covariate" for c in self.covariates}}
        return [{"column": c, "role": role.get(c, "ignored"), "why": w} for c, w in self.why.items()]

    def to_dict(self) -> dict:
        return {"date": self.date, "target": self.target, "series": list(self.series),
                "covariates": list(self.covariates), "roles": self.roles(),
                "candidates": list(self.candidates), "problem": self.problem}

    def describe(self) -> list[str]:
        """Readable lines, e.g. ``quantity = Weekly_Sales: name has the word 'sales'``."""
        return [f"{r['role']} = {r['column']}: {r['why']}" for r in self.roles()]


def _guess_date(df: pd.DataFrame, why: dict) -> str | None:
    for c in df.columns:
        hit = [t for t in name_tokens(c) if t in DATE_TOKENS]
        if hit and _reads_as_dates(df[c]):
            why[c] = f"name has the word '{hit[0]}' and its values read as dates"
            return c
    for c in df.columns:
        if _reads_as_dates(df[c]):
            why[c] = "its values read as dates"
            return c
    return None


def _quantity_rank(name: str) -> int | None:
    tokens = name_tokens(name)
    if str(name).strip().lower() == "y":
        return len(QUANTITY_TOKENS)
    if any(t in NOT_QUANTITY_TOKENS for t in tokens):
        return None
    ranks = [QUANTITY_TOKENS.index(t) for t in tokens if t in QUANTITY_TOKENS]
    return min(ranks) if ranks else None


def _guess_target(df: pd.DataFrame, date: str | None, why: dict) -> tuple[str | None, tuple[str, ...]]:
    numeric = [c for c in df.columns if c != date and pd.api.types.is_numeric_dtype(df[c])
               and not _is_flag(df[c])]
    named = sorted((r, i, c) for i, c in enumerate(numeric) if (r := _quantity_rank(c)) is not None)
    if not named:
        return None, tuple(numeric)
    target = named[0][2]
    word = next((t for t in name_tokens(target) if t in QUANTITY_TOKENS), str(target).lower())
    others = [c for _, _, c in named[1:]]
    why[target] = f"numeric, and its name has the word '{word}'" + (
        f" (also named like a quantity: {others}; pass the one you mean)" if others else "")
    return target, tuple(c for _, _, c in named)


def _duplicates(df: pd.DataFrame, keys: list[str]) -> int:
    return int(df.duplicated(keys).sum())


def _guess_series(df: pd.DataFrame, date: str | None, target: str | None, why: dict) -> tuple[str, ...]:
    """Text columns with few values, then integer id columns while the same date still repeats."""
    taken = {date, target}
    cap = max(1, len(df) // 10)
    series = []
    for c in df.columns:
        s = df[c]
        if c in taken or pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or _reads_as_dates(s):
            continue
        if s.nunique() <= cap:
            series.append(c)
            why[c] = f"text with {s.nunique()} distinct values, each on many rows"
    if date is None:
        return tuple(series)
    ints = [c for c in df.columns if c not in taken and c not in series and pd.api.types.is_integer_dtype(df[c])
            and not _is_flag(df[c]) and 2 <= df[c].nunique() <= min(cap, MAX_ID_VALUES)]
    # Columns named like ids are tried first; a column is kept only if it separates rows that share a date.
    ints.sort(key=lambda c: not any(t in ID_TOKENS for t in name_tokens(c)))
    dup = _duplicates(df, [*series, date])
    for c in ints:
        if dup == 0:
            break
        after = _duplicates(df, [*series, c, date])
        if after < dup:
            why[c] = (f"whole numbers with {df[c].nunique()} distinct values, and the same date repeats "
                      f"across them ({dup:,} repeated date rows before, {after:,} after): a series id")
            series.append(c)
            dup = after
    return tuple(series)


def guess_roles(df: pd.DataFrame, *, date: str | None = None, target: str | None = None,
                series: tuple[str, ...] | None = None, covariates: tuple[str, ...] | None = None) -> ColumnGuess:
    """Guess every column's role; ``date`` / ``target`` / ``series`` / ``covariates`` given by the
    planner are kept (``covariates=None``: every other numeric column, as ``load_sales`` does)."""
    given = [c for c in (date, target, *(series or ()), *(covariates or ())) if c is not None]
    missing = [c for c in given if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"Column(s) {short_list(missing)} not found; the file has columns {short_list(df.columns, limit=30)}. "
            "Name columns that exist in the file (spelling and case must match)."
        )
    why: dict[str, str] = {}
    if date is not None:
        why[date] = "given"
    else:
        date = _guess_date(df, why)
    candidates: tuple[str, ...] = ()
    if target is not None:
        why[target] = "given"
    else:
        target, candidates = _guess_target(df, date, why)
    if series is not None:
        series = tuple(series)
        why.update({c: "given" for c in series})
    else:
        series = _guess_series(df, date, target, why)
    if target is None:
        # No column is named like a quantity: list the numeric ones (series ids only when nothing else is).
        numeric = [c for c in df.columns if c != date and pd.api.types.is_numeric_dtype(df[c])
                   and not _is_flag(df[c])]
        candidates = tuple([c for c in numeric if c not in series] or numeric)
        why.update({c: "numeric, could be the quantity, but its name does not say so" for c in candidates
                    if c not in series})
    used = {date, target, *series, *candidates} if target is None else {date, target, *series}
    numeric_rest = [c for c in df.columns if c not in used and (
        pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if covariates is not None:
        covs = tuple(covariates)
        why.update({c: "given" for c in covs})
        why.update({c: "numeric, but not among the covariates given: not used" for c in numeric_rest if c not in covs})
        numeric_rest = []
    else:
        covs = tuple(numeric_rest)
    for c in numeric_rest:
        why[c] = ("0/1 flag: a known-in-advance covariate, never the quantity" if _is_flag(df[c])
                  else "other numeric column: a covariate (the leakage audit checks whether it is known in advance)")
    for c in df.columns:
        why.setdefault(c, "text that is neither a date nor a series id (too many distinct values): not used")
    why = {c: why[c] for c in df.columns if c in why}
    problem = None
    if date is None:
        problem = (f"No date column found: expected a column of dates such as 2024-01-31; the file has columns "
                   f"{short_list(df.columns, limit=30)}. Pass --date-col COLUMN on the command line, or pick the date column "
                   "on the page.")
    elif target is None:
        problem = (f"Could not tell which column holds the quantity to forecast: expected a numeric column named "
                   f"like units, qty, quantity, sales or demand; got none among {short_list(df.columns, limit=30)}. "
                   f"Candidate columns: {list(candidates)}. Pass --target COLUMN on the command line, or pick the "
                   "quantity column on the page, instead of training on a guess.")
    return ColumnGuess(date, target, series, covs, why, candidates, problem)


def guess_columns(df: pd.DataFrame) -> ColumnMap:
    """The guessed column roles of a raw upload (``guess_roles`` says why each).

    Raises ``DataValidationError`` listing the candidate columns when no column is named like a
    quantity: training on a guessed quantity would answer the wrong question without saying so.
    """
    return guess_roles(df).to_columns()
