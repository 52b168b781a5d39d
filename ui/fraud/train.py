"""Fraud page, training: the form, the training run with its progress, and what was trained."""

from __future__ import annotations

import streamlit as st

from core.data.imbalance import IMBALANCE_METHODS
from core.ml.training import describe_epochs, summarize_epochs

from core.fraud.pipeline import FRAUD_TABULAR

from ui.common import NETWORK_HELP, advanced_settings, get_currency
from ui.fraud.base import K
from ui.search import search_options, show_recommended, show_search


# Cards the team reviews per day: the k of every card precision@k of a run (FraudConfig.k, the CLI's --k).
K_DEFAULT = 100


def training_form() -> dict | None:
    """The training options; returned when the form is submitted, None otherwise."""
    with st.form(K + "train_form"):
        st.markdown("**Training**")
        c1, c2, c3, c4 = st.columns(4)
        methods = list(IMBALANCE_METHODS)
        imbalance = c1.selectbox("Imbalance handling", methods, index=0,
                                 format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0], key=K + "imbalance")
        epochs = c2.number_input("Epochs (early stopping)", 1, 200, FRAUD_TABULAR.epochs, key=K + "epochs")
        seed = c3.number_input("Seed", 0, 10_000, 0, key=K + "seed")
        n_explain = c4.number_input("Alerts explained (SHAP)", 20, 1000, 200, step=20, key=K + "n_explain")
        k = st.number_input("Alerts the team reviews per day (k)", 1, 5_000, K_DEFAULT, step=10, key=K + "k",
                            help="The k of card precision@k and precision@k per day, everywhere this run is shown "
                                 "(tiles, tables, the saved run, its model card): the share of the day's k "
                                 f"riskiest cards that are fraud. {K_DEFAULT} is the Fraud Detection Handbook's "
                                 "daily capacity and the command line's --k default.")
        net = network_form(FRAUD_TABULAR)
        search_opts = search_options(K)
        go = st.form_submit_button("Train model", type="primary", icon=":material/model_training:")
    if not go:
        return None
    return dict(imbalance=imbalance, epochs=int(epochs), seed=int(seed), explain=int(n_explain),
                k=int(k), search=search_opts, **net)


def network_form(d) -> dict:
    """The network's settings in the Advanced settings expander, with ``d`` (a TabularConfig) as defaults."""
    with advanced_settings():
        c1, c2, c3 = st.columns(3)
        width = c1.select_slider("Width", [32, 64, 128, 256], d.width, key=K + "width", help=NETWORK_HELP["width"])
        depth = c2.number_input("Depth (hidden layers)", 1, 6, d.depth, key=K + "depth", help=NETWORK_HELP["depth"])
        dropout = c3.slider("Dropout", 0.0, 0.7, float(d.dropout), 0.05, key=K + "dropout", help=NETWORK_HELP["dropout"])
        c1, c2, c3 = st.columns(3)
        l2 = c1.select_slider("L2 penalty", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], d.l2, key=K + "l2", help=NETWORK_HELP["l2"]
                              .replace("; 'auto' scales it with the training rows", ""))
        lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], d.learning_rate, key=K + "lr",
                              help=NETWORK_HELP["learning_rate"])
        batch = c3.select_slider("Batch size", [64, 128, 256, 512, 1024, 2048, 4096], d.batch_size, key=K + "batch",
                                 help=NETWORK_HELP["batch_size"].replace("'auto' scales it with the training rows. ", ""))
    return dict(width=int(width), depth=int(depth), dropout=float(dropout), l2=float(l2), learning_rate=float(lr),
                batch_size=int(batch))


TARGET = "core.fraud.jobs:train_page"


def train(df, cols, fcfg, opts, *, data_key: str = "", data_name: str | None = None) -> None:
    """Start the training on the transaction log ``df`` with the page's choices as a job (a worker
    process): the search, the network, its baselines and the SHAP reasons. ``collect`` takes its result."""
    from ui.jobs import start_job

    tabular = {k: opts[k] for k in ("imbalance", "epochs", "seed", "width", "depth", "dropout", "l2", "learning_rate",
                                    "batch_size") if k in opts}
    start_job(K, "fraud", TARGET,
              dict(df=df, cols=cols, features=opts.get("features") or fcfg, train_start=opts["train_start"],
                   test_start=opts["test_start"], gap_days=opts["gap"], drop_known=opts["drop_known"],
                   tabular=tabular, k=int(opts.get("k", K_DEFAULT)), search=opts["search"], explain=opts["explain"],
                   keep_columns=tuple(opts.get("keep", ())), split_notice=opts.get("split_notice"),
                   currency=get_currency()),
              data=df, seed=opts["seed"], imbalance=opts["imbalance"], shap_rows=opts["explain"] + 300,
              meta={"data_key": data_key, "data_name": data_name, "rows": len(df)})


# What belongs to the previous run: its comparison, scored file, alert lines and one row's explanation.
STALE = ("compare", "scored", "review_t", "block_t", "q_risk", "local")


def collect(result: dict, job) -> None:
    """A finished training job's result into the session: the run, its explanations and search, the
    review line at its optimum for the page's fee; what belonged to the previous run is cleared."""
    from ui.fraud.alerts import start_at_optimum
    from ui.origin import record_origin

    run = result["run"]
    before = st.session_state.get(K + "run")
    stale = tuple(K + s for s in STALE)
    for key in [key for key in st.session_state if key.startswith(stale)]:
        del st.session_state[key]
    st.session_state[K + "run"] = run
    st.session_state[K + "run_job"] = job.id  # what a later imbalance comparison belongs to
    st.session_state[K + "explain"] = result["explain"]
    start_at_optimum(run)  # the review line every tab reads, at its optimum from the start
    # The alert reasons and global SHAP explain the recommended model (the blend, when it won on validation).
    st.session_state[K + "search"] = None if result["search"] is None else (run, result["search"])
    record_origin(K, before, key=job.meta.get("data_key", ""), name=job.meta.get("data_name"),
                  rows=job.meta.get("rows"), unit="transactions")


def show_trained(run) -> None:
    """What was trained (periods, epochs), the run's notices and the model search."""
    epochs = describe_epochs(summarize_epochs(run.tabular.history, run.config.tabular.epochs))
    st.success(f"Model trained: {len(run.split.train_idx):,} transactions of the training period, tested on "
               f"{len(run.test):,} of the test period, on {run.tabular.device or 'CPU'}. {epochs} Open the other "
               "tabs for results.", icon=":material/check_circle:")
    for note in run.notices:
        st.caption(note)
    show_recommended(run.tabular, key=K + "recommended")
    searched = st.session_state.get(K + "search")
    if searched is not None and searched[0] is run:
        show_search(searched[1], key=K + "search", ensemble_shown=True)
