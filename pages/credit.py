"""Credit scoring: from loan applications to a trained network, a profit-optimal approval line,
scorecard grades, reason codes, fairness, drift and a scored file. The page's flow; each step is
drawn by ui/credit, the work is in core."""

from __future__ import annotations

import streamlit as st

from core.credit.profit import LOSS_DEFAULT, MARGIN_GOOD
from core.errors import DataValidationError
from core.credit.reasons import humanise
from core.credit.scorecard import ScorecardConfig
from core.present.glossary import MODELS
from core.data.safety import escape_markdown

from ui.common import ensure_router, guarded_view, plain_columns
from ui.credit.base import K, fail, timed
from ui.credit.checks import show_drift, show_fairness
from ui.credit.data import get_data, leak_check, outcome_rows, schema_editor
from ui.credit.explain import show_explanations, show_reason_codes, show_what_if
from ui.credit.export import show_export
from ui.credit.results import show_credit_trust, show_decision, show_performance, show_scorecard
from ui.credit.train import collect, show_trained, train, training_form
from ui.dependence import show_dependence
from ui.lift import recommended_first, show_lift
from ui.jobs import job_panel
from ui.origin import show_origin

ensure_router()

st.title(":material/credit_score: Credit scoring")
st.caption("Who will repay, and where should the approval line be? Train a Keras network against "
           "scikit-learn baselines, then set the decline threshold by profit, read scorecard grades, "
           "explain declines and check fairness and drift.")

# Which data the results belong to, and warnings that the trained model's figures must not be trusted,
# above the tabs (filled once the data is known, and at the end once the decision tab has set the line).
origin_slot = st.container()
trust_slot = st.container()

st.session_state.setdefault(K + "loss", LOSS_DEFAULT)
st.session_state.setdefault(K + "margin", MARGIN_GOOD)
st.session_state.setdefault(K + "proxy_out", True)  # possible proxies kept out of reason codes (Reason codes tab)

tabs = st.tabs(["Data & training", "Performance", "Decision & profit", "Scorecard", "Explanations",
                "Reason codes", "Fairness", "Drift (PSI)", "What-if", "Export"])

# ---------------------------------------------------------------- data, columns, training
with tabs[0], timed("data"):
    df, data_key, data_name, notices = get_data()
    if df is not None:
        st.caption(f"{len(df):,} rows × {df.shape[1]} columns")
        for n in notices:
            st.info(escape_markdown(n))
        # Headers in words; each one's name in the file is on hover (data columns are not the studio's kinds).
        st.dataframe(df.head(8), width="stretch", hide_index=True,
                     column_config=plain_columns(df.columns, kinds=False))
        schema = schema_editor(df, data_key)
        chosen = outcome_rows(df, data_key, schema) if schema is not None else None  # the rows the outcome pick keeps
        keep = None
        if chosen is not None:
            rows, target, positive, roles, sensitive, left_out, rows_key = chosen
            keep = leak_check(rows, data_key, (target, positive, roles, sensitive), rows_key=rows_key)
        if keep is not None:
            opts = training_form()
            if opts is not None:
                try:
                    train(rows, target, positive, roles, sensitive, {**opts, "keep": keep}, notices=left_out,
                          data_key=data_key, data_name=data_name)
                except DataValidationError as exc:
                    fail(exc)
    job_panel(K, "credit", collect)
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

# ---------------------------------------------------------------- results of the trained model
# The threshold, costs and scorecard set in one tab are what the tabs after it use.
st.session_state.setdefault(K + "threshold", round(run.threshold, 3))
threshold = float(st.session_state[K + "threshold"])
shap = st.session_state[K + "shap"]

# Each view is guarded: an error in one is a message in its place, and the tabs after it still run (with the
# costs and scorecard the session holds), so a click on the Export tab's buttons is never lost to a traceback.
loss, margin = float(st.session_state[K + "loss"]), float(st.session_state[K + "margin"])
scorecard = ScorecardConfig()
with tabs[1], timed("performance"), guarded_view("The Performance tab"):
    show_performance(run, threshold)
    show_lift(K, run.y_test,
              recommended_first(run.tabular, run.p_test, {MODELS[k]: v for k, v in run.tabular.proba.items()}),
              positives="defaulters", action="declining", cases="applicants", file_name="credit-deciles.csv")
with tabs[2], timed("decision"), guarded_view("The Decision & profit tab"):
    threshold, loss, margin = show_decision(run, threshold)
with tabs[3], timed("scorecard"), guarded_view("The Scorecard tab"):
    scorecard = show_scorecard(run, threshold)
with tabs[4], timed("explanations"), guarded_view("The Explanations tab"):
    show_explanations(run, shap)
    show_dependence(K, run, shap, run.test_df[shap.feature_names], run.predict, outcome=run.y_test[:len(shap.values)],
                    outcome_names=("repaid", "default"), what="Probability of default", labeller=humanise)
with tabs[5], timed("reasons"), guarded_view("The Reason codes tab"):
    show_reason_codes(run, shap, threshold, scorecard)
with tabs[6], timed("fairness"), guarded_view("The Fairness tab"):
    show_fairness(run, threshold)
with tabs[7], timed("psi"), guarded_view("The Drift (PSI) tab"):
    show_drift(run)
with tabs[8], timed("whatif"), guarded_view("The What-if tab"):
    show_what_if(run, threshold, scorecard)
with tabs[9], timed("export"), guarded_view("The Export tab"):
    show_export(run, shap, threshold, scorecard, loss, margin)
with guarded_view("The warnings on the model's figures"):
    show_credit_trust(run, threshold, loss, margin, trust_slot)
