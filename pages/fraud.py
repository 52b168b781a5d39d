"""Fraud detection: from a raw transaction log to an explained alert queue and an alert policy.
Layout only; the work is in core.fraud."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.charts import plot_pr, plot_roc, plot_shap_bar, plot_shap_beeswarm, plot_shap_waterfall
from core.datasets import read_table
from core.errors import DataValidationError
from core.fraud import charts as fc
from core.fraud.alerts import build_alert_queue, filter_alerts, format_value, get_reasons
from core.fraud.columns import ROLE_NAMES, detect_columns, extra_feature_columns, make_columns, prepare_log
from core.fraud.decisions import (
    compute_card_precision_at_k, compute_cost_curve, compute_decision_bands,
    compute_precision_at_k_per_day, get_optimal_threshold,
)
from core.fraud.features import FeatureConfig, compute_features
from core.fraud.split import split_by_time, suggest_split
from core.imbalance import IMBALANCE_METHODS
from core.glossary import MODELS, metric_help, rename_metrics
from core.metrics import compute_pr, compute_roc
from core.training import describe_epochs, summarize_epochs
from core.verdict import compare_binary

from ui.common import ensure_router, get_currency, get_verdicts, money, money_label, show_verdict
from ui.search import SearchLive, search_options, show_search
from ui.workspace import save_to_workspace

ensure_router()

K = "fraud."
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "fraud_transactions.csv.gz"
MAX_ROWS = 300_000  # a Community Cloud session keeps the most recent transactions above this
NONE = "(none)"

st.title(":material/policy: Fraud detection")
st.caption("Which card transactions should the team review or block today? Features come from each "
           "transaction's past only; the model is trained on an earlier period and tested on a later one.")


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled log, shared by all sessions: never modified in place."""
    return read_table(SAMPLE, max_rows=None).df


def fail(exc: Exception) -> None:
    st.error(str(exc) if isinstance(exc, DataValidationError) else f"Something went wrong: {exc}",
             icon=":material/error:")


