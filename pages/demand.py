"""Demand forecasting: sales history -> global Keras quantile forecast -> inventory policy.
The page's flow; each step is drawn by ui/demand, the work is in core/demand."""

from __future__ import annotations

import streamlit as st

from core.demand.data import ColumnMap

from ui.common import ensure_router, guarded_view
from ui.demand.audit import covariate_audit
from ui.demand.base import K, SAMPLE, fail
from ui.demand.data import column_mapping, data_report, get_covariates_file, get_guess, get_join, get_raw, get_sales
from ui.demand.dependence import show_dependence
from ui.demand.explain import events, shap_panels
from ui.demand.export import downloads, save_panel
from ui.demand.inventory import inventory
from ui.demand.results import forecast_tab, results, show_demand_trust
from ui.demand.train import collect, show_trained, train, training_form
from ui.jobs import job_panel
from ui.origin import show_origin
from ui.search import show_kept_search
from ui.upload import read_name

ensure_router()

st.title(":material/trending_up: Demand forecasting")
st.caption("How much will each store sell, and when should it reorder? One global Keras model forecasts "
           "every series with P10/P50/P90 intervals, is backtested against seasonal-naive and moving-average "
           "baselines, and its quantiles become safety stock and reorder points.")

# Which data the results belong to, and warnings that the backtest's figures must not be trusted, above the tabs.
origin_slot = st.container()
trust_slot = st.container()
tabs = st.tabs(["Data & training", "Forecast", "Backtest", "Inventory", "Explanations", "Export"])

# ---------------------------------------------------------------- data, columns, training
with tabs[0]:
    raw, key = get_raw()
    cov_df, cov_key = get_covariates_file() if raw is not None and key != "sample" else (None, "")
    data_key = key
    if raw is not None:
        guess = get_guess(raw, key)
        with st.expander("Column mapping", expanded=key != "sample" or guess.problem is not None):
            cmap, fill = column_mapping(raw, key, guess)
        if cmap is None:
            st.info("Pick the date and quantity columns under Column mapping to load the data.", icon=":material/info:")
        else:
            join = get_join(raw, cov_df, cmap, f"{key}|{cov_key}") if cov_df is not None else None
            if join is not None:  # every joined covariate feeds the model, next to those picked above
                cmap = ColumnMap(cmap.date, cmap.target, cmap.series,
                                 tuple(dict.fromkeys([*(cmap.covariates or ()), *join.joined])))
                data_key = f"{key}|{cov_key}"
            sales, err = get_sales(join.frame if join is not None else raw, cmap, fill, data_key)
            if err is not None:
                fail(err)
            else:
                st.subheader("Data report")
                data_report(sales)
                choices = covariate_audit(sales, join, f"{key}|{cov_key}")  # before training: known in advance or not
                opts = training_form(sales)
                if opts is not None:
                    train(sales, join, {**opts, **choices}, data_key=data_key, rows=len(raw),
                          data_name=SAMPLE.name if key == "sample" else read_name(K + "upload."))
    # The training job's live progress with Cancel, found again after a visit elsewhere or a reload;
    # its result is taken into the session once it has finished.
    job_panel(K, "demand", collect)
    run = st.session_state.get(K + "run")
    if run is not None:
        show_trained(run)

with origin_slot:
    show_origin(K, run, key=data_key if raw is not None else None)
if run is None:
    for tab in tabs[1:]:
        with tab:
            st.info("Train a model in the first tab to see this view.")
    st.stop()

# ---------------------------------------------------------------- results
# Each view is guarded: an error in one is a message in its place, and the tabs after it still run, so a
# click on the Export tab's buttons ("Save to workspace") is never lost to a traceback drawn above it.
params = None  # the Inventory tab's policy; None (the saved defaults) if that tab could not be drawn
with trust_slot, guarded_view("The warnings on the backtest's figures"):
    show_demand_trust(run)  # warnings that the backtest's figures must not be trusted, above the tabs
with tabs[1], guarded_view("The Forecast tab"):
    forecast_tab(run)
with tabs[2], guarded_view("The Backtest tab"):
    results(run)
    show_kept_search(K, run)
with tabs[3], guarded_view("The Inventory tab"):
    params = inventory(run)
with tabs[4], guarded_view("The Explanations tab"):
    events(run)
    shap_panels(run)
    show_dependence()
with tabs[5], guarded_view("The Export tab"):
    downloads(run, params)
    save_panel(run, params)
