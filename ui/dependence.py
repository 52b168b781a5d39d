"""Per-feature dependence on the credit and fraud pages: SHAP dependence beside partial dependence
with ICE lines, for the feature the analyst picks (the work is in core.ml.dependence)."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st

from core.ml.dependence import (compute_partial_dependence, get_shap_dependence, plot_partial_dependence,
                             plot_shap_dependence)
from core.errors import DataValidationError
from core.present.glossary import feature_label as plain_label

from ui.common import get_currency, show_error

PDP_ROWS = 300


def show_dependence(key: str, run, shap, rows: pd.DataFrame, predict_fn: Callable, *, outcome=None,
                    outcome_names=("no", "yes"), what: str = "Predicted probability", labeller=None) -> None:
    """A feature picker, its SHAP dependence and its partial dependence. ``shap`` is the page's
    ``ShapResult``; ``rows`` the raw rows the partial dependence averages over (a seeded sample of
    at most PDP_ROWS); ``outcome`` the actual labels of the explained rows (for colouring);
    ``labeller(name)`` the scenario's words for its features (default ``core.present.glossary.feature_label``)."""
    feature_label = labeller or plain_label
    st.subheader("How one feature moves the prediction")
    order = shap.importance()["feature"].tolist()
    c1, c2 = st.columns([2, 1])
    feature = c1.selectbox("Feature", order, format_func=feature_label, key=key + "dep_feature",
                           help="Features in order of importance (mean |SHAP|).")
    options = ["the feature it interacts with most", *(["the actual outcome"] if outcome is not None else [])]
    colour = c2.radio("Colour the dots by", options, key=key + "dep_colour", horizontal=True)
    try:
        dep = get_shap_dependence(shap, feature, color_by="outcome" if colour == "the actual outcome" else "interaction",
                                  outcome=outcome)
        pdp = _cached_pdp(key, run, rows, predict_fn, feature)
    except DataValidationError as exc:
        show_error(exc)
        return
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_shap_dependence(dep, currency=get_currency(), outcome_names=outcome_names, labeller=labeller),
                    key=key + "dep_shap")
    c2.plotly_chart(plot_partial_dependence(pdp, currency=get_currency(), outcome=what, reference=rows[feature],
                                            labeller=labeller),
                    key=key + "dep_pdp")
    inter = f", coloured by {feature_label(dep.color_by)}, the feature that changes its effect most" \
        if dep.color_by not in (None, "outcome") else ""
    st.caption(f"Left: each of the {len(dep.shap):,} explained rows, its {feature_label(feature)} against how much "
               f"that value pushed its prediction{inter}. Right: the network's average prediction as "
               f"{feature_label(feature)} alone is set to each value, on {pdp.n_rows:,} rows (thick line), and the "
               f"same for {len(pdp.ice)} single rows (thin lines): lines that cross show an interaction.")


def _cached_pdp(key: str, run, rows, predict_fn, feature: str):
    """The partial dependence of ``feature``, computed once per trained model (one batched model call)."""
    held = st.session_state.get(key + "dep_cache")
    if held is None or held[0] is not run:
        held = (run, {})
        st.session_state[key + "dep_cache"] = held
    if feature not in held[1]:
        held[1][feature] = compute_partial_dependence(predict_fn, rows, feature, sample_rows=PDP_ROWS)
    return held[1][feature]