def get_data():
    choice = st.radio("Data", ["Bundled sample (~100,000 transactions, 9 weeks)", "Upload my file"],
                      horizontal=True, key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample"
    up = st.file_uploader("Transaction log (CSV or Parquet): timestamp, amount, customer/card id, "
                          "terminal/merchant id, fraud label", type=["csv", "gz", "parquet", "txt"],
                          key=K + "file")
    if up is not None and st.session_state.get(K + "upload_id") != up.file_id:
        st.session_state[K + "upload_id"] = up.file_id
        try:
            table = read_table(up, name=up.name, max_rows=None)
            st.session_state[K + "upload"] = (table.df, up.name, None)
        except DataValidationError as exc:
            st.session_state[K + "upload"] = (None, up.name, exc)
    if K + "upload" not in st.session_state:
        st.info("Upload a transaction log, or switch back to the bundled sample.")
        return None, ""
    df, name, err = st.session_state[K + "upload"]
    if err is not None:
        fail(err)
        return None, ""
    if up is None:
        st.caption(f"Using the file uploaded earlier: {name}")
    return df, f"upload:{name}"


def column_mapping(df: pd.DataFrame, key: str):
    guess = detect_columns(df)
    cols = [str(c) for c in df.columns]
    st.markdown("**Column mapping**")
    picks = {}
    for slot, role in zip(st.columns(5), ("time", "amount", "customer", "terminal", "target")):
        optional = role in ("customer", "terminal")
        options = ([NONE] if optional else ["(choose)"]) + cols
        default = options.index(guess[role]) if guess[role] in options else 0
        picks[role] = slot.selectbox(ROLE_NAMES[role].capitalize(), options, index=default,
                                     key=f"{K}map:{key}:{role}")
    chosen = {r: (None if v in (NONE, "(choose)") else v) for r, v in picks.items()}
    return make_columns(df, **chosen)


def prepared(df, cols, key):
    """The validated, time-sorted log, kept per data and mapping (cheap reruns)."""
    cache_key = (key, tuple(cols.roles().items()))
    if st.session_state.get(K + "prep_key") != cache_key:
        st.session_state[K + "prep"] = prepare_log(df, cols)
        st.session_state[K + "prep_key"] = cache_key
    return st.session_state[K + "prep"]


def train(df, cols, fcfg, opts):
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, explain_run, run_fraud

    tab = replace(FRAUD_TABULAR, imbalance=opts["imbalance"], epochs=opts["epochs"],
                  width=opts["width"], seed=opts["seed"])
    config = FraudConfig(train_start=opts["train_start"], test_start=opts["test_start"],
                         gap_days=opts["gap"], features=fcfg, drop_known_cards=opts["drop_known"],
                         tabular=tab)
    search = None
    if opts["search"]["enabled"]:
        from core.search.scenarios import search_fraud

        live = SearchLive()
        search, config = search_fraud(df, cols, budget=opts["search"]["budget"], config=config,
                                      ensemble=opts["search"]["ensemble"], progress=live)
        live.clear()
    bar = st.progress(0.0, text="Preparing")
    status = st.empty()

    def on_epoch(epoch, epochs, logs):
        bar.progress(min(epoch / epochs, 1.0), text=f"Epoch {epoch} of {epochs} — loss "
                     f"{logs.get('loss', 0):.4f}, validation loss {logs.get('val_loss', 0):.4f}")

    run = run_fraud(df, cols, config=config, progress=on_epoch, status=lambda m: status.caption(m))
    status.caption("Explaining the riskiest transactions with SHAP")
    explanations = explain_run(run, top_alerts=opts["explain"], global_rows=300, seed=opts["seed"])
    bar.progress(1.0, text=f"Done in {run.timings['total'] + explanations.seconds:.1f} s")
    status.empty()
    stale = (K + "compare", K + "scored", K + "review_t", K + "block_t", K + "q_risk", K + "local")
    for k in [k for k in st.session_state if k.startswith(stale)]:
        del st.session_state[k]
    st.session_state[K + "run"] = run
    st.session_state[K + "explain"] = explanations
    if search is not None:
        from core.search.tabular import ensemble_report

        top = run.feature_frame_test.iloc[explanations.alert_positions]
        st.session_state[K + "search"] = (run, search, *ensemble_report(run.tabular, search.ensemble, top,
                                                                        seed=opts["seed"]))


# ---------------------------------------------------------------- data, mapping, features, split
df, data_key = get_data()
run = st.session_state.get(K + "run")
if df is not None:
    try:
        cols = column_mapping(df, data_key)
        log = prepared(df, cols, data_key)
    except DataValidationError as exc:
        fail(exc)
        log = None
    if log is not None and len(log) > MAX_ROWS:
        # Keep the most recent rows, never a random sample: windows need every transaction.
        st.warning(f"The file has {len(log):,} transactions; the app keeps the {MAX_ROWS:,} most recent "
                   "(the command line has no limit).")
        log = log.iloc[-MAX_ROWS:].reset_index(drop=True)
    if log is not None:
        t = log[cols.time]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Transactions", f"{len(log):,}")
        c2.metric("Fraud rate", f"{log[cols.target].mean():.2%}")
        c3.metric("Days", f"{(t.max().normalize() - t.min().normalize()).days + 1}")
        c4.metric("Cards", f"{log[cols.customer].nunique():,}" if cols.customer else "–")
        st.caption(f"From {t.min():%Y-%m-%d %H:%M} to {t.max():%Y-%m-%d %H:%M}.")
        fcfg_delay = st.session_state.get(K + "delay", 7)
        fcfg = FeatureConfig(delay_days=int(fcfg_delay))
        with st.expander("Engineered features (computed from each transaction's past only)"):
            extra = extra_feature_columns(log.drop(columns="_row"), cols)
            st.dataframe(compute_features(log.head(50), cols, config=fcfg, extra=extra).describe(),
                         hide_index=True, width="stretch")
        st.markdown("**Time split** — earlier rows are history for the features; the gap mirrors "
                    "the delay before fraud labels are known.")
        auto_train, auto_test = suggest_split(t, gap_days=7)
        c1, c2, c3, c4 = st.columns(4)
        train_start = c1.date_input("Train from", auto_train.date(), key=f"{K}train_start:{data_key}")
        test_start = c2.date_input("Test from", auto_test.date(), key=f"{K}test_start:{data_key}")
        gap = c3.number_input("Gap (days)", 0, 60, 7, key=K + "gap")
        c4.number_input("Label delay for terminal risk (days)", 0, 60, 7, key=K + "delay")
        drop_known = st.checkbox("Set aside test transactions of cards already known to be compromised "
                                 "(handbook convention)", True, key=K + "drop_known")
        try:
            split = split_by_time(log, cols, train_start=train_start, test_start=test_start,
                                  gap_days=int(gap), drop_known_cards=drop_known)
            s = split.summary()
            st.caption(f"History: {s['history']} · Train: {s['train']} · Gap: {s['gap_days']} days · "
                       f"Test: {s['test']}")
        except DataValidationError as exc:
            fail(exc)
            split = None
        if split is not None:
            with st.form(K + "train_form"):
                st.markdown("**Training**")
                c1, c2, c3, c4, c5 = st.columns(5)
                methods = list(IMBALANCE_METHODS)
                imbalance = c1.selectbox("Imbalance handling", methods, index=0,
                                         format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0], key=K + "imbalance")
                epochs = c2.number_input("Epochs (early stopping)", 1, 200, 30, key=K + "epochs")
                width = c3.select_slider("Width", [32, 64, 128, 256], 128, key=K + "width")
                seed = c4.number_input("Seed", 0, 10_000, 0, key=K + "seed")
                n_explain = c5.number_input("Alerts explained (SHAP)", 20, 1000, 200, step=20, key=K + "n_explain")
                search_opts = search_options(K)
                go = st.form_submit_button("Train model", type="primary", icon=":material/model_training:")
            # Drawn on every run, so that the training progress (only there on the run that trains)
            # does not move the tabs below: moved, Streamlit redraws them and the chosen tab is lost.
            progress_slot = st.container()
            if go:
                with progress_slot:
                    try:
                        train(log.drop(columns="_row"), cols, fcfg,
                              dict(imbalance=imbalance, epochs=int(epochs), width=int(width), seed=int(seed),
                                   explain=int(n_explain), gap=int(gap), train_start=train_start,
                                   test_start=test_start, drop_known=drop_known, search=search_opts))
                        run = st.session_state[K + "run"]
                    except DataValidationError as exc:
                        fail(exc)

