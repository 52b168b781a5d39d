"""Demand forecasting: sales history -> global Keras quantile forecast -> inventory policy.
Layout only; the work is in core/demand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.charts import plot_shap_bar, plot_shap_waterfall, plot_training_history
from core.datasets import read_table
from core.demand import charts as dc
from core.demand.covariates import horizon_covariates, join_covariates
from core.demand.data import GAP_FILLS, ColumnMap, load_sales
from core.demand.events import LEVEL_MODES, EventConfig, compute_event_metrics, event_note, train_events
from core.demand.explain import compute_global_shap, compute_local_shap
from core.demand.export import forecast_csv, get_forecast_table, model_bytes
from core.demand.fmetrics import mape_note
from core.demand.forecast import DemandConfig, get_history, get_naive_sd, train_demand
from core.demand.inventory import (DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, PERIOD_DAYS, PERIOD_UNIT,
                                   PolicyParams, compute_policy_backtest, compute_policy_table, default_policy,
                                   describe_params, summarize_policy)
from core.demand.roles import guess_roles
from core.demand.verdict import compare_demand, demand_warnings
from core.errors import DataValidationError
from core.glossary import metric_help, metric_label, rename_metrics
from core.imbalance import IMBALANCE_METHODS
from core.training import describe_epochs, summarize_epochs

from ui.common import ensure_router, get_verdicts, show_verdict
from ui.workspace import save_to_workspace

ensure_router()

K = "demand."  # namespace of this page's session state
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "demand_sales.csv"
UPLOAD_TYPES = ["csv", "txt", "tsv", "gz", "parquet"]
DEFAULT_H = {"daily": 28, "weekly": 8, "monthly": 12}
# Series x periods kept on a cloud instance; older history is dropped. 500,000 keeps three years of
# 3,000 weekly series (enough for a 39-week horizon after a year's input window and a backtest);
# training such a file peaked at 1.45 GB (bench/bench_demand.py --only retail), inside 2.7 GB.
MAX_PERIODS = 500_000
# WAPE and MASE lead: MAPE is shown only where no actual is near zero (core/demand/fmetrics.py).
METRIC_COLS = ["wape", "mase", "mae", "rmse", "bias_pct", "coverage_p10_p90", "smape", "mape"]

st.title(":material/trending_up: Demand forecasting")
st.caption("How much will each store sell, and when should it reorder? One global Keras model forecasts "
           "every series with P10/P50/P90 intervals, is backtested against seasonal-naive and moving-average "
           "baselines, and its quantiles become safety stock and reorder points.")


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled sample, shared by all sessions: never modified in place."""
    return read_table(SAMPLE).df


def fail(exc: Exception) -> None:
    st.error(str(exc) if isinstance(exc, DataValidationError) else f"Something went wrong: {exc}",
             icon=":material/error:")


