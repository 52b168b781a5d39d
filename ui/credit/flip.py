"""Credit page, what-if tab: what would flip this decision (the search is core.credit.counterfactual)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.credit.counterfactual import default_ranges, find_flip, protected_features, read_ranges
from core.credit.reasons import humanise
from core.errors import DataValidationError
from core.data.safety import escape_markdown

from ui.common import get_currency
from ui.credit.base import K, fail, proxies


def _protected(run) -> list[str]:
    """Age, protected attributes and the proxies the Fairness tab flags (the list reason codes use)."""
    return protected_features(run.setup.features, run.setup.sensitive, proxies(run))


def _settings(run, protected: list[str]) -> pd.DataFrame:
    numeric = [f for f in run.setup.numeric if f not in protected]
    ranges = default_ranges(run.train_df, numeric, numeric)
    return pd.DataFrame([{"feature": f, "Feature": humanise(f), "May change": True, "Lowest": r[0], "Highest": r[1]}
                         for f, r in ranges.items()])


def show_flip(run, row: dict, threshold: float) -> None:
    """The features the analyst lets change and their ranges, and the smallest change found that moves
    this applicant across the threshold."""
    st.markdown("#### What would flip this decision")
    if not 0 < threshold < 1:  # a line at 0 declines everyone (at 1, approves everyone): nothing flips
        who = "declines every applicant" if threshold <= 0 else "approves every applicant"
        st.info(f"At the decision threshold {threshold:.2f} the rule {who}, so no change to this applicant "
                "flips it. Move the threshold in 'Decision & profit' to search for one.")
        return
    protected = _protected(run)
    if protected:
        st.caption("Never changed: " + ", ".join(humanise(f) for f in protected)
                   + " (age, protected attributes and proxies flagged on the Fairness tab).")
    categories = [f for f in run.setup.categorical if f not in protected]
    edited = st.data_editor(_settings(run, protected), key=K + "flip_settings", hide_index=True, width="stretch",
                            disabled=["Feature"], column_order=["Feature", "May change", "Lowest", "Highest"],
                            column_config={"May change": st.column_config.CheckboxColumn(
                                help="Untick what the applicant cannot change (e.g. the length of the credit history)."),
                                "Lowest": st.column_config.NumberColumn(help="Lowest value the search may try."),
                                "Highest": st.column_config.NumberColumn(help="Highest value the search may try.")})
    chosen = st.multiselect("Categories that may change (to any value seen in training)", categories,
                            default=categories, format_func=humanise, key=K + "flip_categories") if categories else []
    st.caption("Ranges start between the training rows' 1st and 99th percentile; edit them to what the applicant "
               "could really do.")
    memo = st.session_state.setdefault(K + "flip_memo", {})
    try:
        actionable = {**read_ranges(edited.to_dict("records")), **default_ranges(run.train_df, chosen, [])}
        key = (id(run), tuple((c, str(v)) for c, v in row.items()), round(threshold, 6), repr(sorted(actionable.items())))
        if key not in memo:
            memo.clear()
            memo[key] = find_flip(row, predict_fn=run.predict, threshold=threshold, train_df=run.train_df,
                                  numeric=run.setup.numeric, categorical=run.setup.categorical,
                                  actionable=actionable, protected=protected)
    except DataValidationError as exc:
        fail(exc)
        return
    cf = memo[key]
    text = cf.sentence(run.train_df, get_currency())
    show = st.success if cf.found and cf.decision_before == "decline" else st.info
    show(escape_markdown(text), icon=":material/swap_horiz:")
