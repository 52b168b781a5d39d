"""Monitor: a saved run in production — drift, decisions, realized and estimated performance, alerts,
outcomes fed back, and a challenger trained and promoted on request."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError
from ui.common import ensure_router, show_error, show_notices
from ui.monitor import K, feedback_form, get_report, retrain_panel, show_alerts, show_charts, show_headline
from ui.workspace import pick_saved_run

ensure_router()

PERIODS = {"day": "Day", "week": "Week", "month": "Month"}


st.title("Monitor")
st.caption("Every prediction a saved run makes (Score page, `python -m core score`, the HTTP service) is logged. "
           "Here: how many rows it scores, whether its inputs and scores drift, how its decisions move, how well it "
           "does once outcomes come back — and how well it should do before they do — with alerts, and a "
           "challenger to retrain and promote.")

c1, c2 = st.columns([3, 1])
with c1:
    meta, _ = pick_saved_run(K + "run", empty="No saved runs yet in this folder. Train and save a model on a "
                                              "scenario page, score new data with it, then come back here.")
by = c2.radio("Period", list(PERIODS), index=1, key=K + "by", format_func=PERIODS.get, horizontal=True)
run_dir = meta["path"]

try:
    report = get_report(run_dir, by)
except DataValidationError as exc:
    show_error(exc)
    st.stop()

if report.calibration is not None:
    st.caption(report.calibration.sentence())
if not report.periods:
    show_notices(report.notices, title="Notes on this run's monitor")
    st.info("No predictions logged yet. Score a file with this run on the Score page (or `python -m core score "
            f"--model {run_dir} ...`) and its rows appear here.", icon=":material/monitoring:")
else:
    show_headline(report)
    show_alerts(report)
    show_notices(report.notices, title="Notes on this run's monitor")
    show_charts(report)

st.subheader("Close the loop")
left, right = st.columns(2)
with left:
    feedback_form(run_dir)
with right:
    retrain_panel(run_dir, meta, report)
