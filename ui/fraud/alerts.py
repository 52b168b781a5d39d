"""Fraud page, decision tabs: the alert policy set by money, and the alert queue it produces."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError
from core.fraud import charts as fc
from core.fraud.alerts import build_alert_queue, filter_alerts
from core.fraud.decisions import compute_decision_bands
from core.fraud.service import cost_curve, decide, decision_thresholds, default_block
from core.data.safety import safe_csv_bytes

from ui.common import get_currency, money, money_label, plain_columns, side_note
from ui.fraud.base import K, fail


REVIEW_DIGITS = 3  # the page's review line is rounded to this many decimals


def optimal_review(run, fee: float) -> tuple:
    """The savings curve over review thresholds at this review fee, and the service's decision on it
    (``core.fraud.service.decide``: the review line, and the curve's optimum as ``policy``)."""
    curve = cost_curve(run, fee)
    return curve, decide(run, review_fee=fee, digits=REVIEW_DIGITS, curve=curve)


def start_at_optimum(run) -> None:
    """A new model's review line starts at its optimum for the page's review fee (the 'Use the optimal
    review threshold' button's value), so every tab reads the same line from the first view."""
    st.session_state[K + "review_t"] = optimal_review(run, float(st.session_state.get(K + "fee", 5.0)))[1].review


def show_alert_policy(run) -> None:
    """Review fee, review and block thresholds, the savings curve and the decision bands."""
    test = run.test
    y, amounts = test["label"].to_numpy(), test["amount"].to_numpy()
    p = test[run.score_column].to_numpy()  # the recommended model's risk
    fee = st.number_input(money_label("Review fee per alert"), 0.0, 1000.0, 5.0, 1.0, key=K + "fee", format="%.2f",
                          help="Each missed fraud costs its amount; each alert costs this fee.")
    curve, decided = optimal_review(run, fee)
    best = decided.policy
    st.session_state.setdefault(K + "review_t", decided.review)
    c1, c2 = st.columns(2)
    review_t = c1.slider("Review at or above risk", 0.0, 1.0, key=K + "review_t", step=0.005)
    block_t = c2.slider("Block at or above risk", 0.0, 1.0, default_block(review_t), step=0.005, key=K + "block_t")
    st.button(f"Use the optimal review threshold ({best['threshold']:.3f})",
              on_click=lambda: st.session_state.update({K + "review_t": decided.review}))
    alerts_now = int((p >= review_t).sum())
    c1, c2, c3 = st.columns(3)
    c1.metric("Optimal: alerts", f"{best['alerts']:,.0f}", **side_note(f"threshold {best['threshold']:.3f}"))
    c2.metric("Optimal: savings vs no model", money(best["savings"]))
    now = curve.iloc[(curve["alerts"] - alerts_now).abs().argmin()]
    c3.metric("Your review threshold: savings", money(now["savings"]), **side_note(f"{alerts_now:,} alerts"))
    st.plotly_chart(fc.plot_savings_curve(curve, current_alerts=alerts_now, best_alerts=best["alerts"],
                                          currency=f"({get_currency()})"),
                    key=K + "savings")
    try:
        review_t, block_t = decision_thresholds(None, review_t, block_t, review_name="the review threshold")
        bands = compute_decision_bands(y, p, amounts, review_threshold=review_t, block_threshold=block_t)
        st.dataframe(bands, hide_index=True, width="stretch", column_config=plain_columns(
            bands.columns, names={"band": "Band", "share": "Share of transactions", "fraud": "Frauds",
                                  "share_of_all_fraud": "Share of all fraud", "fraud_amount": "Fraud amount"},
            money=("amount", "fraud_amount"), percent=("share", "share_of_all_fraud"), whole=("transactions", "fraud")))
        st.plotly_chart(fc.plot_decision_bands(bands, currency=get_currency()), key=K + "bands")
    except DataValidationError as exc:
        fail(exc)


REASON_ROW_HEIGHT = 72  # px: three lines of reasons in the alert queue


def show_alert_queue(run, ex) -> None:
    """The transactions at or above the review threshold, filtered and downloadable."""
    test = run.test
    p = test[run.score_column].to_numpy()  # the recommended model's risk
    threshold = st.session_state.get(K + "review_t", 0.5)
    scored = test[["time", "customer", "terminal", "amount", "label"]].assign(risk=p)
    queue = build_alert_queue(scored, threshold=threshold, reasons=ex.reasons)
    c1, c2, c3 = st.columns(3)
    min_risk = c1.slider("Minimum risk", 0.0, 1.0, float(threshold), 0.01, key=K + "q_risk")
    min_amt = c2.number_input("Minimum amount", 0.0, value=0.0, key=K + "q_amt")
    text = c3.text_input("Search customer, terminal or reason", key=K + "q_text")
    shown = filter_alerts(queue, min_risk=min_risk, min_amount=min_amt, text=text)
    st.caption(f"{len(shown):,} of {len(queue):,} alerts at risk ≥ {threshold:.3f} (the review threshold); "
               "'Fraud (true outcome)' is known here because this is the test period. The CSV keeps the "
               "machine column names (rank, risk, label, top_reasons) for other tools; hover a header to see it.")
    # The reasons are the longest text: a wide column next to the rank and risk (so it is on screen, not past
    # the right edge) and rows tall enough for its three reasons to wrap, none cut off behind an ellipsis.
    config = plain_columns(shown.columns, money=("amount",), whole=("rank",), risk=("risk",))
    first = [c for c in ("rank", "risk", "top_reasons") if c in shown.columns]
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, row_height=REASON_ROW_HEIGHT,
                 column_order=first + [c for c in shown.columns if c not in first])
    st.download_button("Download alert queue (CSV)", safe_csv_bytes(shown), "fraud_alerts.csv",
                       "text/csv", icon=":material/download:", on_click="ignore")
