"""Fraud page, result tabs: the network against the baselines at the team's daily capacity, and
the same network trained with each imbalance strategy."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

from core.ml.blend import recommended_name
from core.present.charts import plot_pr, plot_roc
from core.errors import DataValidationError
from core.fraud import charts as fc
from core.fraud.decisions import compute_card_precision_at_k, compute_precision_at_k_per_day
from core.present.glossary import MODELS, metric_help, metric_label, rename_metrics
from core.data.imbalance import IMBALANCE_METHODS
from core.ml.metrics import compute_pr, compute_roc
from core.report.runsummary import decision_metrics
from core.ml.verdict import compare_binary, roc_auc_interval

from ui.common import get_currency, get_verdicts, metric_columns, show_verdict, side_note
from ui.fraud.base import K, fail
from ui.jobs import job_panel, start_job
from ui.trust import show_trust


def show_performance(run) -> None:
    """Tiles at one k, the verdict, the metrics table and the curves."""
    test = run.test
    # The recommended model's risk and metrics: the network's, or its blend with a baseline when that won on validation.
    y, p = test["label"].to_numpy(), test[run.score_column].to_numpy()
    net = run.recommended_section()["metrics"]
    models = [*run.metrics, *(["ensemble"] if run.tabular.recommended == "ensemble" else [])]
    # One k everywhere: the run's, the daily review capacity chosen before training (tiles, table, caption,
    # chart, the saved run and its model card).
    k = int(run.config.k)
    days, cards = test["day"].to_numpy(), test["customer"].to_numpy()
    pk, cpk = {}, {}
    for m in models:
        s = test[f"score_{m}"].to_numpy()
        pk[MODELS[m]] = compute_precision_at_k_per_day(days, y, s, k)[1]
        cpk[MODELS[m]] = compute_card_precision_at_k(days, cards if run.columns.customer else np.arange(len(y)),
                                                     y, s, k)[1]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("PR-AUC (headline)", f"{net['pr_auc']:.3f}", help=metric_help("pr_auc"))
    c2.metric("ROC-AUC", f"{net['roc_auc']:.3f}", help=metric_help("roc_auc"))
    c3.metric(f"Card precision@{k} per day", f"{net[f'card_precision_at_{k}']:.3f}",
              help=metric_help(f"card_precision_at_{k}_per_day") + f" k = {k}: the alerts the team reviews per "
              "day, set before training.")
    c4.metric("Frauds in test period", f"{int(y.sum()):,}", **side_note(f"of {len(y):,} transactions"))
    baselines = {m: test[f"score_{m}"].to_numpy() for m in run.metrics if m != "network"}
    for verdict in get_verdicts(K + "verdicts", run, lambda: [
            compare_binary(y, p, baselines, metric=m, names=MODELS, seed=0) for m in ("pr_auc", "roc_auc")]):
        show_verdict(verdict, model=recommended_name(run.tabular))  # the recommended model's verdict
    # One decision threshold for the run: precision, recall and F1 of every model at the review threshold.
    review = float(st.session_state.get(K + "review_t", 0.5))
    decided = decision_metrics(y, {m: test[f"score_{m}"].to_numpy() for m in models}, review,
                               keep={**run.metrics, "ensemble": net})
    keys = ["pr_auc", "roc_auc", f"card_precision_at_{k}", f"precision_at_{k}_per_day", "precision", "recall", "f1",
            "brier"]
    names = {**MODELS, **({"ensemble": run.tabular.ensemble["label"]} if "ensemble" in models else {})}
    table = pd.DataFrame([{"model": names[m], **{c: v.get(c) for c in keys}} for m, v in decided.items()])
    st.dataframe(table.rename(columns={"model": "Model", **rename_metrics(table.columns[1:])}).round(4),
                 hide_index=True, width="stretch", column_config=metric_columns(rename_metrics(keys)))
    st.caption(f"Precision, recall and F1 of every model at the review threshold {review:.3f}, the alert line set "
               "in 'Alert policy'; the other figures do not depend on it.")
    st.caption(" · ".join(f"{m}: precision@{k} per day {d['precision_at_k'].mean():.3f}, card precision@{k} "
                          f"per day {cpk[m]['card_precision_at_k'].mean():.3f}" for m, d in pk.items()))
    c1, c2 = st.columns(2)
    c1.plotly_chart(fc.plot_precision_per_day(cpk, "card_precision_at_k", f"Card precision@{k} per day"),
                    key=K + "cpk")
    figures = {**run.metrics, **({"ensemble": net} if "ensemble" in models else {})}
    c2.plotly_chart(plot_pr({MODELS[m]: compute_pr(y, test[f"score_{m}"]) for m in models},
                            {MODELS[m]: v["pr_auc"] for m, v in figures.items()}, prevalence=y.mean()),
                    key=K + "pr")
    c1.plotly_chart(plot_roc({MODELS[m]: compute_roc(y, test[f"score_{m}"]) for m in models},
                             {MODELS[m]: v["roc_auc"] for m, v in figures.items()}), key=K + "roc")


def show_fraud_trust(run, container) -> None:
    """The trust flags (``core.report.trust``) of the model and of the review line as the alert policy tab left
    it, in ``container`` (above the tabs). The ROC-AUC interval is kept per model."""
    from core.fraud.trust import fraud_trust
    from core.present.money import currency_symbol

    test = run.test
    y, p = test["label"].to_numpy(), test[run.score_column].to_numpy()
    interval = get_verdicts(K + "auc_interval", run, lambda: roc_auc_interval(y, p))
    show_trust(fraud_trust(y, p, test["amount"].to_numpy(float), review_threshold=float(
        st.session_state.get(K + "review_t", 0.5)), review_fee=float(st.session_state.get(K + "fee", 5.0)),
        pr_auc=run.recommended_section()["metrics"].get("pr_auc"), interval=interval,
        currency=currency_symbol(get_currency()).strip()), container)


def show_imbalance_comparison(run) -> None:
    """Train the same network with each imbalance strategy and recommend one."""
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
        try:
            start_comparison(run, chosen, min_precision=min_prec, epochs=int(cmp_epochs))
        except DataValidationError as exc:
            fail(exc)
    job_panel(K + "cmp.", COMPARE, collect_comparison, noun="comparison")
    if K + "compare" in st.session_state:
        table, advice = st.session_state[K + "compare"]
        st.success(advice, icon=":material/recommend:")
        st.dataframe(comparison_table(table), hide_index=True, width="stretch", key=K + "cmp_table",
                     column_config={RATIO: st.column_config.NumberColumn(
                         help="Mean predicted score over the real fraud rate: 1 means calibrated probabilities, "
                              "above 1 scores run high (read them as a ranking)")})
        rcol = [c for c in table.columns if c.startswith("recall_at")][0]
        st.plotly_chart(fc.plot_imbalance_comparison(table.assign(method=plain_strategies(table["method"])), rcol),
                        key=K + "cmp_chart")


RATIO = "Score ÷ fraud rate"
COMPARE = "fraud-compare"  # the comparison's jobs, kept apart from the page's training


def start_comparison(run, methods, *, min_precision: float, epochs: int) -> None:
    """Submit the comparison as this browser's job (a worker process trains the networks); the strategies
    and the memory of each one's training on the run's log are checked first, here."""
    from core.fraud.compare import check_methods
    from core.store.memory_guard import estimate_job, plan_memory

    methods = check_methods(methods)
    for method in methods:
        for notice in plan_memory(estimate_job("fraud", run.history, imbalance=method, shap_rows=0)).notices:
            st.info(notice, icon=":material/memory:")
    start_job(K + "cmp.", COMPARE, "core.fraud.jobs:compare_page",
              dict(run=run, methods=methods, min_precision=float(min_precision), epochs=int(epochs)),
              label="strategy comparison", meta={"run_job": st.session_state.get(K + "run_job")})


def collect_comparison(table: pd.DataFrame, job) -> None:
    """A finished comparison into the session, with its recommendation, when it belongs to the model shown."""
    from core.fraud.compare import recommend_imbalance

    if job.meta.get("run_job") != st.session_state.get(K + "run_job"):
        st.info("A comparison finished for an earlier model of this page; it is not shown with this one. "
                "Press **Compare strategies** to compare on this model's data.", icon=":material/info:")
        return
    st.session_state[K + "compare"] = (table, recommend_imbalance(table))


def plain_strategies(methods) -> list[str]:
    """Imbalance strategy keys as their names ("class_weight" -> "Class weights")."""
    return [IMBALANCE_METHODS.get(m, m).split(":")[0] for m in methods]


def comparison_table(table: pd.DataFrame):
    """The strategy comparison with plain headers and strategy names, counts as whole numbers."""
    shown = table.assign(method=plain_strategies(table["method"]))
    if "error" in shown and not shown["error"].fillna("").astype(bool).any():
        shown = shown.drop(columns="error")
    names = {"method": "Strategy", "mean_score_vs_fraud_rate": RATIO,
             "train_rows": "Training rows", "train_seconds": "Training time (s)", "error": "Problem"}
    for c in shown.columns:
        m = re.fullmatch(r"recall_at_precision_(\d+%)", str(c))
        if m:
            names[c] = f"Recall at {m.group(1)} precision"
    shown = shown.rename(columns={c: names.get(c, metric_label(c)) for c in shown.columns})
    fmt = {c: "{:.3f}" for c in shown.columns if shown[c].dtype.kind == "f"}
    fmt.update({RATIO: "{:.2f}", "Training rows": "{:,.0f}",
                "Training time (s)": "{:.1f}"})
    return shown.style.format({c: f for c, f in fmt.items() if c in shown.columns}, na_rep="—")
