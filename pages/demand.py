"""Demand forecasting: sales history -> global Keras quantile forecast -> inventory policy.
The page's flow; each step is drawn by ui/demand, the work is in core/demand."""

from __future__ import annotations

import streamlit as st

from core.demand.data import ColumnMap

from ui.common import ensure_router
from ui.demand.audit import covariate_audit
from ui.demand.base import K, SAMPLE, fail
from ui.demand.data import column_mapping, data_report, get_covariates_file, get_guess, get_join, get_raw, get_sales
from ui.demand.explain import events, shap_panels
from ui.demand.export import downloads, save_panel
from ui.demand.inventory import inventory
from ui.demand.results import forecast_tab, results, show_demand_trust
from ui.demand.train import train, training_form
from ui.search import show_kept_search

ensure_router()

st.title(":material/trending_up: Demand forecasting")
st.caption("How much will each store sell, and when should it reorder? One global Keras model forecasts "
           "every series with P10/P50/P90 intervals, is backtested against seasonal-naive and moving-average "
           "baselines, and its quantiles become safety stock and reorder points.")

# ---------------------------------------------------------------- data, columns, training
raw, key = get_raw()
cov_df, cov_key = get_covariates_file() if raw is not None and key != "sample" else (None, "")
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
        sales, err = get_sales(join.frame if join is not None else raw, cmap, fill,
                               f"{key}|{cov_key}" if join is not None else key)
        if err is not None:
            fail(err)
        else:
            st.subheader("Data report")
            data_report(sales)
            choices = covariate_audit(sales, join, f"{key}|{cov_key}")  # before training: known in advance or not
            opts = training_form(sales)
            # Progress, the queue and memory notices draw into a container that exists on every run: an
            # element that only appeared on the training run would shift the result tabs below, and
            # Streamlit would redraw them and jump back to the first tab at the next click.
            slot = st.container()
            if opts is not None:
                train(sales, join, {**opts, **choices}, slot)

# ---------------------------------------------------------------- results
run = st.session_state.get(K + "run")
if run is not None:
    show_demand_trust(run)  # warnings that the backtest's figures must not be trusted, above the tabs
    # One screen per question, like the other scenarios, instead of one very long page.
    tabs = st.tabs(["Forecast", "Backtest", "Inventory", "Explanations", "Export"])
    with tabs[0]:
        forecast_tab(run)
    with tabs[1]:
        results(run)
        show_kept_search(K, run)
    with tabs[2]:
        params = inventory(run)
    with tabs[3]:
        events(run)
        shap_panels(run)
    with tabs[4]:
        downloads(run, params)
        save_panel(run, params, SAMPLE.name if key == "sample" else
                   getattr(st.session_state.get(K + "upload"), "name", None))