if run is None:
    st.stop()

# ---------------------------------------------------------------- results
ex = st.session_state[K + "explain"]
test = run.test
y, amounts = test["label"].to_numpy(), test["amount"].to_numpy()
p = test["score_network"].to_numpy()
net = run.metrics["network"]
st.divider()
st.caption(f":material/model_training: {describe_epochs(summarize_epochs(run.tabular.history, run.config.tabular.epochs))}")
for note in run.notices:
    st.caption(note)
searched = st.session_state.get(K + "search")
if searched is not None and searched[0] is run:
    show_search(searched[1], key=K + "search", ensemble_test=searched[2], ensemble_shap=searched[3])
tabs = st.tabs(["Performance", "Imbalance comparison", "Alert policy", "Alert queue", "Explanations",
                "Score a new file"])

with tabs[0]:
    per_day = len(test) / max(test["day"].nunique(), 1)
    # One k for the tiles, the caption and the chart: the team's daily review capacity.
    k = st.slider("k: alerts the team can review per day", 1, 500, int(min(100, max(5, per_day // 50))),
                  key=K + "k", help="The tiles, the caption and the chart below use this k. The table keeps "
                                    f"the run's k = {run.config.k}, named in its column headers.")
    days, cards = test["day"].to_numpy(), test["customer"].to_numpy()
    pk, cpk = {}, {}
    for m in run.metrics:
        s = test[f"score_{m}"].to_numpy()
        pk[MODELS[m]] = compute_precision_at_k_per_day(days, y, s, k)[1]
        cpk[MODELS[m]] = compute_card_precision_at_k(days, cards if run.columns.customer else np.arange(len(y)),
                                                     y, s, k)[1]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("PR-AUC (headline)", f"{net['pr_auc']:.3f}", help=metric_help("pr_auc"))
    c2.metric("ROC-AUC", f"{net['roc_auc']:.3f}", help=metric_help("roc_auc"))
    c3.metric(f"Card precision@{k} per day", f"{cpk[MODELS['network']]['card_precision_at_k'].mean():.3f}",
              help=metric_help(f"card_precision_at_{k}_per_day"))
    c4.metric("Frauds in test period", f"{int(y.sum()):,}", f"of {len(y):,} transactions", delta_color="off")
    baselines = {m: test[f"score_{m}"].to_numpy() for m in run.metrics if m != "network"}
    for verdict in get_verdicts(K + "verdicts", run, lambda: [
            compare_binary(y, p, baselines, metric=m, names=MODELS, seed=0) for m in ("pr_auc", "roc_auc")]):
        show_verdict(verdict)
    table = run.metrics_table()
    st.dataframe(table.rename(columns={"model": "Model", **rename_metrics(table.columns[1:])}).round(4),
                 hide_index=True, width="stretch")
    st.caption(" · ".join(f"{m}: precision@{k} per day {d['precision_at_k'].mean():.3f}, card precision@{k} "
                          f"per day {cpk[m]['card_precision_at_k'].mean():.3f}" for m, d in pk.items()))
    c1, c2 = st.columns(2)
    c1.plotly_chart(fc.plot_precision_per_day(cpk, "card_precision_at_k", f"Card precision@{k} per day"),
                    key=K + "cpk")
    c2.plotly_chart(plot_pr({MODELS[m]: compute_pr(y, test[f"score_{m}"]) for m in run.metrics},
                            {MODELS[m]: v["pr_auc"] for m, v in run.metrics.items()}, prevalence=y.mean()),
                    key=K + "pr")
    c1.plotly_chart(plot_roc({MODELS[m]: compute_roc(y, test[f"score_{m}"]) for m in run.metrics},
                             {MODELS[m]: v["roc_auc"] for m, v in run.metrics.items()}), key=K + "roc")

with tabs[1]:
    st.markdown("Train the same network with each strategy on the same features and split.")
    with st.form(K + "compare_form"):
        chosen = st.multiselect("Strategies", list(IMBALANCE_METHODS), ["none", "class_weight", "undersample", "smote"],
                                format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0], key=K + "cmp_methods")
        c1, c2 = st.columns(2)
        min_prec = c1.slider("Recall measured at precision", 0.1, 0.95, 0.8, 0.05, key=K + "cmp_prec")
        cmp_epochs = c2.number_input("Epochs per strategy", 1, 200, min(run.config.tabular.epochs, 20),
                                     key=K + "cmp_epochs")
        go_cmp = st.form_submit_button("Compare strategies", icon=":material/compare_arrows:")
    if go_cmp:
        from core.fraud.compare import compare_imbalance, recommend_imbalance

        bar = st.progress(0.0)
        try:
            table = compare_imbalance(run, chosen, min_precision=min_prec, epochs=int(cmp_epochs),
                                      progress=lambda i, n, m: bar.progress(i / n, text=f"Training with {m}"))
            st.session_state[K + "compare"] = (table, recommend_imbalance(table))
        except DataValidationError as exc:
            fail(exc)
        bar.empty()
    if K + "compare" in st.session_state:
        table, advice = st.session_state[K + "compare"]
        st.success(advice, icon=":material/recommend:")
        st.dataframe(table.round(4), hide_index=True, width="stretch")
        rcol = [c for c in table.columns if c.startswith("recall_at")][0]
        st.plotly_chart(fc.plot_imbalance_comparison(table, rcol), key=K + "cmp_chart")

with tabs[2]:
    fee = st.number_input(money_label("Review fee per alert"), 0.0, 1000.0, 5.0, 1.0, key=K + "fee", format="%.2f",
                          help="Each missed fraud costs its amount; each alert costs this fee.")
    curve = compute_cost_curve(y, p, amounts, review_fee=fee)
    best = get_optimal_threshold(curve)
    st.session_state.setdefault(K + "review_t", round(min(best["threshold"], 1.0), 3))
    c1, c2 = st.columns(2)
    review_t = c1.slider("Review at or above risk", 0.0, 1.0, key=K + "review_t", step=0.005)
    block_t = c2.slider("Block at or above risk", 0.0, 1.0, max(0.9, review_t), step=0.005, key=K + "block_t")
    st.button(f"Use the optimal review threshold ({best['threshold']:.3f})",
              on_click=lambda: st.session_state.update({K + "review_t": round(min(best["threshold"], 1.0), 3)}))
    alerts_now = int((p >= review_t).sum())
    c1, c2, c3 = st.columns(3)
    c1.metric("Optimal: alerts", f"{best['alerts']:,.0f}", f"threshold {best['threshold']:.3f}", delta_color="off")
    c2.metric("Optimal: savings vs no model", money(best["savings"]))
    now = curve.iloc[(curve["alerts"] - alerts_now).abs().argmin()]
    c3.metric("Your review threshold: savings", money(now["savings"]), f"{alerts_now:,} alerts", delta_color="off")
    st.plotly_chart(fc.plot_savings_curve(curve, current_alerts=alerts_now, best_alerts=best["alerts"],
                                          currency=f"({get_currency()})"),
                    key=K + "savings")
    try:
        bands = compute_decision_bands(y, p, amounts, review_threshold=review_t, block_threshold=block_t)
        st.dataframe(bands.round(3), hide_index=True, width="stretch")
        st.plotly_chart(fc.plot_decision_bands(bands), key=K + "bands")
    except DataValidationError as exc:
        fail(exc)

with tabs[3]:
    threshold = st.session_state.get(K + "review_t", 0.5)
    scored = test[["time", "customer", "terminal", "amount", "label"]].assign(risk=p)
    queue = build_alert_queue(scored, threshold=threshold, reasons=ex.reasons)
    c1, c2, c3 = st.columns(3)
    min_risk = c1.slider("Minimum risk", 0.0, 1.0, float(threshold), 0.01, key=K + "q_risk")
    min_amt = c2.number_input("Minimum amount", 0.0, value=0.0, key=K + "q_amt")
    text = c3.text_input("Search customer, terminal or reason", key=K + "q_text")
    shown = filter_alerts(queue, min_risk=min_risk, min_amount=min_amt, text=text)
    st.caption(f"{len(shown):,} of {len(queue):,} alerts at risk ≥ {threshold:.3f} (the review threshold); "
               f"'label' is the true outcome, known here because this is the test period.")
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"risk": st.column_config.ProgressColumn("risk", min_value=0, max_value=1, format="%.3f")})
    st.download_button("Download alert queue (CSV)", shown.to_csv(index=False).encode(), "fraud_alerts.csv",
                       "text/csv", icon=":material/download:", on_click="ignore")

