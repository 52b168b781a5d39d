"""Demand page, result tabs: the forecast per series, and the backtest of the network against
the baselines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.demand import charts as dc
from core.demand.fmetrics import mape_note
from core.demand.forecast import get_history
from core.demand.blend import (recommended_text, saved_backtest, saved_metrics, saved_metrics_table, saved_per_series,
                                saved_row_name)
from core.demand.verdict import compare_demand, saved_warnings, versus_best
from core.demand.labels import describe_excluded
from core.present.glossary import metric_help, metric_label
from core.ml.training import describe_epochs, summarize_epochs

from ui.common import get_verdicts, show_verdict, side_note, training_curve
from ui.demand.audit import show_run_audit
from ui.demand.base import K, METRIC_COLS
from ui.demand.tables import backtest_table, metric_help_columns, series_table
from ui.trust import show_trust


def forecast_tab(run) -> None:
    st.subheader("Forecast")
    st.caption(f"P10 / P50 / P90 for the next {run.wcfg.horizon} periods after each series' history, with the "
               "backtest forecasts over the held-out tail.")
    sid = st.selectbox("Series", run.series_ids, key=K + "series_pick")
    bt, prefix, model = saved_backtest(run)  # the saved forecast's backtest: the recommended blend's when it is saved
    st.plotly_chart(dc.plot_forecast(get_history(run, sid), bt, run.future, sid, prefix=prefix, model=model),
                    key=K + "forecast")


def show_demand_trust(run) -> None:
    """The trust flags (``core.report.trust``) of the backtest, computed once per model; a search kept with the
    run (settings chosen on purpose) drops the first-try 'too good' check."""
    from core.demand.trust import demand_trust

    kept = st.session_state.get(K + "search")
    searched = kept is not None and kept[0] is run
    show_trust(get_verdicts(K + "trust", run, lambda: demand_trust(run, verdict=demand_verdict(run), searched=searched)))


def demand_verdict(run):
    """The verdict against the best baseline (``core.demand.verdict``), computed once per model."""
    return get_verdicts(K + "verdicts", run, lambda: [compare_demand(run)])[0]


def _fmt(v, spec: str, unit: str = "") -> str:
    return "—" if v is None or pd.isna(v) else f"{v:{spec}}{unit}"


def results(run) -> None:
    blend = getattr(run, "blend", None)
    # Every tile is the saved forecast's: the recommended blend when validation chose it, else the network.
    st.subheader(f"Backtest: {'recommended blend' if blend else 'network'} vs baselines")
    if blend:
        st.caption(f"The tiles are the saved forecast's, **{blend['label']}**; the network's own figures are its row "
                   "in the table and charts below, labelled \"Keras quantile network\" or \"network alone\".")
    # One comparison, the verdict's: every tile sets the saved forecast against the best baseline it names.
    verdict = demand_verdict(run)
    best = versus_best(run, verdict)
    nn, bb, name = saved_metrics(run), best["row"], best["name"]
    who = "the recommended blend's" if blend else "the network's"
    t = st.columns(4)
    t[0].metric("WAPE (error / total demand)", _fmt(nn.get("wape"), ".1f", " %"), **side_note(f"{name} {bb['wape']:.1f} %"),
                help=metric_help("wape"))
    t[1].metric("MASE (< 1 beats in-sample naive)", _fmt(nn.get("mase"), ".2f"), **side_note(f"{name} {bb['mase']:.2f}"),
                help=metric_help("mase"))
    # Short texts (a quarter-width tile cuts "Holiday-weighted MAE vs moving average" off): the baseline beside
    # the value, the metric on hover.
    t[2].metric("Error vs best baseline", f"{best['ratio']:.0%}" if best["ratio"] is not None else "—",
                **side_note(f"vs {name}"),
                help=f"{best['label']}: {who} {best['metric']} as a share of the best baseline's ({name}): below 100 % "
                     "is better. The verdict below says whether the difference is outside the noise.")
    t[3].metric("P10–P90 coverage", _fmt(nn.get("coverage_p10_p90"), ".0f", " %"), **side_note("target 80 %"),
                help=metric_help("coverage"))
    # The network against the best baseline, and what a headline error hides.
    # The verdict judges the saved forecast: the blend, when validation recommended it.
    show_verdict(verdict, model="The recommended blend" if getattr(run, "blend", None) else "The network", fmt=",.1f")
    said = recommended_text(getattr(run, "recommended", None))
    if said is not None:  # which forecast is saved and scored, chosen on the validation periods
        (st.warning if said[0] == "warning" else st.info)(said[1], icon=":material/recommend:")
    for note in saved_warnings(run):  # the saved forecast's bias and coverage, named
        st.warning(note, icon=":material/warning:")
    # WMAE (holiday weeks weigh 5) when the data has a holiday flag, as retail planners score forecasts.
    shown = METRIC_COLS + (["wmae"] if "wmae" in run.metrics else [])
    st.dataframe(backtest_table(saved_metrics_table(run), shown, run.holiday_col), width="stretch",
                 column_config=metric_help_columns(shown, run.holiday_col))
    st.caption(f"MAE {_fmt(nn.get('mae'), ',.1f')} vs {name} {bb['mae']:,.1f} units · "
               f"{mape_note(nn) or 'MAPE is given: no actual is near zero'} · {run.device} · trained in "
               f"{run.timings['train']:.1f} s · {describe_epochs(summarize_epochs(run.history, run.config.epochs))} "
               f"· interval calibration × {run.spread_factor:.2f}")
    show_run_audit(run)
    for note in run.notices:
        st.info(note, icon=":material/info:")
    if run.excluded:
        st.warning(describe_excluded(run.excluded), icon=":material/warning:")
        st.dataframe(pd.DataFrame(run.excluded), hide_index=True, width="stretch",
                     column_config={"series": "Series", "periods": "Periods", "reason": "Reason"})
    c1, c2 = st.columns(2)
    bt, prefix, _model = saved_backtest(run)
    c1.plotly_chart(dc.plot_error_by_step(bt, prefix=prefix, model=saved_row_name(run)), key=K + "err_step")
    c2.plotly_chart(training_curve(run.history), key=K + "history")
    metric = st.radio("Error by series", ["wape", "mase", "mae", "coverage_p10_p90"], horizontal=True, key=K + "metric",
                      format_func=lambda m: metric_label("coverage" if m == "coverage_p10_p90" else m))
    per_series = saved_per_series(run)  # the saved blend's rows first, the network's own rows labelled
    st.plotly_chart(dc.plot_error_by_series(per_series, metric), key=K + "err_series")
    with st.expander("Metrics per series (table)"):
        cols = ["series", "method", *METRIC_COLS]
        st.dataframe(series_table(per_series, cols), hide_index=True, width="stretch",
                     column_config=metric_help_columns(cols))
