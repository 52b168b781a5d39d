"""Credit page, first tab: the training options, the training run with its live progress, and what
was trained."""

from __future__ import annotations

import time

import streamlit as st

from core.charts import plot_class_counts, plot_training_history
from core.credit.pipeline import CREDIT_DEFAULTS, train_credit
from core.credit.profit import compute_profit_curve, find_optimal_threshold
from core.imbalance import IMBALANCE_METHODS
from core.training import describe_epochs, progress_share, summarize_epochs

from ui.common import NETWORK_HELP, advanced_settings
from ui.credit.base import K, SHAP_ROWS
from ui.search import SearchLive, search_options, show_recommended, show_search


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
            # core.tabular.auto_batch_size): fixed values suit a few thousand rows, not 150,000.
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


def train(df, target, positive, roles, sensitive, opts, *, notices=()) -> None:
    """Train on ``df`` with the page's choices; ``notices`` (rows left out for their outcome) are
    shown with what was trained."""
    from core.credit.pipeline import default_credit_config

    if opts["max_rows"] and len(df) > opts["max_rows"]:
        df = df.sample(n=opts["max_rows"], random_state=opts["seed"]).reset_index(drop=True)
        st.info(f"Training on a random sample of {opts['max_rows']:,} rows (seeded).")
    config = default_credit_config(**{k: opts[k] for k in ("imbalance", "width", "depth", "dropout", "l2",
                                                           "learning_rate", "epochs", "batch_size", "seed")},
                                   ensemble=bool(opts["search"].get("ensemble", True)))
    bar = st.progress(0.0, text="Preparing the data")
    status = st.empty()
    curve_slot = st.empty()
    history: dict[str, list[float]] = {}

    def on_epoch(epoch, epochs, logs):
        if epoch == 1:
            history.clear()  # each averaged network draws its own curve
        for k, v in logs.items():
            if "loss" in k:
                history.setdefault(k, []).append(v)
        which = f"Network {logs['network']:.0f} of {logs['networks']:.0f}, e" if "network" in logs else "E"
        bar.progress(progress_share(epoch, epochs, logs),
                     text=f"{which}poch {epoch} of {epochs} — loss {logs.get('loss', 0):.4f}, "
                          f"validation loss {logs.get('val_loss', 0):.4f}")
        curve_slot.plotly_chart(plot_training_history(history), key=f"{K}live{logs.get('network', 1):.0f}.{epoch}")

    t0 = time.perf_counter()
    search = None
    if opts["search"]["enabled"]:
        from core.search.scenarios import search_credit

        live = SearchLive()
        search = search_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive,
                               config=config, test_size=opts["test_size"], budget=opts["search"]["budget"],
                               progress=live, keep_columns=opts.get("keep", ()))
        live.clear()
        config = search.config
    run = train_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                       test_size=opts["test_size"], progress=on_epoch, status=lambda m: status.caption(m),
                       keep_columns=opts.get("keep", ()))
    status.caption("Explaining the test rows with SHAP")
    t1 = time.perf_counter()
    shap = run.explain(run.test_df.iloc[: opts["shap_rows"]])
    # The page's SHAP above explains the recommended model (the blend, when it won on validation).
    st.session_state[K + "search"] = None if search is None else (run, search)
    run.timings["explain"] = time.perf_counter() - t1
    run.timings["total"] = time.perf_counter() - t0
    bar.progress(1.0, text=f"Done in {run.timings['total']:.1f} s")
    curve_slot.empty()
    status.empty()
    best = find_optimal_threshold(compute_profit_curve(run.y_test, run.p_test, loss_default=st.session_state[K + "loss"],
                                                       margin_good=st.session_state[K + "margin"]))
    for key in list(st.session_state):
        if key.startswith(K + "out:"):
            del st.session_state[key]
    run.setup.notices[:0] = list(notices)
    st.session_state[K + "run"] = run
    st.session_state[K + "shap"] = shap
    st.session_state[K + "threshold"] = round(best["threshold"], 3)


def show_trained(run) -> None:
    """What was trained: rows, features, epochs, the columns kept out, the search and the class balance."""
    rb = run.tabular.rebalance_info
    st.success(f"Model trained: {len(run.train_df):,} training and {len(run.test_df):,} test applicants, "
               f"{len(run.setup.features)} features, on {run.tabular.device or 'CPU'}. "
               f"{describe_epochs(summarize_epochs(run.tabular.history, run.tabular.config.epochs))} "
               "Open the other tabs for results.", icon=":material/check_circle:")
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
    c2.plotly_chart(plot_training_history(run.tabular.history), key=K + "history")
