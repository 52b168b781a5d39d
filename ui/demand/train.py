"""Demand page, training: the form, the training submitted as a job, and its result kept for the page."""

from __future__ import annotations

import streamlit as st

from core.demand.covariates import horizon_covariates
from core.demand.forecast import DemandConfig
from core.demand.jobs import ENSEMBLE_NOTE
from core.errors import DataValidationError

from ui.common import NETWORK_HELP, advanced_settings
from ui.demand.audit import audited
from ui.demand.base import DEFAULT_H, K, fail
from ui.search import keep_search, search_options


def training_form(sales) -> dict | None:
    """The training options; returned when the form is submitted, None otherwise."""
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c = st.columns(4)
        horizon = c[0].number_input("Horizon (periods to forecast)", 1, 120, DEFAULT_H[sales.frequency])
        origins = c[1].number_input("Backtest origins", 1, 6, 2, help="Rolling-origin backtest: forecast from this "
                                    "many origins, one horizon apart, in the held-out tail of every series.")
        epochs = c[2].number_input("Max epochs", 1, 200, 60, help="Early stopping on the most recent training windows.")
        seed = c[3].number_input("Seed", 0, 10_000, 0)
        net = network_form(DemandConfig())
        search = search_options(K, kind="demand")
        submitted = st.form_submit_button("Train forecast model", type="primary", icon=":material/model_training:")
    if not submitted:
        return None
    return dict(horizon=int(horizon), origins=int(origins), epochs=int(epochs), seed=int(seed), search=search, **net)


def network_form(d: DemandConfig) -> dict:
    """The forecast network's settings in the Advanced settings expander, ``d``'s values as defaults."""
    with advanced_settings():
        c1, c2, c3 = st.columns(3)
        width = c1.select_slider("Width", [16, 32, 64, 128, 256], d.width, key=K + "width", help=NETWORK_HELP["width"])
        depth = c2.number_input("Depth (hidden layers)", 1, 6, d.depth, key=K + "depth", help=NETWORK_HELP["depth"])
        dropout = c3.slider("Dropout", 0.0, 0.7, float(d.dropout), 0.05, key=K + "dropout", help=NETWORK_HELP["dropout"])
        c1, c2, c3 = st.columns(3)
        l2 = c1.select_slider("L2 penalty", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], d.l2, key=K + "l2",
                              help=NETWORK_HELP["l2"].split(";")[0] + ".")
        lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], d.learning_rate, key=K + "lr",
                              help=NETWORK_HELP["learning_rate"])
        batch = c3.select_slider("Batch size", [32, 64, 128, 256, 512, 1024], d.batch_size, key=K + "batch",
                                 help=NETWORK_HELP["batch_size"].split("; ")[0] + ". " +
                                 NETWORK_HELP["batch_size"].split(". ", 1)[1])
    return dict(width=int(width), depth=int(depth), dropout=float(dropout), l2=float(l2), learning_rate=float(lr),
                batch_size=int(batch))


TARGET = "core.demand.jobs:train_page"


def train(sales, join, opts: dict, *, data_key: str = "", data_name: str | None = None, rows: int | None = None) -> None:
    """Start the training with the page's choices as a job (a worker process); ``collect`` takes its
    result. The leakage audit, the settings and the horizon's covariates are checked here, before
    submitting, so bad input is said at once."""
    from ui.jobs import start_job

    search_opts = opts.pop("search", None)
    choices = {k: opts.pop(k, ()) for k in ("keep", "lag")}
    try:
        sales = audited(sales, join, {**opts, **choices})  # the leakage audit on this split's training rows
        config = DemandConfig(**opts)
        future = None if join is None else horizon_covariates(join, sales.columns.series, sales)
        start_job(K, "demand", TARGET, dict(sales=sales, config=config, search=search_opts, future=future),
                  data=sales, seed=opts.get("seed", 0), horizon=opts["horizon"], label="demand training",
                  meta={"data_key": data_key, "data_name": data_name, "rows": rows})
    except DataValidationError as exc:
        fail(exc)


def collect(result: dict, job) -> None:
    """A finished training job's result into the session: the run, the search that chose its settings
    and the ensemble's SHAP; what was worked out for the previous model is dropped."""
    from ui.origin import record_origin

    run, search = result["run"], result["search"]
    before = st.session_state.get(K + "run")
    for k in ("events", "shap_global", "shap_local", "model_bytes", "ensemble_shap"):
        st.session_state.pop(K + k, None)
    st.session_state[K + "run"] = run
    st.session_state[K + "run_job"] = job.id  # the Explanations tab's jobs name the model they explain
    keep_search(K, run, search)
    if result.get("ensemble_shap") is not None:
        st.session_state[K + "ensemble_shap"] = (run, result["ensemble_shap"], ENSEMBLE_NOTE)
    meta = job.meta
    record_origin(K, before, key=meta.get("data_key", ""), unit="sales rows", rows=meta.get("rows"),
                  name=meta.get("data_name"))


def show_trained(run) -> None:
    """What was trained: the series, the horizon and the backtest, on which device, in how many epochs."""
    from core.ml.training import describe_epochs, summarize_epochs

    st.success(f"Model trained: {len(run.n_train):,} series, forecasting {run.wcfg.horizon} periods ahead, "
               f"backtested over {run.config.origins} origin(s) of the held-out tail, on {run.device}. "
               f"{describe_epochs(summarize_epochs(run.history, run.config.epochs))} Open the other tabs for results.",
               icon=":material/check_circle:")
