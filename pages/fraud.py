"""Fraud detection: from a raw transaction log to an explained alert queue and an alert policy.
The page's flow; each step is drawn by ui/fraud, the work is in core.fraud."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError

from ui.common import ensure_router
from ui.fraud.alerts import show_alert_policy, show_alert_queue
from ui.fraud.base import K, fail
from ui.fraud.data import (column_mapping, get_data, keep_recent, label_values, leak_check, prepared, show_log,
                           time_split)
from ui.fraud.explain import show_explanations
from ui.fraud.export import save_panel, show_score_new_file
from ui.fraud.results import show_fraud_trust, show_imbalance_comparison, show_performance
from ui.fraud.train import show_trained, train, training_form
from ui.jobs import training_slot

ensure_router()

st.title(":material/policy: Fraud detection")
st.caption("Which card transactions should the team review or block today? Features come from each "
           "transaction's past only; the model is trained on an earlier period and tested on a later one.")

# ---------------------------------------------------------------- data, mapping, features, split
df, data_key = get_data()
run = st.session_state.get(K + "run")
if df is not None:
    try:
        cols = column_mapping(df, data_key)
        labelled, log_key = label_values(df, cols, data_key)  # a label spelled +/-, Y/N, or with more values
        log = prepared(labelled, cols, log_key) if labelled is not None else None
    except DataValidationError as exc:
        fail(exc)
        log = None
    if log is not None:
        log = keep_recent(log)
        fcfg = show_log(log, cols, data_key)
        split = time_split(log, cols, data_key)
        if split is not None:
            keep = leak_check(log, cols, split, log_key)  # before training: columns that give fraud away
            opts = training_form()
            # Drawn on every run, so that the training progress (only there on the run that trains)
            # does not move the tabs below: moved, Streamlit redraws them and the chosen tab is lost.
            progress_slot = st.container()
            if opts is not None:
                with progress_slot:
                    try:
                        with training_slot("fraud", log, imbalance=opts["imbalance"], shap_rows=opts["explain"] + 300):
                            train(log.drop(columns="_row"), cols, fcfg, {**opts, **split, "keep": keep})
                        run = st.session_state[K + "run"]
                    except DataValidationError as exc:
                        fail(exc)

if run is None:
    st.stop()

# ---------------------------------------------------------------- results
ex = st.session_state[K + "explain"]
show_trained(run)
trust_slot = st.container()  # filled after the tabs, once the alert policy tab has set the review line
tabs = st.tabs(["Performance", "Imbalance comparison", "Alert policy", "Alert queue", "Explanations",
                "Score a new file"])
with tabs[0]:
    show_performance(run)
with tabs[1]:
    show_imbalance_comparison(run)
with tabs[2]:
    show_alert_policy(run)
with tabs[3]:
    show_alert_queue(run, ex)
with tabs[4]:
    show_explanations(run, ex)
with tabs[5]:
    show_score_new_file(run, ex)
show_fraud_trust(run, trust_slot)

save_panel(run, ex, data_key)