with tabs[4]:
    g = ex.global_sample
    imp = g.importance()
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_shap_bar(imp), key=K + "shap_bar")
    c2.plotly_chart(plot_shap_beeswarm(g.values, g.data, imp["feature"].tolist()), key=K + "beeswarm")
    order = np.argsort(-p, kind="stable")
    pick = st.number_input("Explain the transaction ranked (1 = riskiest in the test period)", 1, len(p), 1,
                           key=K + "local_rank")
    i = int(order[int(pick) - 1])
    local_key = (K + "local", i)
    if st.session_state.get(K + "local_key") != local_key:
        st.session_state[K + "local_res"] = run.tabular.explain(run.feature_frame_test.iloc[[i]])
        st.session_state[K + "local_key"] = local_key
    res = st.session_state[K + "local_res"]
    row = test.iloc[i]
    st.markdown(f"**{row['time']}** · customer {row['customer']} · terminal {row['terminal']} · amount "
                f"{money(row['amount'], cents=True)} · risk {p[i]:.3f} · truly fraud: {'yes' if row['label'] else 'no'}")
    st.markdown("Top reasons: " + get_reasons(res, ex.typical, k=3)[0])
    contrib = res.contributions(0)
    contrib["value"] = [format_value(f, v) for f, v in zip(contrib["feature"], contrib["value"])]
    st.plotly_chart(plot_shap_waterfall(res.base_value, contrib, float(res.predictions[0])),
                    key=K + "waterfall")
    with st.expander("What each feature means"):
        st.dataframe(run.features.describe(), hide_index=True, width="stretch")

