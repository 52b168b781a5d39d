"""Quality page, result tabs: performance on the held-out images, and the reject decision by
cost (or the errors by class when every class is a defect type)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import DataValidationError
from core.quality.baselines import compare_quality
from core.quality.charts import plot_inspection_cost, plot_multiclass_confusion, plot_per_class_metrics
from core.quality.evaluate import (DEFECT_TYPING_NOTE, compute_cost_analysis, compute_defect_metrics,
                                   get_error_gallery, get_misclassified)
from core.quality.recommend import model_name
from core.quality.service import defect_scores

from ui.common import get_currency, get_verdicts, money, money_label, show_verdict
from ui.quality.base import K, fail, pct, thumb
from ui.trust import show_trust


# Plain headers for the per-class tables (the data keeps its column names).
PER_CLASS_HEADERS = {"class": "Class", "precision": "Precision", "recall": "Recall", "f1": "F1 score",
                     "support": "Test images", "roc_auc": "ROC-AUC"}


def show_performance(run) -> None:
    """Accuracy, recall, F1 and ROC-AUC tiles, the confusion matrix and per-class figures."""
    m = run.metrics
    has_ok = run.ok_class is not None
    if not has_ok:
        st.info(DEFECT_TYPING_NOTE, icon=":material/category:")
    c = st.columns(5)
    c[0].metric("Accuracy", pct(m["accuracy"]))
    c[1].metric("Macro recall", pct(m["macro_recall"]))
    c[2].metric("Macro F1", pct(m["macro_f1"]))
    if has_ok:
        # One ROC-AUC and one defect recall, as the saved run and its model card report them: defective or
        # not, at the reject threshold set in the decision tab.
        y_def, p_def = defect_scores(run)
        threshold = float(st.session_state.get(K + "threshold", 0.5))  # set to its optimum when trained
        dm = compute_defect_metrics(y_def, p_def, threshold)
        c[3].metric("Defect ROC-AUC", f"{dm['defect_roc_auc']:.3f}",
                    help="How well P(defect) ranks defective parts above good ones, whatever the threshold.")
        c[4].metric("Defect recall", pct(dm["defect_recall"]),
                    help=f"At the reject threshold {threshold:.2f} (set in 'Decision & costs'); escape rate "
                         f"{pct(dm['escape_rate'])}: defective parts the model would pass.")
    else:
        c[3].metric("ROC-AUC (one-vs-rest)", f"{m['roc_auc']:.3f}",
                    help="Each defect type against the others, averaged over the types.")
        weakest = min(m["per_class"], key=lambda name: m["per_class"][name]["recall"])
        c[4].metric("Lowest class recall", pct(m["per_class"][weakest]["recall"]), help=f"class {weakest}")
    show_baseline_verdicts(run)
    left, right = st.columns(2)
    left.plotly_chart(plot_multiclass_confusion(m["confusion"], run.class_names), key=K + "cm")
    right.plotly_chart(plot_per_class_metrics(m["per_class"]), key=K + "per_class")
    table = pd.DataFrame(m["per_class"]).T.reset_index(names="class")
    st.dataframe(table.round(3), hide_index=True, width="stretch", column_config=PER_CLASS_HEADERS)


def show_quality_trust(run, container) -> None:
    """The trust flags (``core.report.trust``) of the test images and, with a good class, of the reject line as
    the decision tab left it, in ``container`` (above the tabs)."""
    from core.present.money import currency_symbol
    from core.quality.trust import quality_trust

    try:
        trust = quality_trust(run, threshold=float(st.session_state.get(K + "threshold", run.config.threshold)),
                              cost_escape=float(st.session_state.get(K + "cost_escape", 50.0)),
                              cost_false_reject=float(st.session_state.get(K + "cost_fr", 2.0)),
                              currency=currency_symbol(get_currency()).strip())
    except DataValidationError:
        return  # a setting out of range: the decision tab already says so
    show_trust(trust, container)


def show_baseline_verdicts(run) -> None:
    """The CNN against the best baseline on the same test images, with the interval of the difference."""
    held = st.session_state.get(K + "baselines")
    if held is None or held[0] is not run:
        st.caption("No baselines for this model: train again to compare it with them.")
        return
    try:
        verdicts = get_verdicts(K + "verdicts", run, lambda: compare_quality(run, held[1]))
    except DataValidationError as exc:
        fail(exc)
        return
    for verdict in verdicts:
        show_verdict(verdict, model=model_name(run))  # the recommended model: the CNN or its blend


def show_errors_by_class(run) -> None:
    """Defect typing (no 'good part' class): per-class precision and recall and the misclassified images."""
    m = run.metrics
    st.markdown("**Per-class precision and recall**: of the images predicted as a class, the share that "
                "are; of the images of a class, the share found.")
    st.dataframe(pd.DataFrame(m["per_class"]).T.reset_index(names="class")[
        ["class", "precision", "recall", "f1", "support"]].round(3), hide_index=True, key=K + "typing_table",
        column_config=PER_CLASS_HEADERS)
    st.plotly_chart(plot_multiclass_confusion(m["confusion"], run.class_names), key=K + "typing_cm")
    wrong = get_misclassified(run.test.labels, run.test_proba, run.class_names, limit=24)
    n_wrong = int(np.sum(run.test_proba.argmax(axis=1) != run.test.labels))
    st.markdown(f"**Misclassified test images: {n_wrong} of {len(run.test.labels)}**"
                + (" — most confidently wrong first" if n_wrong else ""))
    if len(wrong):
        st.image([thumb(run.test.images[int(i)]) for i in wrong["position"]], width=88,
                 caption=[f"{a} → {p} ({c:.2f})" for a, p, c in
                          zip(wrong["actual"], wrong["predicted"], wrong["confidence"])])
    else:
        st.caption("Every test image got its class.")


def show_decision(run) -> None:
    """The reject threshold set by the cost of escapes and false rejects, and the images it gets wrong."""
    y_def, p_def = defect_scores(run)
    c1, c2, c3 = st.columns(3)
    cost_escape = c1.number_input(money_label("Cost of an escaped defect"), 0.0, 1e7, 50.0, step=5.0,
                                  key=K + "cost_escape", format="%.2f")
    cost_fr = c2.number_input(money_label("Cost of a false reject (good part scrapped)"), 0.0, 1e7, 2.0,
                              step=0.5, key=K + "cost_fr", format="%.2f")
    threshold = c3.slider("Reject when P(defect) ≥", 0.0, 1.0, key=K + "threshold", step=0.01)
    try:
        cost = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_fr,
                                     threshold=threshold)
    except DataValidationError as exc:
        fail(exc)
        st.stop()
    dm = compute_defect_metrics(y_def, p_def, threshold)
    c = st.columns(5)
    c[0].metric("Defect recall", pct(dm["defect_recall"]))
    c[1].metric("Escape rate", pct(dm["escape_rate"]), help=f"{dm['escapes']} defective test parts pass")
    c[2].metric("Reject rate", pct(dm["reject_rate"]), help=f"{dm['false_rejects']} good parts rejected")
    c[3].metric("Cost per part", money(cost.cost_at_threshold, cents=True))
    c[4].metric("Optimal threshold", f"{cost.best_threshold:.2f}",
                help=f"cost per part {money(cost.best_cost, cents=True)}")

    def use_best():
        st.session_state[K + "threshold"] = round(cost.best_threshold, 2)

    st.button("Use the optimal threshold", on_click=use_best, key=K + "use_best")
    st.plotly_chart(plot_inspection_cost(cost.curve, threshold=threshold, best=cost.best_threshold,
                                         currency=get_currency()),
                    key=K + "cost_curve")
    gallery = get_error_gallery(y_def, p_def, threshold, limit=12)
    for title, key in (("False rejects (good parts the model rejects)", "false_rejects"),
                       ("Escapes (defects the model passes)", "escapes")):
        st.markdown(f"**{title}: {int(dm[key])}**" + (" — most confident first" if dm[key] else ""))
        idx = gallery[key]
        if len(idx):
            st.image([thumb(run.test.images[i]) for i in idx], width=88,
                     caption=[f"{run.class_names[run.test.labels[i]]} · P(defect) {p_def[i]:.2f}" for i in idx])
        else:
            st.caption("None at this threshold.")