# ---------------------------------------------------------------- data
def get_raw() -> tuple[pd.DataFrame | None, str]:
    choice = st.radio("Data", ["Bundled sample (23 store × product series, 3 years daily)", "Upload my file"],
                      horizontal=True, key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample"
    up = st.file_uploader("Sales history (CSV or Parquet): a date column, a quantity column, optional series "
                          "columns (store, product) and known-in-advance covariates (price, promo, holiday)",
                          type=UPLOAD_TYPES, key=K + "upload")
    if up is None:
        st.info("Upload a file to forecast your own sales, or switch back to the bundled sample.")
        return None, ""
    # No row sampling here: load_sales caps by keeping recent history instead.
    df = read_upload_once(up, "upload")
    return (None, "") if df is None else (df, f"upload:{up.file_id}")


def read_upload_once(up, name: str) -> pd.DataFrame | None:
    """The uploaded table, read once per file (reruns reuse it); None, with the message shown, when
    the file cannot be read."""
    if st.session_state.get(K + f"{name}_id") != up.file_id:
        st.session_state[K + f"{name}_id"] = up.file_id
        try:
            st.session_state[K + f"{name}_table"] = (read_table(up, name=up.name, max_rows=None).df, None)
        except DataValidationError as exc:
            st.session_state[K + f"{name}_table"] = (None, exc)
    df, err = st.session_state[K + f"{name}_table"]
    if err is not None:
        fail(err)
    return df


def get_covariates_file() -> tuple[pd.DataFrame | None, str]:
    """An optional second file of known-in-advance covariates (per store and date, say)."""
    up = st.file_uploader("Covariates file (optional, CSV or Parquet): known-in-advance values per date, or per "
                          "store and date (temperature, fuel price, markdowns, holiday flag), joined on the "
                          "columns it shares with the sales file's date and series columns", type=UPLOAD_TYPES,
                          key=K + "cov_upload")
    if up is None:
        return None, ""
    df = read_upload_once(up, "cov")
    return (None, "") if df is None else (df, up.file_id)


def get_join(raw: pd.DataFrame, cov: pd.DataFrame, cmap: ColumnMap, key: str):
    """The covariates joined onto the sales rows, once per file pair and key columns; None when the join
    fails (the error is shown and the sales file is used on its own)."""
    sig = (key, cmap.date, cmap.series)
    if st.session_state.get(K + "join_sig") != sig:
        try:
            st.session_state[K + "join"] = (join_covariates(raw, cov, date_col=cmap.date, series_cols=cmap.series), None)
        except DataValidationError as exc:
            st.session_state[K + "join"] = (None, exc)
        st.session_state[K + "join_sig"] = sig
    join, err = st.session_state[K + "join"]
    if err is not None:
        fail(err)
        return None
    st.info(join.summary(), icon=":material/join:")
    for note in join.notices:
        st.caption(note)
    return join


def get_guess(df: pd.DataFrame, key: str):
    """The guessed column roles of this file, worked out once per file."""
    if st.session_state.get(K + "guess_key") != key:
        st.session_state[K + "guess"] = guess_roles(df)
        st.session_state[K + "guess_key"] = key
    return st.session_state[K + "guess"]


def column_mapping(df: pd.DataFrame, key: str, guess) -> tuple[ColumnMap | None, str]:
    """Column pickers preset from the guess, and why each column got its role. Returns no column map
    while the date or the quantity has not been picked: nothing trains on a guessed quantity."""
    cols = list(df.columns)
    c1, c2, c3 = st.columns(3)
    date = c1.selectbox("Date column", cols, index=cols.index(guess.date) if guess.date else None,
                        placeholder="Pick the date column", key=K + f"date:{key}")
    target = c2.selectbox("Quantity column", cols, index=cols.index(guess.target) if guess.target else None,
                          placeholder="Pick the quantity column", key=K + f"target:{key}")
    fill = c3.selectbox("Fill missing periods with", GAP_FILLS, key=K + f"fill:{key}")
    rest = [c for c in cols if c not in (date, target)]
    series = st.multiselect("Series columns (one forecast per combination)", rest,
                            default=[c for c in guess.series if c in rest], key=K + f"series:{key}")
    numeric = [c for c in rest if c not in series and pd.api.types.is_numeric_dtype(df[c])]
    covs = st.multiselect("Known-in-advance covariates (e.g. price, promotion, holiday)", [c for c in rest if c not in series],
                          default=numeric, key=K + f"covs:{key}")
    st.caption("Guessed from the column names and values — check each role before training, and change any above:")
    st.dataframe(pd.DataFrame(guess.roles(), columns=["column", "role", "why"]), hide_index=True, width="stretch")
    if guess.problem and (date is None or target is None):
        st.warning(guess.problem, icon=":material/help:")
    if date is None or target is None:
        return None, fill
    return ColumnMap(date=date, target=target, series=tuple(series), covariates=tuple(covs)), fill


def get_sales(df: pd.DataFrame, cmap: ColumnMap, fill: str, key: str):
    sig = (key, cmap, fill)
    if st.session_state.get(K + "sales_sig") != sig:
        try:
            st.session_state[K + "sales"] = (load_sales(df, cmap, fill_gaps=fill, max_rows=MAX_PERIODS), None)
        except DataValidationError as exc:
            st.session_state[K + "sales"] = (None, exc)
        st.session_state[K + "sales_sig"] = sig
    return st.session_state[K + "sales"]


def data_report(sales) -> None:
    r = sales.report
    c = st.columns([1, 1, 1, 2])
    c[0].metric("Frequency", r.frequency)
    c[1].metric("Series", r.n_series)
    c[2].metric("Periods", f"{r.n_rows:,}")
    c[3].markdown(f"**Date range**  \n{r.start} → {r.end}")
    if r.issues:
        st.warning("The data needed fixing before training: "
                   + "; ".join(f"{i['count']:,} {i['issue']} ({i['action']})" for i in r.issues) + ".",
                   icon=":material/build:")
    else:
        st.success("No gaps, duplicates or negative quantities found.", icon=":material/check_circle:")
    lengths = sales.lengths()
    st.caption(f"Series length: shortest {lengths.min()}, longest {lengths.max()} periods. "
               f"Covariates: {', '.join(sales.covariates) or 'none'} "
               f"(0/1 flags: {', '.join(sales.binary_covariates) or 'none'}).")


# ---------------------------------------------------------------- training
def training(sales, join=None) -> None:
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c = st.columns(4)
        horizon = c[0].number_input("Horizon (periods to forecast)", 1, 120, DEFAULT_H[sales.frequency])
        origins = c[1].number_input("Backtest origins", 1, 6, 2, help="Rolling-origin backtest: forecast from this "
                                    "many origins, one horizon apart, in the held-out tail of every series.")
        epochs = c[2].number_input("Max epochs", 1, 200, 60, help="Early stopping on the most recent training windows.")
        seed = c[3].number_input("Seed", 0, 10_000, 0)
        submitted = st.form_submit_button("Train forecast model", type="primary", icon=":material/model_training:")
    # The progress bar draws into a slot that exists on every run: an element that only appeared on
    # the training run would shift the result tabs below, and Streamlit would redraw them and jump
    # back to the first tab at the next click.
    slot = st.empty()
    if not submitted:
        return
    bar = slot.progress(0.0, text="Preparing windows")

    def on_epoch(epoch, total, logs):
        bar.progress(min(epoch / total, 1.0), text=f"Epoch {epoch} of {total} — pinball loss "
                     f"{logs.get('loss', 0):.4f}, validation {logs.get('val_loss', 0):.4f}")

    try:
        future = None if join is None else horizon_covariates(join, sales.columns.series, sales)
        run = train_demand(sales, DemandConfig(horizon=int(horizon), origins=int(origins), epochs=int(epochs),
                                               seed=int(seed)), future_covariates=future, progress=on_epoch)
    except DataValidationError as exc:
        bar.empty()
        fail(exc)
        return
    bar.progress(1.0, text=f"Done in {run.timings['total']:.1f} s")
    for k in ("events", "shap_global", "shap_local", "model_bytes"):
        st.session_state.pop(K + k, None)
    st.session_state[K + "run"] = run


def forecast_tab(run) -> None:
    st.subheader("Forecast")
    st.caption(f"P10 / P50 / P90 for the next {run.wcfg.horizon} periods after each series' history, with the "
               "backtest forecasts over the held-out tail.")
    sid = st.selectbox("Series", run.series_ids, key=K + "series_pick")
    st.plotly_chart(dc.plot_forecast(get_history(run, sid), run.backtest, run.future, sid), key=K + "forecast")


def results(run) -> None:
    st.subheader("Backtest: network vs baselines")
    nn, sn = run.metrics.iloc[0], run.metrics.loc["Seasonal naive"]
    t = st.columns(4)
    t[0].metric("WAPE (error / total demand)", f"{nn['wape']:.1f} %", delta=f"naive {sn['wape']:.1f} %",
                delta_color="off", help=metric_help("wape"))
    t[1].metric("MASE (< 1 beats in-sample naive)", f"{nn['mase']:.2f}", delta=f"naive {sn['mase']:.2f}",
                delta_color="off", help=metric_help("mase"))
    t[2].metric("MAE vs seasonal naive", f"{nn['mae'] / sn['mae']:.0%}" if sn["mae"] else "—")
    t[3].metric("P10–P90 coverage", f"{nn['coverage_p10_p90']:.0f} %", delta="target 80 %", delta_color="off",
                help=metric_help("coverage"))
    # The network against the best baseline (not only seasonal naive), and what a headline error hides.
    show_verdict(get_verdicts(K + "verdicts", run, lambda: [compare_demand(run)])[0])
    for note in demand_warnings(run.metrics):
        st.warning(note, icon=":material/warning:")
    # WMAE (holiday weeks weigh 5) when the data has a holiday flag, as retail planners score forecasts.
    shown = METRIC_COLS + (["wmae"] if "wmae" in run.metrics else [])
    table = run.metrics[shown].rename(columns={**rename_metrics(shown), "bias_pct": "Bias %",
                                               "coverage_p10_p90": "P10–P90 coverage %",
                                               "wmae": f"Holiday-weighted MAE ({run.holiday_col} weeks × 5)"})
    table.index.name = "Method"
    st.dataframe(table.style.format("{:.2f}", na_rep="—"), width="stretch")
    st.caption(f"MAE {nn['mae']:.2f} vs seasonal naive {sn['mae']:.2f} · "
               f"{mape_note(nn) or 'MAPE is given: no actual is near zero'} · {run.device} · trained in "
               f"{run.timings['train']:.1f} s · {describe_epochs(summarize_epochs(run.history, run.config.epochs))} "
               f"· interval calibration × {run.spread_factor:.2f}")
    for note in run.notices:
        st.info(note, icon=":material/info:")
    if run.excluded:
        reasons = pd.DataFrame(run.excluded)["reason"].value_counts()
        st.warning(f"{len(run.excluded)} series left out of the model: "
                   + "; ".join(f"{n} {'has' if n == 1 else 'have'} {r}" for r, n in reasons.items())
                   + ". They are listed below.", icon=":material/warning:")
        st.dataframe(pd.DataFrame(run.excluded), hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    c1.plotly_chart(dc.plot_error_by_step(run.backtest), key=K + "err_step")
    c2.plotly_chart(plot_training_history(run.history), key=K + "history")
    metric = st.radio("Error by series", ["wape", "mase", "mae", "coverage_p10_p90"], horizontal=True, key=K + "metric",
                      format_func=lambda m: metric_label("coverage" if m == "coverage_p10_p90" else m))
    st.plotly_chart(dc.plot_error_by_series(run.per_series, metric), key=K + "err_series")
    with st.expander("Metrics per series (table)"):
        cols = ["series", "method", *METRIC_COLS]
        st.dataframe(run.per_series[cols].round(3), hide_index=True, width="stretch")


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
    hold = c[3].number_input(f"Holding cost / unit / {unit}", 0.0, 1e6, 0.1, key=K + "hold")
    short = c[4].number_input("Stock-out cost / unit", 0.0, 1e6, 2.0, key=K + "short")
    params = PolicyParams(sl, int(lead), int(review), float(hold), float(short))
    st.caption(f"Policy: {describe_params(params, freq)['text']}. " + " ".join(notes))
    try:
        agg = run.aggregate_scale(params.lead_time + params.review_period)
        table = compute_policy_table(run.future, params, H, agg)
        bt = compute_policy_backtest(run.backtest, params, H, get_naive_sd(run), agg)
    except DataValidationError as exc:
        fail(exc)
        return None
    s = summarize_policy(bt, params)
    m = st.columns(3)
    m[0].metric("Backtest cost — network policy", f"{s['cost_model']:,.1f}",
                delta=f"{s['cost_model'] - s['cost_naive']:,.1f} vs naive", delta_color="inverse")
    m[1].metric("Cycles without stock-out — network", f"{s['cycle_service_model']:.0%}",
                delta=f"naive {s['cycle_service_naive']:.0%}", delta_color="off")
    m[2].metric("Stock held (sum of reorder points)", f"{s['stock_model']:,.0f}",
                delta=f"naive {s['stock_naive']:,.0f}", delta_color="off")
    st.info(s["explanation"], icon=":material/inventory_2:")
    ratio = short / (short + hold) if short + hold else 0.0
    st.caption("Periodic review: order up to the reorder point every review period; stock covers lead time + "
               "review period. Backtest cost = the policy set at each origin, costed on the demand that "
               f"really followed. The spread over lead time + review is widened × {agg:.2f} because errors of "
               "neighbouring periods move together (measured on validation windows). Newsvendor hint: a service "
               f"level of about {ratio:.1%} balances these costs.")
    st.plotly_chart(dc.plot_policy(table), key=K + "policy_chart")
    st.dataframe(table.round(2), hide_index=True, width="stretch")
    return params


def events(run) -> None:
    st.subheader("Demand events (spikes above a level)")
    with st.form(K + "events_form"):
        c = st.columns(4)
        mode = c[0].selectbox("Level is", LEVEL_MODES, format_func=lambda m: {"relative": "× series mean",
                              "absolute": "units (e.g. shelf capacity)"}[m])
        value = c[1].number_input("Level", 0.0, 1e9, 2.0)
        methods = list(IMBALANCE_METHODS)
        imb = c[2].selectbox("Imbalance handling", methods, index=methods.index("class_weight"),
                             format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0])
        ep = c[3].number_input("Epochs", 1, 100, 15)
        go = st.form_submit_button("Train event classifier", icon=":material/notifications_active:")
    if go:
        try:
            with st.spinner("Training the event classifier"):
                st.session_state[K + "events"] = train_events(run, EventConfig(mode, float(value), imb, int(ep)))
        except DataValidationError as exc:
            fail(exc)
    ev = st.session_state.get(K + "events")
    if ev is None:
        return
    thr = st.slider("Alert threshold (probability)", 0.01, 0.99, 0.5, 0.01, key=K + "ev_thr")
    try:
        table = compute_event_metrics(ev, thr)
    except DataValidationError as exc:
        fail(exc)
        return
    numbers = [c for c in table.columns if c != "verdict"]
    st.dataframe(table.style.format("{:.3f}", subset=numbers, na_rep="—"), width="stretch")
    for name, row in table.iterrows():
        if note := event_note(name, row):
            st.warning(note, icon=":material/casino:")
    st.caption(f"Training windows before rebalancing {ev.train_counts}, after {ev.rebalanced_counts} "
               f"({ev.config.imbalance}). The quantile forecast row reads P(demand > level) from P10/P50/P90. "
               "ROC-AUC low / high: 95 % bootstrap interval over the test periods; when it holds 0.5 the "
               "scores rank events no better than chance.")
    sid = st.selectbox("Series", sorted(ev.test["series"].unique()), key=K + "ev_series")
    st.plotly_chart(dc.plot_events(ev.test, sid), key=K + "ev_chart")


def shap_panels(run) -> None:
    st.subheader("Why the model forecasts what it does (SHAP)")
    st.caption("Values are in log demand relative to the series' recent level: +0.10 ≈ 10 % more demand.")
    if st.button("Compute overall importance", key=K + "shap_go"):
        try:
            with st.spinner("Explaining 150 training windows"):
                st.session_state[K + "shap_global"] = compute_global_shap(run, seed=0)
        except DataValidationError as exc:
            fail(exc)
    g = st.session_state.get(K + "shap_global")
    if g is not None:
        st.plotly_chart(plot_shap_bar(g.result.importance()), key=K + "shap_bar")
    c1, c2 = st.columns(2)
    sid = c1.selectbox("Series to explain", run.series_ids, key=K + "shap_sid")
    dates = list(run.future.loc[run.future["series"] == sid, "date"].dt.date)
    date = c2.selectbox("Forecast date", dates, key=K + "shap_date")
    if st.button("Explain this forecast", key=K + "shap_local_go"):
        try:
            st.session_state[K + "shap_local"] = (sid, date, compute_local_shap(run, sid, date))
        except DataValidationError as exc:
            fail(exc)
    loc = st.session_state.get(K + "shap_local")
    if loc is not None:
        lsid, ldate, ls = loc
        fig = plot_shap_waterfall(ls.result.base_value, ls.result.contributions(0), float(ls.result.predictions[0]))
        fig.update_layout(title=f"{lsid} on {ldate}: drivers of P50", xaxis_title="log demand vs recent level")
        st.plotly_chart(fig, key=K + "shap_waterfall")


def downloads(run, params: PolicyParams | None) -> None:
    st.subheader("Export")
    params = params or PolicyParams(lead_time=0, review_period=1)
    c1, c2 = st.columns(2)
    c1.download_button("Forecast table (CSV: P10/P50/P90, reorder points)", forecast_csv(run, params),
                       "demand_forecast.csv", "text/csv", key=K + "dl_csv", icon=":material/download:",
                       on_click="ignore")
    if c2.button("Prepare model file", key=K + "prep_model"):
        st.session_state[K + "model_bytes"] = model_bytes(run)
    if st.session_state.get(K + "model_bytes"):
        c2.download_button("Trained model (.keras)", st.session_state[K + "model_bytes"], "demand_model.keras",
                           key=K + "dl_model", icon=":material/download:", on_click="ignore")
    st.dataframe(get_forecast_table(run, params).head(50), hide_index=True, width="stretch")


def save_panel(run, params: PolicyParams | None, dataset_name: str | None) -> None:
    def save_demand(name, root):
        from core.demand.export import save_demand_run
        from core.workspace.summary import build_demand_summary

        summary = build_demand_summary(run, name=name, params=params, dataset_name=dataset_name,
                                       shap=st.session_state.get(K + "shap_global"))
        return save_demand_run(run, root, params, extra_metadata=summary)

    save_to_workspace("demand", run, save_demand, dataset_name=dataset_name,
                      disabled_reason=None if params is not None else
                      "Fix the inventory policy inputs above first: the saved run records its policy and costs.")


raw, key = get_raw()
cov_df, cov_key = get_covariates_file() if raw is not None and key != "sample" else (None, "")
if raw is not None:
    guess = get_guess(raw, key)
    with st.expander("Column mapping", expanded=key != "sample" or guess.problem is not None):
        cmap, fill = column_mapping(raw, key, guess)
    if cmap is None:
        st.info("Pick the date and quantity columns under Column mapping to load the data.", icon=":material/info:")
    else:
        join = get_join(raw, cov_df, cmap, f"{key}|{cov_key}") if cov_df is not None else None
        if join is not None:  # every joined covariate feeds the model, next to those picked above
            cmap = ColumnMap(cmap.date, cmap.target, cmap.series,
                             tuple(dict.fromkeys([*(cmap.covariates or ()), *join.joined])))
        sales, err = get_sales(join.frame if join is not None else raw, cmap, fill,
                               f"{key}|{cov_key}" if join is not None else key)
        if err is not None:
            fail(err)
        else:
            st.subheader("Data report")
            data_report(sales)
            training(sales, join)
run = st.session_state.get(K + "run")
if run is not None:
    # One screen per question, like the other scenarios, instead of one very long page.
    tabs = st.tabs(["Forecast", "Backtest", "Inventory", "Explanations", "Export"])
    with tabs[0]:
        forecast_tab(run)
    with tabs[1]:
        results(run)
    with tabs[2]:
        params = inventory(run)
    with tabs[3]:
        events(run)
        shap_panels(run)
    with tabs[4]:
        downloads(run, params)
        save_panel(run, params, SAMPLE.name if key == "sample" else
                   getattr(st.session_state.get(K + "upload"), "name", None))