with tabs[5]:
    from core.fraud.pipeline import score_new_file

    st.markdown("Score transactions that arrived after training. Their features use the training log as "
                "history, so they should follow it in time and use the same column names.")
    new = st.file_uploader("New transactions (CSV or Parquet)", type=["csv", "gz", "parquet", "txt"], key=K + "new")
    if new is not None and st.session_state.get(K + "scored_id") != new.file_id:
        try:
            new_df = read_table(new, name=new.name, max_rows=None).df
            scored_new, X_new = score_new_file(run, new_df)
            top = min(50, len(scored_new))
            res_new = run.tabular.explain(X_new.iloc[:top])
            reasons = get_reasons(res_new, ex.typical, k=3)
            scored_new.insert(1, "top_reasons", reasons + [""] * (len(scored_new) - top))
            st.session_state[K + "scored"] = scored_new
        except DataValidationError as exc:
            st.session_state[K + "scored"] = exc
        st.session_state[K + "scored_id"] = new.file_id
    out = st.session_state.get(K + "scored")
    if isinstance(out, Exception):
        fail(out)
    elif out is not None:
        thr = st.session_state.get(K + "review_t", 0.5)
        st.caption(f"{int((out['risk'] >= thr).sum()):,} of {len(out):,} transactions at or above the review "
                   f"threshold {thr:.3f}; reasons for the 50 riskiest.")
        st.dataframe(out, hide_index=True, width="stretch")
        st.download_button("Download scored file (CSV)", out.to_csv(index=False).encode(), "fraud_scored.csv",
                           "text/csv", icon=":material/download:", on_click="ignore")


def save_fraud(name, root):
    from core.fraud.persist import save_fraud_run
    from core.workspace.summary import build_fraud_summary

    review = float(st.session_state.get(K + "review_t", 0.5))
    summary = build_fraud_summary(run, name=name, review_threshold=review,
                                  block_threshold=float(st.session_state.get(K + "block_t", max(0.9, review))),
                                  review_fee=float(st.session_state.get(K + "fee", 5.0)),
                                  dataset_name=fraud_dataset, explanations=ex)
    if searched is not None and searched[0] is run:
        from core.fraud.pipeline import compute_fraud_metrics
        from core.search.scenarios import attach_search, search_section

        attach_search(summary, search_section(searched[1], run.tabular, fraud_metrics=lambda p, m: compute_fraud_metrics(
            run.test.assign(score_ensemble=p), "score_ensemble", m, k=run.config.k,
            has_cards=bool(run.columns.customer))))
    return save_fraud_run(run, root, extra_metadata=summary)


fraud_dataset = SAMPLE.name if data_key == "sample" else (data_key.removeprefix("upload:") or None)
st.divider()
save_to_workspace("fraud", run, save_fraud, dataset_name=fraud_dataset)
