"""What every part of the fraud page shares: its session-state namespace, the sample and limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.datasets import read_table
from ui.common import show_error

K = "fraud."
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "fraud_transactions.csv.gz"
MAX_ROWS = 300_000  # a Community Cloud session keeps the most recent transactions above this
NONE = "(none)"

fail = show_error


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled log, shared by all sessions: never modified in place."""
    return read_table(SAMPLE, max_rows=None).df
