"""Credit page, first tab: the training options, the training run with its live progress, and what
was trained."""

from __future__ import annotations

import streamlit as st

from core.present.charts import plot_class_counts
from core.credit.pipeline import CREDIT_DEFAULTS
from core.credit.service import decide
from core.data.imbalance import IMBALANCE_METHODS
from core.ml.tabular_fit import describe_refit
from core.ml.training import describe_epochs, summarize_epochs

from ui.common import NETWORK_HELP, advanced_settings, training_curve
from ui.credit.base import K, SHAP_ROWS
from ui.search import search_options, show_recommended, show_search


def training_form() -> dict | None:
    d = CREDIT_DEFAULTS
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c1, c2, c3, c4 = st.columns(4)
        methods = list(IMBALANCE_METHODS)
        imbalance = c1.selectbox("Imbalance handling", methods, index=methods.index(d["imbalance"]),
                                 format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0],
                                 help="'None' keeps the network's probabilities calibrated, which scorecard "
                                      "points and the profit curve rely on.")
        epochs = c2.number_input("Epochs (early stopping may end sooner)", 1, 500, d["epochs"])
        seed = c3.number_input("Seed", 0, 10_000, 0)
        test_size = c4.slider("Test share", 0.1, 0.4, 0.25, 0.05)
        c1, c2, _, _ = st.columns(4)
        max_rows = c1.number_input("Use at most this many rows (0 = all)", 0, 1_000_000, 0, step=500)
        shap_rows = c2.number_input("Rows explained with SHAP", 50, 1000, SHAP_ROWS, step=50)
        with advanced_settings():
            c1, c2, c3 = st.columns(3)
            width = c1.number_input("Width (units in first layer)", 4, 1024, d["width"], step=8,
                                    help=NETWORK_HELP["width"])
            depth = c2.number_input("Depth (hidden layers)", 1, 6, d["depth"], help=NETWORK_HELP["depth"])
            dropout = c3.slider("Dropout", 0.0, 0.7, float(d["dropout"]), 0.05, help=NETWORK_HELP["dropout"])
            c1, c2, c3 = st.columns(3)
            # "auto" scales L2 and the batch with the training rows (core.credit.pipeline.credit_l2,
            # core.ml.tabular.auto_batch_size): fixed values suit a few thousand rows, not 150,000.
            l2 = c1.select_slider("L2 penalty", ["auto", 0.0, 1e-5, 1e-4, 1e-3, 1e-2], value="auto",
                                  help=NETWORK_HELP["l2"])
            lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=d["learning_rate"],
                                  help=NETWORK_HELP["learning_rate"])
            batch = c3.select_slider("Batch size", ["auto", 32, 64, 128, 256, 512, 1024, 2048], value="auto",
                                     help=NETWORK_HELP["batch_size"])
        search = search_options(K)
        if not st.form_submit_button("Train model", type="primary", icon=":material/model_training:"):
            return None
    return dict(search=search, imbalance=imbalance, width=int(width), depth=int(depth), dropout=float(dropout),
                l2=None if l2 == "auto" else float(l2), learning_rate=float(lr), epochs=int(epochs),
                batch_size=None if batch == "auto" else int(batch), seed=int(seed),
                test_size=float(test_size), max_rows=int(max_rows), shap_rows=int(shap_rows))


TARGET = "core.credit.jobs:train_page"


def train(df, target, positive, roles, sensitive, opts, *, notices=(), data_key: str = "", data_name: str = ""):
    """Start the training on ``df`` with the page's choices as a job (a worker process); ``notices``
    (rows left out for their outcome) are shown with what was trained. ``collect`` takes its result."""
    from ui.jobs import start_job

    if opts["max_rows"] and len(df) > opts["max_rows"]:
        df = df.sample(n=opts["max_rows"], random_state=opts["seed"]).reset_index(drop=True)
        st.info(f"Training on a random sample of {opts['max_rows']:,} rows (seeded).")
    config_options = {k: opts[k] for k in ("imbalance", "width", "depth", "dropout", "l2", "learning_rate", "epochs",
                                           "batch_size", "seed")}
    start_job(K, "credit", TARGET,
              dict(df=df, target=target, positive=positive, roles=roles, sensitive=sensitive,
                   config_options=config_options, search=opts["search"], test_size=opts["test_size"],
                   shap_rows=opts["shap_rows"], keep_columns=tuple(opts.get("keep", ()))),
              data=df, seed=opts["seed"], imbalance=opts["imbalance"], shap_rows=opts["shap_rows"],
              meta={"data_key": data_key, "data_name": data_name, "notices": list(notices)})


def collect(result: dict, job) -> None:
    """A finished training job's result into the session: the run, its SHAP values, the search, and
    the decline threshold at its profit optimum for the page's costs."""
    from ui.origin import record_origin

    run, search = result["run"], result["search"]
    before = st.session_state.get(K + "run")
    best = decide(run, loss_default=st.session_state[K + "loss"], margin_good=st.session_state[K + "margin"], digits=3)
    for key in list(st.session_state):
        if key.startswith(K + "out:"):
            del st.session_state[key]
    run.setup.notices[:0] = list(job.meta.get("notices", ()))
    st.session_state[K + "search"] = None if search is None else (run, search)
    st.session_state[K + "run"] = run
    st.session_state[K + "shap"] = result["shap"]
    st.session_state[K + "threshold"] = best.threshold
    record_origin(K, before, key=job.meta.get("data_key", ""), name=job.meta.get("data_name"), unit="applications",
                  rows=len(run.train_df) + len(run.test_df))


def show_trained(run) -> None:
    """What was trained: rows, features, epochs, the columns kept out, the search and the class balance."""
    rb = run.tabular.rebalance_info
    said = (describe_epochs(summarize_epochs(run.tabular.history, run.tabular.config.epochs)),
            describe_refit(run.tabular.history), "Open the other tabs for results.")  # the refit's: "" if none
    st.success(f"Model trained: {len(run.train_df):,} training and {len(run.test_df):,} test applicants, "
               f"{len(run.setup.features)} features, on {run.tabular.device or 'CPU'}. "
               + " ".join(part for part in said if part), icon=":material/check_circle:")
    if run.setup.sensitive:
        st.info(f"Kept out of this model: {', '.join(f'`{c}`' for c in run.setup.sensitive)} (sensitive "
                "attribute, used only for the fairness check). To use one as a feature, press its "
                "**Use … as a feature** button above (or untick it in the column table) and train again.",
                icon=":material/shield_person:")
    for n in [*run.setup.notices, *run.tabular.notices]:
        if not n.startswith("Sensitive attribute(s)"):
            st.caption(n)
    show_recommended(run.tabular, key=K + "recommended")
    searched = st.session_state.get(K + "search")
    if searched is not None and searched[0] is run:
        show_search(searched[1], key=K + "search", ensemble_shown=True)
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_class_counts({f"{k} ({'default' if k else 'repaid'})": v for k, v in rb.counts_before.items()},
                                      {f"{k} ({'default' if k else 'repaid'})": v for k, v in rb.counts_after.items()}),
                    key=K + "counts")
    c2.plotly_chart(training_curve(run.tabular.history), key=K + "history")
