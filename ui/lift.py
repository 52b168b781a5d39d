"""Lift and cumulative gains on the credit and fraud performance tabs (the work is in core.ml.lift)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import DataValidationError
from core.ml.lift import compute_decile_table, compute_gains_curve, plain_decile_table, plot_cumulative_gains, plot_lift

from ui.common import show_error


def recommended_first(tab, p_recommended, scores: dict) -> dict:
    """``scores`` (model name -> test scores, the network first) with the recommended blend first when the run
    recommends one, so the decile table, the lift chart and the sentence are those of the model decided on."""
    if tab.recommended != "ensemble":
        return scores
    return {tab.ensemble.get("label", "Ensemble"): p_recommended, **scores}


def show_lift(key: str, y, scores: dict, *, positives: str, action: str, cases: str, file_name: str) -> None:
    """The gains chart of every model in ``scores`` (name -> test scores, the recommended model first), the
    first model's lift by decile and its decile table with a CSV download. ``action`` / ``cases`` say
    what acting on the riskiest rows means ("declining", "applicants"; "reviewing", "transactions")."""
    st.subheader("Lift and cumulative gains")
    try:
        curves = {name: compute_gains_curve(y, s) for name, s in scores.items()}
        network = next(iter(scores))
        table = compute_decile_table(y, scores[network])
    except DataValidationError as exc:
        show_error(exc)
        return
    share = st.slider(f"Share of {cases} acted on, riskiest first", 1, 100, 20, step=1, format="%d %%",
                      key=key + "lift_share") / 100
    c = curves[network]
    i = int(np.argmin(np.abs(c["share_acted"].to_numpy() - share)))
    caught, lift = float(c["share_caught"].iloc[i]), float(c["lift"].iloc[i])
    st.markdown(f"**{action.capitalize()} the riskiest {share:.0%} of {cases} catches {caught:.0%} of the "
                f"{positives}** ({int(c['caught'].iloc[i]):,} of {int(np.sum(y)):,} in the test rows): "
                f"{lift:.1f} times as many as {action} {share:.0%} at random.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_cumulative_gains(curves, acted=f"Share of {cases} {action_noun(action)}",
                                          caught=f"Share of {positives} caught", mark=share), key=key + "gains")
    c2.plotly_chart(plot_lift(table), key=key + "lift")
    shown = plain_decile_table(table, positives=positives)
    st.dataframe(shown.style.format({"Lowest score": "{:.3f}", "Highest score": "{:.3f}", f"Share of {positives}": "{:.1%}",
                                     "Lift": "{:.2f}", "Share of rows down to here": "{:.0%}",
                                     f"Share of all {positives} caught": "{:.1%}", "Cumulative lift": "{:.2f}"}),
                 hide_index=True, width="stretch", key=key + "deciles")
    st.download_button("Download the decile table (CSV)", shown.to_csv(index=False).encode(), file_name=file_name,
                       mime="text/csv", key=key + "deciles_csv")
    st.caption(f"Test {cases} ranked by the score of {network} (the model decided on) and cut into ten equal "
               f"groups; lift is a group's share "
               f"of {positives} over the share in all test {cases} (1 = no better than random).")


def action_noun(action: str) -> str:
    """'declining' -> 'declined', 'reviewing' -> 'reviewed'."""
    return action[:-3] + "ed" if action.endswith("ing") else action
