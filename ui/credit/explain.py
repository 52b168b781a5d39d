"""Credit page, explanation tabs: what drives the risk (SHAP), reason codes for every declined
applicant, and a what-if editor for one applicant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.present.charts import plot_shap_bar, plot_shap_beeswarm, plot_shap_waterfall
from core.credit.pipeline import find_id_column
from core.credit.reasons import PROXY_NOTE, get_reason_codes, humanise
from core.credit.scorecard import compute_score_points, describe_grade, threshold_to_points
from core.credit.scoring import score_applicant
from core.errors import DataValidationError

from ui.common import get_currency
from ui.credit.base import MAX_REASON_ROWS, K, cached_fig, fail, proxies, reason_policy
from ui.credit.flip import show_flip


def show_explanations(run, shap) -> None:
    """Global importance, the beeswarm and one applicant's waterfall."""
    st.subheader("What drives the predicted risk (SHAP)")
    st.caption(f"Computed on {len(shap.values):,} test applicants. Positive values push towards default.")
    imp = shap.importance()
    c1, c2 = st.columns(2)
    c1.plotly_chart(cached_fig(run, "shap_bar", lambda: plot_shap_bar(imp, labeller=humanise)), key=K + "shap_bar")
    c2.plotly_chart(cached_fig(run, "beeswarm", lambda: plot_shap_beeswarm(shap.values, shap.data,
                                                                          imp["feature"].tolist(), labeller=humanise,
                                                                          currency=get_currency())),
                    key=K + "beeswarm")
    local_view(run, shap)


@st.fragment
def local_view(run, shap):
    i = st.number_input("Explain test applicant number", 0, len(run.test_df) - 1, 0, key=K + "local_row")
    if i < len(shap.values):
        res, j = shap, int(i)
    else:  # outside the explained sample: explain this one row now (a fraction of a second)
        res, j = run.explain(run.test_df.iloc[[int(i)]]), 0
    st.plotly_chart(plot_shap_waterfall(res.base_value, res.contributions(j), float(res.predictions[j]),
                                        labeller=humanise, currency=get_currency()),
                    key=K + "waterfall")


def declined_explanations(run, shap, idx: np.ndarray) -> dict[int, tuple[np.ndarray, float]]:
    """SHAP values of the test applicants ``idx``, computed once each and kept for the session (a
    threshold change only explains the newly declined)."""
    held = st.session_state.get(K + "reason_cache")
    if held is None or held[0] is not run:
        held = (run, {i: (shap.values[i], float(shap.predictions[i])) for i in range(len(shap.values))})
        st.session_state[K + "reason_cache"] = held
    cache = held[1]
    missing = [int(i) for i in idx if int(i) not in cache]
    if missing:
        with st.spinner(f"Explaining {len(missing):,} more declined applicants with SHAP"):
            res = run.explain(run.test_df.iloc[missing])
        cache.update({i: (res.values[k], float(res.predictions[k])) for k, i in enumerate(missing)})
    return cache


