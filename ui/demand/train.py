"""Demand page, training: the form and the training run with its progress."""

from __future__ import annotations

import streamlit as st

from core.demand.covariates import horizon_covariates
from core.demand.forecast import DemandConfig, train_demand
from core.errors import DataValidationError

from ui.common import NETWORK_HELP, advanced_settings
from ui.demand.audit import audited
from ui.demand.base import DEFAULT_H, K, fail
from ui.search import keep_search, run_demand_search, search_options
from ui.jobs import training_slot


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


ENSEMBLE_NOTE = ("Ensemble SHAP: each input's push on the blended P50 forecast in units of demand, averaged over "
                 "the horizon, for a sample of training windows. The network and the baseline are one model here: "
                 "the seasonal naive forecast moves with the seasonal reference, the moving average with the "
                 "last season's lags.")


def train(sales, join, opts: dict, slot) -> None:
    """Train the forecast model, its progress drawn in ``slot``; the run is kept in the session."""
    search_opts = opts.pop("search", None)
    choices = {k: opts.pop(k, ()) for k in ("keep", "lag")}
    try:
        sales = audited(sales, join, {**opts, **choices})  # the leakage audit on this split's training rows
        search, cfg = run_demand_search(sales, DemandConfig(**opts), search_opts, container=slot)
    except DataValidationError as exc:
        fail(exc)
        return
    bar = slot.progress(0.0, text="Preparing windows")

    def on_epoch(epoch, total, logs):
        bar.progress(min(epoch / total, 1.0), text=f"Epoch {epoch} of {total} — pinball loss "
                     f"{logs.get('loss', 0):.4f}, validation {logs.get('val_loss', 0):.4f}")

    try:
        future = None if join is None else horizon_covariates(join, sales.columns.series, sales)
        with training_slot("demand", sales, horizon=opts["horizon"], container=slot):
            run = train_demand(sales, cfg, future_covariates=future, progress=on_epoch)
    except DataValidationError as exc:
        bar.empty()
        fail(exc)
        return
    bar.progress(1.0, text=f"Done in {run.timings['total']:.1f} s")
    for k in ("events", "shap_global", "shap_local", "model_bytes"):
        st.session_state.pop(K + k, None)
    st.session_state[K + "run"] = run
    keep_search(K, run, search)
    st.session_state.pop(K + "ensemble_shap", None)
    if search is not None and (search.ensemble or {}).get("use"):
        from core.demand.ensemble import explain_demand_ensemble

        bar.progress(1.0, text="Explaining the ensemble with SHAP")
        explained = explain_demand_ensemble(run, search.ensemble)
        st.session_state[K + "ensemble_shap"] = (run, explained.result, ENSEMBLE_NOTE)
        bar.progress(1.0, text=f"Done in {run.timings['total']:.1f} s")


def show_trained(run) -> None:
    """What was trained: the series, the horizon and the backtest, on which device, in how many epochs."""
    from core.training import describe_epochs, summarize_epochs

    st.success(f"Model trained: {len(run.n_train):,} series, forecasting {run.wcfg.horizon} periods ahead, "
               f"backtested over {run.config.origins} origin(s) of the held-out tail, on {run.device}. "
               f"{describe_epochs(summarize_epochs(run.history, run.config.epochs))} Open the other tabs for results.",
               icon=":material/check_circle:")
