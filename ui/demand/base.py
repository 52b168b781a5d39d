"""What every part of the demand page shares: its session-state namespace, the sample and limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.datasets import read_table
from ui.common import show_error

K = "demand."  # namespace of this page's session state
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "demand_sales.csv"
DEFAULT_H = {"daily": 28, "weekly": 8, "monthly": 12}
# Series x periods kept on a cloud instance; older history is dropped. 500,000 keeps three years of
# 3,000 weekly series (enough for a 39-week horizon after a year's input window and a backtest);
# training such a file peaked at 1.45 GB (bench/bench_demand.py --only retail), inside 2.7 GB.
MAX_PERIODS = 500_000
# WAPE and MASE lead: MAPE is shown only where no actual is near zero (core/demand/fmetrics.py).
METRIC_COLS = ["wape", "mase", "mae", "rmse", "bias_pct", "coverage_p10_p90", "smape", "mape"]

fail = show_error


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled sample, shared by all sessions: never modified in place."""
    return read_table(SAMPLE).df
