"""Demand page, export tab: the forecast table, the model file and saving the run."""

from __future__ import annotations

import streamlit as st

from core.demand.export import forecast_csv, get_forecast_table, model_bytes
from core.demand.inventory import PolicyParams

from ui.demand.base import K
from ui.demand.tables import forecast_table
from ui.origin import trained_name
from ui.workspace import save_to_workspace


def downloads(run, params: PolicyParams | None) -> None:
    st.subheader("Export")
    params = params or PolicyParams(lead_time=0, review_period=1)
    c1, c2 = st.columns(2)
    c1.download_button("Forecast table (CSV: P10/P50/P90, reorder points)", forecast_csv(run, params),
                       "demand_forecast.csv", "text/csv", key=K + "dl_csv", icon=":material/download:",
                       on_click="ignore")
    if c2.button("Prepare model file", key=K + "prep_model"):
        st.session_state[K + "model_bytes"] = model_bytes(run)
    if st.session_state.get(K + "model_bytes"):
        c2.download_button("Trained model (.keras)", st.session_state[K + "model_bytes"], "demand_model.keras",
                           key=K + "dl_model", icon=":material/download:", on_click="ignore")
    st.dataframe(forecast_table(get_forecast_table(run, params).head(50)), hide_index=True, width="stretch")
    if getattr(run, "blend", None):
        st.caption(f"The forecast table is the recommended forecast, {run.blend['label']}; the model file is the "
                   "network alone (a saved run applies the blend when it forecasts).")


def save_panel(run, params: PolicyParams | None) -> None:
    """The "Save to workspace" control, with the inventory policy set in the Inventory tab."""
    dataset_name = trained_name(K, run)  # the sales file the model was trained on, whatever the page shows now

    def save_demand(name, root):
        from core.demand import service
        from core.store.registry import new_run_id
        from ui.search import kept_search

        # The page's own decision (the policy set in the Inventory tab), saved by the service as every door.
        outcome = service.DemandOutcome(run, service.decide(run, params), search=kept_search(K, run))
        return service.save(outcome, root / new_run_id("demand"), name=name, dataset_name=dataset_name,
                            shap=st.session_state.get(K + "shap_global"))

    save_to_workspace("demand", run, save_demand, dataset_name=dataset_name,
                      disabled_reason=None if params is not None else
                      "Fix the inventory policy inputs above first: the saved run records its policy and costs.")
