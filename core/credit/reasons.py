"""Reason codes: the top features that pushed an applicant's risk up, said in plain words.

SHAP values explain the predicted probability of default, so a positive value is a feature that
raised the risk. For a declined applicant the reasons are the features with the largest positive
values, each turned into a sentence such as "Debt-to-income ratio is high (0.62)". Whether a
number is "high" or "low" is judged against the training population's median.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

# Plain-words names for the columns of the bundled sample and common credit files. Unknown columns
# fall back to a humanised version of their name.
FEATURE_LABELS: dict[str, str] = {
    "annual_income": "Annual income",
    "income": "Income",
    "debt_to_income": "Debt-to-income ratio",
    "employment_years": "Years in employment",
    "loan_amount": "Loan amount",
    "loan_term_months": "Loan term (months)",
    "purpose": "Loan purpose",
    "housing": "Housing status",
    "past_delinquencies": "Past delinquencies",
    "credit_utilisation": "Credit utilisation",
    "open_accounts": "Number of open accounts",
    "recent_inquiries": "Recent credit inquiries",
    "credit_history_years": "Length of credit history (years)",
    "age": "Age",
    "region": "Region",
    "sex": "Sex",
}


def humanise(name: str, labels: Mapping[str, str] | None = None) -> str:
    """'credit_history_years' -> 'Credit history years', 'NumberOfDependents' -> 'Number of dependents'
    (``core.present.glossary``), unless a label is known."""
    labels = FEATURE_LABELS if labels is None else {**FEATURE_LABELS, **labels}
    if name in labels:
        return labels[name]
    from core.present.glossary import feature_label

    return feature_label(name) or str(name)


def format_value(value) -> str:
    """Short, readable number: ratios with 2 decimals, counts as integers, money with separators."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "missing"
        if v.is_integer():
            return f"{int(v):,}"
        if abs(v) < 10:
            return f"{v:.2f}"
        if abs(v) < 1000:
            return f"{v:.1f}"
        return f"{v:,.0f}"
    return str(value).replace("_", " ")


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def value_in_units(feature: str, value, reference=None, currency: str | None = None) -> str:
    """``value`` in the feature's own unit (``core.present.units``): a utilisation of 0.89 as "89 %", an income
    as "€73,600"; other numbers as ``format_value``."""
    from core.present.units import value_kind, value_text

    kind = value_kind(feature, [value] if _is_missing(reference) or reference is None else [value, reference])
    return value_text(value, kind, currency) if kind in ("money", "percent") else format_value(value)


def describe_reason(feature: str, value, *, reference: float | None = None,
                    labels: Mapping[str, str] | None = None, currency: str | None = None) -> str:
    """One plain sentence for a feature that raised the risk of default, its value in the feature's
    unit (money in ``currency``, default EUR)."""
    label = humanise(feature, labels)
    if _is_missing(value):
        return f"{label} is not reported"
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not numeric:
        return f"{label} is {format_value(value)}"
    shown = value_in_units(feature, value, reference, currency)
    if reference is None or _is_missing(reference) or float(value) == float(reference):
        return f"{label} ({shown}) raises the risk"
    level = "high" if float(value) > float(reference) else "low"
    return f"{label} is {level} ({shown})"


# A reason citing a feature the fairness check flags as a possible proxy for a protected attribute: an
# adverse-action reason may not rest on one, so it is either left out or marked with this note.
PROXY_NOTE = "may stand in for a protected attribute"
PROXY_POLICIES = {True: "left out", False: "marked"}  # keep proxies out of reason codes -> saved wording


def reason_filter(proxies: Sequence[str], keep_out: bool = True) -> dict:
    """``get_reason_codes``'s keywords for the run's proxy policy: proxies left out of the reasons (the
    credit default), or kept and marked."""
    return {"exclude": tuple(proxies)} if keep_out else {"flag": tuple(proxies)}


def get_reason_codes(contributions: Sequence[float], feature_names: Sequence[str],
                     row: Mapping, *, k: int = 4, references: Mapping[str, float] | None = None,
                     labels: Mapping[str, str] | None = None, exclude: Collection[str] = (),
                     flag: Collection[str] = (), currency: str | None = None) -> list[str]:
    """Plain-words reasons for the ``k`` features that raised this applicant's risk the most.

    ``contributions`` are SHAP values for the probability of default, one per entry of
    ``feature_names`` (source columns, with one-hot columns already summed). Features that lowered
    the risk are never given as reasons, so fewer than ``k`` may come back. Features in ``exclude``
    (possible proxies for a protected attribute, ``reason_filter``) are never given, the next ones are;
    those in ``flag`` are given with ``PROXY_NOTE``.
    """
    values = np.asarray(contributions, dtype=float).ravel()
    if len(values) != len(feature_names):
        raise ValueError(f"Got {len(values)} contributions for {len(feature_names)} features.")
    references = references or {}
    order = np.argsort(-values, kind="mergesort")
    left_out, marked = set(map(str, exclude)), set(map(str, flag))
    reasons = []
    for i in order:
        if len(reasons) == k or not values[i] > 0:
            break
        name = feature_names[i]
        if str(name) in left_out:
            continue
        text = describe_reason(name, row.get(name), reference=references.get(name), labels=labels, currency=currency)
        reasons.append(f"{text} ({PROXY_NOTE})" if str(name) in marked else text)
    return reasons


def aggregate_by_source(values: np.ndarray, feature_names: Sequence[str],
                        groups: Mapping[str, str] | None) -> tuple[np.ndarray, list[str]]:
    """Sum SHAP columns that belong to one source column (one-hot dummies) into one.

    ``groups`` maps each model feature name to its source column; names missing from it are their
    own source. Source order follows first appearance.
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    groups = groups or {}
    sources: list[str] = []
    index: dict[str, int] = {}
    for name in feature_names:
        src = groups.get(name, name)
        if src not in index:
            index[src] = len(sources)
            sources.append(src)
    out = np.zeros((values.shape[0], len(sources)))
    for j, name in enumerate(feature_names):
        out[:, index[groups.get(name, name)]] += values[:, j]
    return out, sources


def compute_reference_values(df: pd.DataFrame, numeric: Sequence[str]) -> dict[str, float]:
    """Training medians of the numeric columns: what 'high' and 'low' are judged against."""
    out = {}
    for col in numeric:
        if col in df:
            med = pd.to_numeric(df[col], errors="coerce").median()
            if pd.notna(med):
                out[col] = float(med)
    return out
