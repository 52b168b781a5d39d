"""Fraud page, explanations tab: what drives the risk (SHAP) and one transaction's reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.present.charts import plot_shap_bar, plot_shap_beeswarm, plot_shap_waterfall
from core.fraud.alerts import format_value, get_reasons, short_label

from ui.common import get_currency, money
from ui.fraud.base import K
from ui.fraud.flip import show_alert_flip


def show_explanations(run, ex) -> None:
    test = run.test
    p = test[run.score_column].to_numpy()  # the recommended model's risk
    g = ex.global_sample
    imp = g.importance()
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_shap_bar(imp, labeller=short_label), key=K + "shap_bar")
    c2.plotly_chart(plot_shap_beeswarm(g.values, g.data, imp["feature"].tolist(), labeller=short_label,
                                       currency=get_currency()), key=K + "beeswarm")
    order = np.argsort(-p, kind="stable")
    pick = st.number_input("Explain the transaction ranked (1 = riskiest in the test period)", 1, len(p), 1,
                           key=K + "local_rank")
    i = int(order[int(pick) - 1])
    local_key = (K + "local", i)
    if st.session_state.get(K + "local_key") != local_key:
        st.session_state[K + "local_res"] = run.tabular.explain(run.feature_frame_test.iloc[[i]])
        st.session_state[K + "local_key"] = local_key
    res = st.session_state[K + "local_res"]
    row = test.iloc[i]
    st.markdown(f"**{row['time']}** · customer {row['customer']} · terminal {row['terminal']} · amount "
                f"{money(row['amount'], cents=True)} · risk {p[i]:.3f} · truly fraud: {'yes' if row['label'] else 'no'}")
    st.markdown("Top reasons: " + get_reasons(res, ex.typical, k=3, currency=get_currency())[0])
    contrib = res.contributions(0)
    contrib["value"] = [format_value(f, v, get_currency()) for f, v in zip(contrib["feature"], contrib["value"])]
    st.plotly_chart(plot_shap_waterfall(res.base_value, contrib, float(res.predictions[0]), labeller=short_label),
                    key=K + "waterfall")
    show_alert_flip(run, res, i)
    with st.expander("What each feature means"):
        fs = run.features
        st.dataframe(pd.DataFrame({"Feature": [short_label(n) for n in fs.names], "Column": fs.names,
                              "What it measures": [fs.descriptions[n] for n in fs.names]}), hide_index=True, width="stretch")
