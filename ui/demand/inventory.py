"""Demand page, inventory tab: the forecast's quantiles as safety stock and reorder points,
backtested against the same policy on the best baseline's forecast (the verdict's)."""

from __future__ import annotations

import streamlit as st

from core.demand import charts as dc
from core.demand.inventory import (DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, PERIOD_DAYS, PERIOD_UNIT,
                                   PolicyParams, compute_policy_table, default_policy,
                                   describe_params, summarize_policy)
from core.demand.blend import saved_name
from core.demand.verdict import baseline_policy_backtest
from core.errors import DataValidationError

from core.present.glossary import metric_help, metric_label

from ui.common import change_delta, get_currency, money, money_label, side_note
from ui.demand.base import K, fail
from ui.demand.results import demand_verdict
from ui.demand.tables import policy_table


def inventory(run) -> PolicyParams | None:
    st.subheader("Inventory policy")
    H, freq = run.wcfg.horizon, run.data.frequency
    unit = PERIOD_UNIT[freq]
    # Defaults are set in days (7-day lead time, weekly review) and converted to periods of this data.
    default, notes = default_policy(freq, H)

    def days_help(days: float) -> str:
        return f"Default {days:g} days, rounded up to whole {unit}s (1 {unit} = {PERIOD_DAYS[freq]:g} days)."

    c = st.columns(5)
    sl = c[0].slider("Service level", 0.5, 0.995, 0.95, 0.005, key=K + "sl")
    lead = c[1].number_input(f"Lead time ({unit}s)", 0, H, default.lead_time, key=K + "lead",
                             help=days_help(DEFAULT_LEAD_TIME_DAYS))
    review = c[2].number_input(f"Review period ({unit}s)", 1, H, default.review_period, key=K + "review",
                               help=days_help(DEFAULT_REVIEW_DAYS))
    hold = c[3].number_input(money_label(f"Holding cost / unit / {unit}"), 0.0, 1e6, 0.1, key=K + "hold")
    short = c[4].number_input(money_label("Stock-out cost / unit"), 0.0, 1e6, 2.0, key=K + "short")
    params = PolicyParams(sl, int(lead), int(review), float(hold), float(short))
    st.caption(f"Policy: {describe_params(params, freq)['text']}. " + " ".join(notes))
    try:
        agg = run.aggregate_scale(params.lead_time + params.review_period)
        table = compute_policy_table(run.future, params, H, agg)
        # Against the same policy on the verdict's best baseline: the one comparison of the run.
        bt, name = baseline_policy_backtest(run, params, agg, demand_verdict(run))
    except DataValidationError as exc:
        fail(exc)
        return None
    model = saved_name(run)  # the policy is the saved forecast's: the recommended blend when the run has one
    s = summarize_policy(bt, params, currency=get_currency(), baseline=name, model=model)
    m = st.columns(3)
    m[0].metric(f"Backtest cost — {model} policy", money(s["cost_model"]),
                **change_delta(s["cost_model"] - s["cost_naive"], f"{money(s['cost_model'] - s['cost_naive'])} vs {name}",
                                  inverse=True))
    m[1].metric(f"Cycles without stock-out — {model}", f"{s['cycle_service_model']:.0%}",
                **side_note(f"{name} {s['cycle_service_naive']:.0%}"))
    m[2].metric("Stock held (sum of reorder points)", f"{s['stock_model']:,.0f} units",
                **side_note(f"{name} {s['stock_naive']:,.0f} units"))
    st.info(s["explanation"], icon=":material/inventory_2:")
    ratio = short / (short + hold) if short + hold else 0.0
    st.caption("Periodic review: order up to the reorder point every review period; stock covers lead time + "
               "review period. Backtest cost = the policy set at each origin, costed on the demand that "
               f"really followed. The spread over lead time + review is widened × {agg:.2f} because errors of "
               "neighbouring periods move together (measured on validation windows). Newsvendor hint: a service "
               f"level of about {ratio:.1%} balances these costs. "
               f"{metric_label('newsvendor')}: {metric_help('newsvendor')}")
    st.plotly_chart(dc.plot_policy(table, model=model), key=K + "policy_chart")
    st.dataframe(policy_table(table), hide_index=True, width="stretch")
    return params
