"""Fraud detection: from a raw transaction log to an explained alert queue and an alert policy.
The page's flow; each step is drawn by ui/fraud, the work is in core.fraud."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError
from core.fraud.alerts import short_label
from core.present.glossary import MODELS

from ui.common import ensure_router, guarded_view
from ui.dependence import show_dependence
from ui.lift import recommended_first, show_lift
from ui.fraud.alerts import show_alert_policy, show_alert_queue
from ui.fraud.base import K, SAMPLE, fail
from ui.fraud.data import (column_mapping, get_data, keep_recent, label_values, leak_check, prepared, show_log,
                           time_split)
from ui.fraud.explain import show_explanations
from ui.fraud.export import save_panel, show_export, show_score_new_file
from ui.fraud.results import show_fraud_trust, show_imbalance_comparison, show_performance
from ui.fraud.train import collect, show_trained, train, training_form
from ui.jobs import job_panel
from ui.origin import show_origin

ensure_router()

st.title(":material/policy: Fraud detection")
st.caption("Which card transactions should the team review or block today? Features come from each "
           "transaction's past only; the model is trained on an earlier period and tested on a later one.")

# Which data the results belong to, and warnings on the trained model's figures (filled after the tabs,
# once the alert policy tab has set the review line), above the tabs.
origin_slot = st.container()
trust_slot = st.container()
tabs = st.tabs(["Data & training", "Performance", "Imbalance comparison", "Alert policy", "Alert queue",
                "Explanations", "Score a new file", "Export"])

# ---------------------------------------------------------------- data, mapping, features, split, training
with tabs[0]:
    df, data_key = get_data()
    # The file's name: the sample's, or the upload's (the earlier file's when a new one could not be read).
    data_name = SAMPLE.name if data_key == "sample" else (st.session_state.get(K + "upload") or (None, None))[1]
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
                if opts is not None:
                    try:
                        train(log.drop(columns="_row"), cols, fcfg, {**opts, **split, "keep": keep},
                              data_key=data_key, data_name=data_name)
                    except DataValidationError as exc:
                        fail(exc)
    job_panel(K, "fraud", collect)  # the training's live progress, found again after leaving or a reload
    run = st.session_state.get(K + "run")
    if run is not None:
        show_trained(run)

with origin_slot:
    show_origin(K, run, key=data_key if df is not None else None)
if run is None:
    for tab in tabs[1:]:
        with tab:
            st.info("Train a model in the first tab to see this view.")
    st.stop()

# ---------------------------------------------------------------- results
# Each view is guarded: an error in one is a message in its place, and the tabs after it still run, so a
# click on the Export tab's buttons ("Save to workspace") is never lost to a traceback drawn above it.
ex = st.session_state[K + "explain"]
with tabs[1], guarded_view("The Performance tab"):
    show_performance(run)
    show_lift(K, run.test["label"].to_numpy(),
              recommended_first(run.tabular, run.test[run.score_column].to_numpy(),
                                {MODELS[m]: run.test[f"score_{m}"].to_numpy() for m in run.metrics}),
              positives="frauds", action="reviewing", cases="transactions", file_name="fraud-deciles.csv")
with tabs[2], guarded_view("The Imbalance comparison tab"):
    show_imbalance_comparison(run)
with tabs[3], guarded_view("The Alert policy tab"):
    show_alert_policy(run)
with tabs[4], guarded_view("The Alert queue tab"):
    show_alert_queue(run, ex)
with tabs[5], guarded_view("The Explanations tab"):
    show_explanations(run, ex)
    show_dependence(K, run, ex.global_sample, run.feature_frame_test[ex.global_sample.feature_names],
                    run.tabular.predict_proba, what="Fraud risk", outcome_names=("genuine", "fraud"), labeller=short_label,
                    outcome=None if ex.global_positions is None else run.test["label"].to_numpy()[ex.global_positions])
with tabs[6], guarded_view("The Score a new file tab"):
    show_score_new_file(run, ex)
with tabs[7], guarded_view("The Export tab"):
    show_export(run)
    save_panel(run, ex)
with guarded_view("The warnings on the model's figures"):
    show_fraud_trust(run, trust_slot)
