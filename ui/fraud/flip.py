"""Fraud page, explanations tab: what would flip one transaction's alert (the search is core.fraud.flip)."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError
from core.fraud.alerts import short_label
from core.fraud.flip import find_alert_flip, get_flip_features
from core.data.safety import escape_markdown

from ui.common import get_currency, show_error
from ui.fraud.base import K


def show_alert_flip(run, res, i: int) -> None:
    """The smallest change in the transaction's top features (by SHAP) that moves its risk across the alert
    threshold set in 'Alert policy'. ``res``: the transaction's SHAP result; ``i``: its test position."""
    st.markdown("#### What would flip this alert")
    threshold = float(st.session_state.get(K + "review_t", 0.5))
    if not 0 < threshold < 1:  # a line at 0 alerts on everything (at 1, on nothing): nothing flips
        who = "alerts on every transaction" if threshold <= 0 else "alerts on none"
        st.info(f"At the alert threshold {threshold:.2f} the rule {who}, so no change to this transaction flips it. "
                "Move the threshold in 'Alert policy' to search for one.")
        return
    k = st.number_input("Top features the search may move (by their push on this transaction)", 1, 5, 3,
                        key=K + "flip_k")
    memo = st.session_state.setdefault(K + "flip_memo", {})
    key = (id(run), i, round(threshold, 6), int(k))
    try:
        if key not in memo:
            memo.clear()
            features = get_flip_features(res.contributions(0), run.features.numeric, int(k))
            train = run.features.frame.iloc[run.split.train_idx]
            memo[key] = find_alert_flip(run.feature_frame_test.iloc[i], predict_fn=run.tabular.predict_proba,
                                        threshold=threshold, train_features=train, numeric=run.features.numeric,
                                        categorical=run.features.categorical, features=features)
    except DataValidationError as exc:
        show_error(exc)
        return
    out = memo[key]
    show = st.success if out.flip.found else st.info
    show(escape_markdown(out.sentence(get_currency())), icon=":material/swap_horiz:")
    st.caption("Searched: " + "; ".join(short_label(f) for f in out.features) + ". Each may take the values of the "
               "training period's transactions (1st to 99th percentile); the smallest change, counted in how far it "
               "moves the transaction through them, is shown. The features are computed from the history of the "
               "card and the terminal: this says what the model reacts to, not what anyone could change.")
