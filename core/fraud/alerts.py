"""The alert queue: test (or newly scored) transactions by risk, with SHAP reasons in plain words."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.present.money import DEFAULT_CURRENCY, format_money

_LABELS = {
    "amount": "Amount",
    "tx_hour": "Time of day (hour)",
    "tx_during_night": "At night (0-6 h)",
    "tx_during_weekend": "On a weekend",
}


def short_label(name: str) -> str:
    """A few words for a feature name, e.g. ``term_risk_7d`` -> 'Terminal fraud rate, 7 days'."""
    if name in _LABELS:
        return _LABELS[name]
    m = re.fullmatch(r"(cust|term)_(nb_tx|avg_amount|risk)_(\d+)d", name)
    if m:
        who = "Customer" if m.group(1) == "cust" else "Terminal"
        what = {"nb_tx": "transactions", "avg_amount": "average amount", "risk": "fraud rate"}[m.group(2)]
        n = int(m.group(3))
        return f"{who} {what}, {'24 hours' if n == 1 else f'{n} days'}"
    m = re.fullmatch(r"amount_to_cust_avg_(\d+)d", name)
    if m:
        return f"Amount vs customer's {m.group(1)}-day average"
    m = re.fullmatch(r"amount_zscore_(\d+)d", name)
    if m:
        return f"Amount in std. deviations above customer's {m.group(1)}-day average"
    m = re.fullmatch(r"cust_avg_(\d+)d_to_(\d+)d", name)
    if m:
        return f"Customer's {m.group(1)}-day vs {m.group(2)}-day average amount"
    from core.present.glossary import feature_label

    return feature_label(name)  # a column of the analyst's own file: its name in words


def is_money_feature(name: str) -> bool:
    """Whether a feature holds an amount of money (``amount``, ``cust_avg_amount_7d``, an extra
    column such as ``TX_AMOUNT``), not a ratio, z-score or count built from one."""
    low = str(name).lower()
    words = set(re.split(r"[^a-z]+", low))
    moneyish = "amount" in low or bool(words & {"amt", "price", "value", "spend", "spent", "balance"})
    return moneyish and not any(t in low for t in ("_to_", "zscore", "nb_", "count", "ratio", "pct", "share"))


def format_value(name: str, value, currency: str | None = None) -> str:
    """A feature value as an analyst would read it (rates as %, flags as yes/no, ratios as x,
    amounts of money in ``currency`` with thousands separators, the studio's default when None)."""
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if np.isnan(v):
        return "missing"
    if "risk" in name:
        return f"{v:.0%}"
    if name.startswith("tx_during"):
        return "yes" if v >= 0.5 else "no"
    if "_to_" in name:
        return f"{v:.1f}x"
    if "zscore" in name:
        return f"{v:+.1f}"
    if "nb_tx" in name:
        return f"{v:.0f}"
    if name == "tx_hour":
        return f"{int(v):02d}:{int(round((v % 1) * 60)) % 60:02d}"
    if is_money_feature(name):
        return format_money(v, currency or DEFAULT_CURRENCY)
    return f"{v:,.2f}"


def reason_text(name: str, value, typical, currency: str | None = None) -> str:
    """'Terminal fraud rate, 7 days: 40% (typical 0%)'; 'Amount: €1,250 (typical €42.10)'."""
    text = f"{short_label(name)}: {format_value(name, value, currency)}"
    if typical is not None and not isinstance(value, str):
        text += f" (typical {format_value(name, typical, currency)})"
    return text


def get_typical_values(features: pd.DataFrame) -> dict:
    """Median of each numeric feature (the 'typical' value quoted in reasons)."""
    num = features.select_dtypes("number")
    return {c: float(v) for c, v in num.median().items()}


def get_reasons(shap_result, typical: dict, k: int = 3, *, currency: str | None = None) -> list[str]:
    """For every explained row, its ``k`` strongest risk-raising features in plain words (amounts
    in ``currency``, an ISO code such as "EUR"; the studio's default when None)."""
    out = []
    for i in range(len(shap_result.data)):
        top = shap_result.top_reasons(i, k)
        out.append("; ".join(reason_text(r.feature, r.value, typical.get(r.feature), currency)
                             for r in top.itertuples()) or "no feature raises the risk")
    return out


def build_alert_queue(scored: pd.DataFrame, *, threshold: float, max_alerts: int | None = None,
                      reasons: dict[int, str] | None = None) -> pd.DataFrame:
    """Rows with ``risk >= threshold``, riskiest first, with a rank and (if given) reasons.

    ``scored`` needs a ``risk`` column; ``reasons`` maps a row's index in ``scored`` to its text.
    """
    if "risk" not in scored:
        raise DataValidationError("Expected scored transactions with a 'risk' column; got none. "
                                  "Fix: train a model or score a file first.")
    q = scored[scored["risk"] >= threshold].sort_values("risk", ascending=False, kind="stable")
    if max_alerts is not None:
        q = q.head(int(max_alerts))
    q = q.copy()
    if reasons is not None:
        q["top_reasons"] = [reasons.get(i, "(not explained: outside the explained top alerts)")
                            for i in q.index]
    q.insert(0, "rank", np.arange(1, len(q) + 1))
    return q


def filter_alerts(queue: pd.DataFrame, *, min_risk: float = 0.0, min_amount: float = 0.0,
                  text: str = "") -> pd.DataFrame:
    """Keep alerts at or above a risk and amount whose customer/terminal/reasons contain ``text``."""
    q = queue[(queue["risk"] >= min_risk)]
    if "amount" in q:
        q = q[q["amount"] >= min_amount]
    if text:
        hay = q.drop(columns=["risk", "rank"], errors="ignore").astype(str).agg(" ".join, axis=1)
        q = q[hay.str.contains(re.escape(text), case=False)]
    return q
