"""Demand page, explanations tab: how one lag, covariate or calendar input moves the forecast (SHAP
dependence), drawn from the overall importance the tab already computed (core.demand.dependence)."""

from __future__ import annotations

import streamlit as st

from core.demand.dependence import get_demand_dependence, get_dependence_inputs, plot_demand_dependence
from core.demand.labels import SHAP_AXIS, demand_label
from core.errors import DataValidationError

from ui.common import get_currency
from ui.demand.base import K, fail

INTERACTION = "the input it interacts with most"


def show_dependence() -> None:
    """A picker of the inputs that vary in the explained windows and the chosen one's SHAP dependence,
    once the overall importance has been computed for the model on the page."""
    st.subheader("How one input moves the forecast")
    held = st.session_state.get(K + "shap_global")
    if held is None:
        st.caption("Compute the overall importance above: each explained training window then shows here as a "
                   "dot, an input's value against how much it pushed that window's forecast.")
        return
    try:
        _, inputs = get_dependence_inputs(held.result)
    except DataValidationError as exc:
        fail(exc)
        return
    c1, c2 = st.columns([2, 1])
    feature = c1.selectbox("Input", inputs, format_func=demand_label, key=K + "dep_feature",
                           help="The network's inputs that vary in the explained windows, in order of importance "
                                "(mean |SHAP|).")
    others = [INTERACTION, *[f for f in inputs if f != feature]]
    colour = c2.selectbox("Colour the dots by", others, key=K + "dep_colour",
                          format_func=lambda f: f if f == INTERACTION else demand_label(f))
    try:
        dep = get_demand_dependence(held.result, feature, color_by="interaction" if colour == INTERACTION else colour)
    except DataValidationError as exc:
        fail(exc)
        return
    st.plotly_chart(plot_demand_dependence(dep, axis=SHAP_AXIS, labeller=demand_label, currency=get_currency()),
                    key=K + "dep_chart")
    inter = (f", coloured by {demand_label(dep.color_by).lower()}"
             f"{', the input that changes its effect most' if colour == INTERACTION else ''}") if dep.color_by else ""
    st.caption(f"Each of the {len(dep.shap):,} training windows explained above: its "
               f"{demand_label(feature).lower()} against how much that value pushed its P50 forecast (averaged over the "
               f"horizon){inter}. A rising cloud means more of this input, more forecast demand; a wide vertical "
               "spread at one value means the effect depends on other inputs.")
