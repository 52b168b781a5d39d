"""Credit page, result tabs: the network against the baselines, the approval line set by money, and
scorecard points and grades."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.ml.blend import recommended_name
from core.present.charts import plot_calibration, plot_confusion, plot_pr, plot_roc, plot_score_distribution
from core.credit import charts as cc
from core.credit.profit import compute_decision_kpis, compute_profit_curve, find_optimal_threshold
from core.credit.scorecard import (
    ScorecardConfig, compute_grade_table, compute_score_points, parse_grade_cuts, threshold_to_points,
)
from core.errors import DataValidationError
from core.present.glossary import MODELS, metric_help, metric_label, model_label
from core.ml.metrics import compute_binary_metrics, compute_calibration, compute_confusion, compute_pr, compute_roc
from core.report.runsummary import decision_metrics
from core.ml.verdict import compare_binary, roc_auc_interval

from ui.common import change_delta, get_currency, get_verdicts, money, money_label, show_verdict
from ui.credit.base import K, cached_fig, fail, pct, plain
from ui.trust import show_trust


def use_best(value: float) -> None:
    # A callback runs before the script, so every tab sees the new threshold in the same rerun.
    st.session_state[K + "threshold"] = value


def show_performance(run, threshold: float) -> None:
    """Test metrics of the network and the baselines, the verdict, tiles at the threshold and curves."""
    y, p = run.y_test, run.p_test
    st.subheader("Network against the baselines (test rows)")
    rows = []
    keys = ("roc_auc", "pr_auc", "ks", "gini", "brier", "precision", "recall", "f1")
    # One decision threshold for the run: every model's precision, recall and F1 at the decline threshold.
    for name, m in decision_metrics(y, run.tabular.proba, threshold).items():
        rows.append({"Model": model_label(name), **{metric_label(k): m[k] for k in keys}})
    ens = run.tabular.ensemble
    if run.tabular.recommended == "ensemble":  # the recommended model: the blend that won on validation
        rows.append({"Model": ens["label"], **{metric_label(k): ens["test_metrics"][k] for k in keys}})
    table = pd.DataFrame(rows)
    st.dataframe(table.style.format(precision=3), hide_index=True, width="stretch", key=K + "models",
                 column_config={metric_label(k): st.column_config.NumberColumn(help=metric_help(k)) for k in keys})
    st.caption(f"Precision, recall and F1 of every model at the decline threshold {threshold:.3f}, the one set in "
               "'Decision & profit' (declined: a predicted default); the other figures do not depend on it.")
    baselines = {k: v for k, v in run.tabular.proba.items() if k != "network"}
    for verdict in get_verdicts(K + "verdicts", run, lambda: [
            compare_binary(run.y_test, run.p_test, baselines, metric=m, names=MODELS, seed=0)
            for m in ("roc_auc", "pr_auc")]):
        show_verdict(verdict, model=recommended_name(run.tabular))  # the recommended model's verdict
    m = compute_binary_metrics(y, p, threshold)
    cols = st.columns(6)
    for col, (label, key) in zip(cols, [("ROC-AUC", "roc_auc"), ("PR-AUC", "pr_auc"), ("KS statistic", "ks"),
                                        ("Gini", "gini"), ("Brier score", "brier"), ("Recall of defaults", "recall")]):
        col.metric(label, f"{m[key]:.3f}", help=metric_help(key))
    st.caption(f"At the current decline threshold {threshold:.3f} (set in 'Decision & profit'); "
               f"timings: training {run.timings.get('train', 0):.1f} s, SHAP {run.timings.get('explain', 0):.1f} s.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_confusion(compute_confusion(y, p, threshold), labels=("repaid", "default")), key=K + "cm")
    c2.plotly_chart(plot_score_distribution(y, p, labels=("repaid", "default"), threshold=threshold), key=K + "dist")
    tab = run.tabular
    proba = {**tab.proba, **({"ensemble": run.p_test} if tab.recommended == "ensemble" else {})}
    # The blend's test metrics sit with its check (the per-model table holds the network and the baselines).
    metrics = {**tab.metrics, **({"ensemble": tab.ensemble["test_metrics"]} if tab.recommended == "ensemble" else {})}
    c1.plotly_chart(cached_fig(run, "roc", lambda: plot_roc(
        {MODELS[k]: compute_roc(y, v) for k, v in proba.items()},
        {MODELS[k]: metrics[k]["roc_auc"] for k in proba})), key=K + "roc")
    c2.plotly_chart(cached_fig(run, "pr", lambda: plot_pr(
        {MODELS[k]: compute_pr(y, v) for k, v in proba.items()},
        {MODELS[k]: metrics[k]["pr_auc"] for k in proba}, prevalence=float(y.mean()))), key=K + "pr")
    c1.plotly_chart(cached_fig(run, "cal", lambda: plot_calibration(
        {MODELS[k]: compute_calibration(y, v) for k, v in proba.items()})), key=K + "cal")


def show_decision(run, threshold: float) -> tuple[float, float, float]:
    """Costs, the decline threshold and what it earns. Returns the threshold (as the slider left it),
    the loss from a defaulter and the margin of a good applicant."""
    y, p = run.y_test, run.p_test
    st.subheader("Approve or decline: set the line by money")
    c1, c2, c3 = st.columns(3)
    c1.number_input(money_label("Loss from approving a defaulter"), 0.0, 1e9, step=500.0, key=K + "loss",
                    format="%.0f")
    c2.number_input(money_label("Margin lost by rejecting a good applicant"), 0.0, 1e9, step=100.0,
                    key=K + "margin", format="%.0f")
    loss, margin = st.session_state[K + "loss"], st.session_state[K + "margin"]
    try:
        curve = compute_profit_curve(y, p, loss_default=loss, margin_good=margin)
        best = find_optimal_threshold(curve)
        c3.button("Use the profit-optimal threshold", key=K + "use_best", on_click=use_best,
                  args=(round(best["threshold"], 3),))
        st.slider("Decline when the probability of default is at least", 0.0, 1.0, step=0.005, key=K + "threshold")
        threshold = float(st.session_state[K + "threshold"])
        kpi = compute_decision_kpis(y, p, threshold=threshold, loss_default=loss, margin_good=margin)
        cols = st.columns(5)
        cols[0].metric("Approval rate", pct(kpi["approval_rate"]))
        cols[1].metric("Bad rate of approved", pct(kpi["bad_rate"]))
        cols[2].metric("Expected profit (test rows)", money(kpi["profit"]),
                       **change_delta(kpi["profit"] - best["profit"], f"{money(kpi['profit'] - best['profit'])} vs optimal"))
        cols[3].metric("Defaults declined", pct(kpi["defaults_caught"]))
        cols[4].metric("Profit-optimal threshold", f"{best['threshold']:.3f}")
        st.plotly_chart(cc.plot_profit_curve(curve, threshold=threshold, optimal=best["threshold"],
                                             currency=f"({get_currency()})"), key=K + "profit")
        st.caption(f"Profit is counted on the {len(y):,} test applicants against declining everyone: each approved "
                   f"good applicant earns {money(margin)}, each approved defaulter loses {money(loss)}.")
    except DataValidationError as exc:
        fail(exc)
    return threshold, loss, margin


def show_credit_trust(run, threshold: float, loss: float, margin: float, container) -> None:
    """The trust flags (``core.report.trust``) of the model and of the decline line as the sliders left it,
    in ``container`` (the page's header, above the tabs). The ROC-AUC interval is kept per model."""
    from core.credit.trust import credit_trust
    from core.present.money import currency_symbol

    interval = get_verdicts(K + "auc_interval", run, lambda: roc_auc_interval(run.y_test, run.p_test))
    try:
        trust = credit_trust(run.y_test, run.p_test, threshold=threshold, loss_default=loss, margin_good=margin,
                             interval=interval, currency=currency_symbol(get_currency()).strip())
    except DataValidationError:
        return  # a cost out of range: the decision tab already says so
    show_trust(trust, container)


def show_scorecard(run, threshold: float) -> ScorecardConfig:
    """Points scale, grade cuts and the grade table; returns the scorecard the other tabs use."""
    y, p = run.y_test, run.p_test
    st.subheader("Scorecard points and grades")
    c1, c2, c3, c4 = st.columns(4)
    base_score = c1.number_input("Base score", 100.0, 2000.0, 600.0, step=10.0, key=K + "base_score")
    base_odds = c2.number_input("Base odds (good : bad)", 1.0, 1000.0, 50.0, step=1.0, key=K + "base_odds")
    pdo = c3.number_input("Points to double the odds", 1.0, 200.0, 20.0, step=1.0, key=K + "pdo", help=metric_help("pdo"))
    cuts_text = c4.text_input("Grade cut points (blank = every PDO below the base)", key=K + "cuts")
    try:
        scorecard = ScorecardConfig(base_score=base_score, base_odds=base_odds, pdo=pdo,
                                    grade_cuts=parse_grade_cuts(cuts_text))
    except DataValidationError as exc:
        fail(exc)
        scorecard = ScorecardConfig()
    points = compute_score_points(p, scorecard)
    cut_points = threshold_to_points(threshold, scorecard)
    st.caption(f"{base_score:g} points = odds {base_odds:g}:1, +{pdo:g} points doubles the odds. The current "
               f"threshold {threshold:.3f} means declining below {cut_points:.0f} points.")
    grades = compute_grade_table(points, p, y, threshold=threshold, config=scorecard)
    st.caption("One rule everywhere: an applicant is declined when the probability of default is at or above the "
               "threshold. The grade the line falls in is split: its applicants above the line are approved, those "
               "below declined (the what-if and the scored file give each one's decision).")
    st.dataframe(plain(grades, {"count": "Applicants", "share": "Share of applicants", "approved": "Approved",
                                "declined": "Declined"},
                       {"share": "{:.1%}", "predicted_default_rate": "{:.1%}", "default_rate": "{:.1%}"}),
                 hide_index=True, width="stretch", key=K + "grades")
    c1, c2 = st.columns(2)
    c1.plotly_chart(cc.plot_grade_table(grades), key=K + "grade_chart")
    c2.plotly_chart(cc.plot_points_distribution(points, y, cut_points=cut_points), key=K + "points")
    return scorecard
