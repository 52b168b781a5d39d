"""Demand page, explanations tab: demand events (spikes above a level) and what drives the
forecast (SHAP)."""

from __future__ import annotations

import streamlit as st

from core.present.charts import plot_shap_bar, plot_shap_waterfall
from core.demand.labels import SHAP_AXIS, demand_label
from core.demand import charts as dc
from core.demand.events import LEVEL_MODES, EventConfig, compute_event_metrics, compute_levels, event_note
from core.demand.explain import local_step
from core.errors import DataValidationError
from core.data.imbalance import IMBALANCE_METHODS
from core.data.safety import escape_plotly_text

from ui.common import plain_columns
from ui.demand.base import K, fail
from ui.jobs import job_panel


# The tab's steps that need Keras itself, each a small job of its own (scenario, core.demand.jobs function):
# the server process keeps the network as a DetachedModel and never loads it into Keras.
EVENTS = ("demand.events", "core.demand.jobs:events_page")
GLOBAL = ("demand.shap", "core.demand.jobs:global_shap_page")
LOCAL = ("demand.explain", "core.demand.jobs:local_shap_page")


def ns(kind: tuple[str, str]) -> str:
    """The session-state namespace of ``kind``'s job panel."""
    return K + kind[0].split(".", 1)[1] + "."


def submit(kind: tuple[str, str], run, *, label: str, **kwargs) -> None:
    """Start ``kind``'s job on ``run`` with ``kwargs`` for this browser (refused with a message while the
    previous one of its kind still runs); its meta names the training job the run came from."""
    from ui.jobs import start_job

    start_job(ns(kind), kind[0], kind[1], dict(run=run, **kwargs), label=label,
              meta={"run": st.session_state.get(K + "run_job"), **{k: v for k, v in kwargs.items()
                                                                    if k in ("sid", "date")}})


def keeper(key: str, wrap=lambda result, job: result):
    """``collect`` for a small job: its result kept under ``key`` when it belongs to the model on the page."""
    def collect(result, job) -> None:
        if job.meta.get("run") != st.session_state.get(K + "run_job"):
            st.info(f"The {job.label} finished for a model trained before the one on this page; it was not "
                    "kept. Start it again for this model.", icon=":material/info:")
            return
        st.session_state[K + key] = wrap(result, job)
    return collect


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
            compute_levels(run, EventConfig(mode, float(value), imb, int(ep)))  # a bad level is said before submitting
            submit(EVENTS, run, label="event classifier training", mode=mode, value=float(value), imbalance=imb,
                   epochs=int(ep))
        except DataValidationError as exc:
            fail(exc)
    job_panel(ns(EVENTS), EVENTS[0], keeper("events"), noun="event classifier training")
    ev = st.session_state.get(K + "events")
    if ev is None:
        return
    thr = st.slider("Alert threshold (probability)", 0.01, 0.99, 0.5, 0.01, key=K + "ev_thr")
    try:
        table = compute_event_metrics(ev, thr)
    except DataValidationError as exc:
        fail(exc)
        return
    shown = table.rename_axis("method").reset_index()
    numbers = [c for c in table.columns if c not in ("verdict", "prevalence")]
    st.dataframe(shown.style.format("{:.3f}", subset=numbers, na_rep="—").format("{:.1%}", subset=["prevalence"]),
                 hide_index=True, width="stretch", column_config=plain_columns(
                     shown.columns, names={"method": "Scores from", "prevalence": "Event share"}))
    for name, row in table.iterrows():
        if note := event_note(name, row):
            st.warning(note, icon=":material/casino:")
    def windows(counts) -> str:
        return f"{int(counts.get(1, 0)):,} with an event and {int(counts.get(0, 0)):,} without"

    method = IMBALANCE_METHODS.get(ev.config.imbalance, str(ev.config.imbalance)).split(":")[0]
    method = method if method[:2].isupper() else method[:1].lower() + method[1:]  # SMOTE stays in capitals
    st.caption(f"Training windows: {windows(ev.train_counts)}; after {method if method != 'none' else 'no rebalancing'}, "
               f"{windows(ev.rebalanced_counts)}. The quantile forecast row reads P(demand > level) from P10/P50/P90. "
               "ROC-AUC low / high: 95 % bootstrap interval over the test periods; when it holds 0.5 the "
               "scores rank events no better than chance.")
    sid = st.selectbox("Series", sorted(ev.test["series"].unique()), key=K + "ev_series")
    st.plotly_chart(dc.plot_events(ev.test, sid), key=K + "ev_chart")


def shap_panels(run) -> None:
    st.subheader("Why the model forecasts what it does (SHAP)")
    st.caption("Values are in log demand relative to the series' recent level: +0.10 ≈ 10 % more demand.")
    if st.button("Compute overall importance", key=K + "shap_go"):
        submit(GLOBAL, run, label="SHAP overall importance", seed=0)
    job_panel(ns(GLOBAL), GLOBAL[0], keeper("shap_global"), noun="explanation")
    g = st.session_state.get(K + "shap_global")
    if g is not None:
        st.plotly_chart(plot_shap_bar(g.result.importance(), labeller=demand_label), key=K + "shap_bar")
    c1, c2 = st.columns(2)
    sid = c1.selectbox("Series to explain", run.series_ids, key=K + "shap_sid")
    dates = list(run.future.loc[run.future["series"] == sid, "date"].dt.date)
    date = c2.selectbox("Forecast date", dates, key=K + "shap_date")
    if st.button("Explain this forecast", key=K + "shap_local_go"):
        try:
            local_step(run, sid, date)  # a series or date outside the forecast is said before submitting
            submit(LOCAL, run, label="forecast explanation", sid=sid, date=date, seed=0)
        except DataValidationError as exc:
            fail(exc)
    job_panel(ns(LOCAL), LOCAL[0], keeper("shap_local", lambda r, job: (job.meta["sid"], job.meta["date"], r)),
              noun="explanation")
    loc = st.session_state.get(K + "shap_local")
    if loc is not None:
        lsid, ldate, ls = loc
        fig = plot_shap_waterfall(ls.result.base_value, ls.result.contributions(0), float(ls.result.predictions[0]),
                                  labeller=demand_label, x_title=SHAP_AXIS, probability=False)
        # The series id comes from the upload: escaped, as the chart builders escape theirs.
        fig.update_layout(title=f"{escape_plotly_text(lsid)} on {ldate}: drivers of P50")
        st.plotly_chart(fig, key=K + "shap_waterfall")
