"""A feature's values in its own units, for charts and sentences: money in the session's currency,
shares as percentages, counts as whole numbers. Names come from ``core.present.glossary``.

The unit is read from the column's name and its values together, so ``credit_utilisation`` with
values between 0 and 1.5 reads "89 %", ``annual_income`` reads "€73,600", and a column of whole
numbers (terms, counts) reads without decimals.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.present.glossary import feature_label
from core.present.money import DEFAULT_CURRENCY, format_money

_MONEY = re.compile(r"income|salary|amount|amt|balance|price|spend|spent|payment|limit|loan_?value|revenue|"
                    r"wage|savings|debt_?amount|credit_?amount|value", re.I)
_SHARE = re.compile(r"utili[sz]ation|ratio|rate|share|pct|percent|_to_|usage|risk", re.I)
_NOT_MONEY = re.compile(r"_to_|ratio|rate|pct|share|count|nb_|number|zscore|months|years|days", re.I)


def _plain_numbers(values) -> list[float] | None:
    """A short list or tuple of real numbers (no booleans) as floats, NaN left out; None for anything else."""
    if not isinstance(values, (list, tuple)) or len(values) > 16:
        return None
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in values):
        return None
    try:
        return [x for x in map(float, values) if x == x]
    except OverflowError:  # an integer beyond float's range: pandas decides
        return None


def value_kind(name, values) -> str:
    """"category", "money", "percent", "whole" or "number" for a column named ``name`` holding ``values``.

    A few plain numbers (a reason code's value and its reference, once per declined applicant) take a
    path without pandas that gives the same kind; building two Series per value cost more CPU than the
    applicant's SHAP values."""
    few = _plain_numbers(values)
    if few is not None:
        return _numeric_kind(name, few)
    num = pd.to_numeric(pd.Series(values), errors="coerce")
    present = pd.Series(values).notna()
    if present.any() and num[present].isna().mean() > 0.5:
        return "category"
    return _numeric_kind(name, num.dropna().to_numpy(dtype=float))


def _numeric_kind(name, finite) -> str:
    """The kind of a numeric column from its non-missing values (infinities included)."""
    if len(finite) == 0:
        return "number"
    finite = np.asarray(finite, dtype=float)
    raw = str(name)
    if _SHARE.search(raw) and finite.min() >= 0 and finite.max() <= 1.5:
        return "percent"
    if _MONEY.search(raw) and not _NOT_MONEY.search(raw):
        return "money"
    if np.all(finite % 1 == 0):
        return "whole"
    return "number"


def value_text(value, kind: str, currency: str | None = None) -> str:
    """One value as a reader sees it: ``0.893`` as "89 %", ``73600`` as "€73,600", ``24.0`` as "24"."""
    if kind == "category" or isinstance(value, str):
        return "missing" if value is None else str(value).replace("_", " ")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "missing"
    if kind == "money":
        return format_money(v, currency or DEFAULT_CURRENCY)
    if kind == "percent":
        return f"{v:.0%}" if abs(v) >= 0.1 else f"{v:.1%}"
    if kind == "whole":
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"


def axis_title(name, kind: str, currency: str | None = None) -> str:
    """The axis title of a feature: its plain name and unit ("Annual income (EUR)", "Credit utilisation (%)")."""
    label = feature_label(name)
    if kind == "money":
        return f"{label} ({str(currency or DEFAULT_CURRENCY).upper()})"
    if kind == "percent":
        return f"{label} (%)"
    return label


def axis_format(kind: str) -> dict:
    """Plotly axis settings that print ticks in the unit (``fig.update_xaxes(**axis_format(kind))``)."""
    if kind == "percent":
        return dict(tickformat=".0%")
    if kind in ("money", "whole"):
        return dict(tickformat=",.0f")
    return {}