def show_reason_codes(run, shap, threshold: float, scorecard) -> None:
    """The declined test applicants, riskiest first, each with the four features that raised its risk most."""
    p = run.p_test
    st.subheader("Reason codes for declined applicants")
    flagged = proxies(run)
    if flagged:
        names = ", ".join(humanise(f) for f in flagged)
        st.toggle(f"Keep features that may stand in for a protected attribute out of reason codes ({names})",
                  key=K + "proxy_out",
                  help="The Fairness tab flags these features. An adverse-action reason may not rest on a proxy for "
                       "a protected attribute: left out, the next feature that raised the risk is given instead; "
                       "kept, the reason is marked. Saved with the run; the Score page, the command line and the "
                       "scored file follow it.")
        st.caption("Left out of every reason (here, in the what-if and in the scored file)." if
                   st.session_state.get(K + "proxy_out", True) else
                   f"Reasons citing them are marked “{PROXY_NOTE}”.")
    policy = reason_policy(run)
    declined = np.flatnonzero(p >= threshold)
    shown = declined[np.argsort(-p[declined], kind="stable")][:MAX_REASON_ROWS]
    st.caption(f"{len(declined):,} of the {len(p):,} test applicants are declined at threshold {threshold:.3f}, "
               "riskiest first. The four features that raised each one's risk most, in plain words"
               + (f" (the {MAX_REASON_ROWS:,} riskiest here; the command line gives them for all):"
                  if len(declined) > MAX_REASON_ROWS else ":"))
    if len(shown):
        explained = declined_explanations(run, shap, shown)
        id_col = find_id_column(run.test_df)
        records = run.test_df.iloc[shown].to_dict("records")
        rows = []
        for rec, i in zip(records, shown):
            values, prob = explained[int(i)]
            reasons = get_reason_codes(values, shap.feature_names, rec, references=run.references,
                                       currency=get_currency(), **policy)
            rows.append({"Applicant": rec[id_col] if id_col else int(i), "Probability of default": prob,
                         "Points": compute_score_points([prob], scorecard)[0],
                         **{f"Reason {k + 1}": (reasons[k] if k < len(reasons) else "") for k in range(4)}})
        st.dataframe(pd.DataFrame(rows).style.format({"Probability of default": "{:.3f}", "Points": "{:.0f}"}),
                     hide_index=True, width="stretch", key=K + "reasons",
                     column_config={"Applicant": st.column_config.Column(pinned=True),
                                    **{f"Reason {k + 1}": st.column_config.TextColumn(width="large") for k in range(4)}})
        st.caption("Scroll the table sideways for reasons 3 and 4; the applicant stays in view.")
    else:
        st.info("No test applicant is declined at this threshold.")


def show_what_if(run, threshold: float, scorecard) -> None:
    st.subheader("What if: edit one applicant")
    what_if(run, threshold, scorecard)


@st.fragment
def what_if(run, threshold: float, scorecard):
    start = st.number_input("Start from test applicant number", 0, len(run.test_df) - 1, 0, key=K + "wi_row")
    base = run.test_df.iloc[int(start)]
    row = {}
    cols = st.columns(3)
    for j, c in enumerate(run.setup.features):
        with cols[j % 3]:
            # Plain names, the column's own name on hover; whole-number columns (counts, terms,
            # ages) are edited as whole numbers, not 3.000.
            label, raw_name = humanise(c), f"Column `{c}`"
            if c in run.setup.numeric:
                v = pd.to_numeric(base[c], errors="coerce")
                start_value = float(v) if pd.notna(v) else float(run.references.get(c, 0.0))
                whole = bool((run.train_df[c].dropna() % 1 == 0).all())
                row[c] = st.number_input(label, value=int(round(start_value)) if whole else start_value,
                                         step=1 if whole else None, key=f"{K}wi:{start}:{c}", help=raw_name)
            else:
                opts = sorted(run.train_df[c].dropna().astype(str).unique().tolist())
                cur = str(base[c]) if pd.notna(base[c]) and str(base[c]) in opts else opts[0]
                row[c] = st.selectbox(label, opts, index=opts.index(cur), key=f"{K}wi:{start}:{c}",
                                      help=raw_name)
    # The model call and SHAP for an edited row are kept, so moving the threshold elsewhere on the
    # page does not explain the same applicant again.
    memo = st.session_state.setdefault(K + "wi_memo", {})
    row_key = (id(run), tuple((c, str(v)) for c, v in row.items()))

    def explain_once(frame):
        if row_key not in memo:
            memo.clear()
            memo[row_key] = run.explain_fn(frame)
        return memo[row_key]

    try:
        res = score_applicant(row, predict_fn=run.predict, threshold=threshold, config=scorecard,
                              explain_fn=explain_once, references=run.references, **reason_policy(run))
    except DataValidationError as exc:
        fail(exc)
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Probability of default", f"{res.probability:.3f}")
    c2.metric("Score points", f"{res.points:.0f}")
    c3.metric("Grade", res.grade)
    # The one credit rule, as in the grade table and the scored file: decline at P(default) >= the threshold.
    c4.metric("Decision", res.decision.capitalize())
    st.caption(f"{describe_grade(res.grade, threshold, scorecard)} The line: P(default) {threshold:.3f}, "
               f"{threshold_to_points(threshold, scorecard):.0f} points; this applicant: {res.points:.0f} points.")
    if res.decision == "decline":
        st.markdown("**Reasons for decline**\n" + "\n".join(f"1. {r}" for r in res.reasons))
    elif res.reasons:
        st.caption("Approved. Main risk factors: " + "; ".join(res.reasons))
    show_flip(run, row, threshold)
