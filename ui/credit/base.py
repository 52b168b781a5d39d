"""What every part of the credit page shares: its session-state namespace, limits and small helpers."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.credit.pipeline import SAMPLE_PATH
from core.data.datasets import read_table
from core.present.glossary import feature_label
from ui.common import show_error

K = "credit."  # namespace of this page's session state
SHAP_ROWS = 300
MAX_REASON_ROWS = 20_000  # reason codes on the page; the CLI explains every declined row

fail = show_error


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled sample, shared by all sessions: never modified in place."""
    return read_table(SAMPLE_PATH).df


class timed:
    """Server time of one section of this rerun, kept in session state for the benchmark."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        st.session_state.setdefault(K + "section_seconds", {})[self.name] = time.perf_counter() - self.t0


def pct(v: float) -> str:
    return f"{v:.1%}"


def cached_fig(run, name: str, build):
    """Figures that do not depend on the threshold or costs are built once per trained model."""
    figs = st.session_state.setdefault(K + "figs", {})
    if figs.get("_run") is not run:
        figs.clear()
        figs["_run"] = run
    if name not in figs:
        figs[name] = build()
    return figs[name]


def plain(df: pd.DataFrame, names: dict[str, str], formats: dict[str, str] | None = None):
    """``df`` with plain column headers (``names``, else the glossary's words for the column name),
    styled with ``formats`` given by the original column names."""
    shown = df.rename(columns={c: names.get(c, feature_label(c)) for c in df.columns})
    fmts = {names.get(c, feature_label(c)): f for c, f in (formats or {}).items()}
    # A missing value (a rate with no case to count: no defaulters in a group) reads as a dash; the
    # table shows NaN as "None" whatever the styling says, so those columns become formatted text.
    for col in [c for c in fmts if c in shown.columns and shown[c].isna().any()]:
        fmt = fmts.pop(col)
        shown[col] = ["—" if pd.isna(v) else fmt.format(v) for v in shown[col]]
    return shown.style.format(fmts)


def proxies(run) -> list[str]:
    """The features the fairness check flags as possible stand-ins for a protected attribute (once per model)."""
    from core.credit.fairness import proxy_features

    return cached_fig(run, "proxies", lambda: proxy_features(run))


def reason_policy(run) -> dict:
    """Reason codes' keywords for the page's proxy choice ("Keep … out of reason codes", on by default):
    flagged features left out, or marked (``core.credit.reasons.reason_filter``)."""
    from core.credit.reasons import reason_filter

    found = proxies(run)
    return reason_filter(found, bool(st.session_state.get(K + "proxy_out", True))) if found else {}
