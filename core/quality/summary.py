"""The workspace summary of a quality-inspection run: defect figures at the chosen reject threshold and
costs (or per-class figures for defect typing), the image fingerprint and what scoring needs."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from core.report.runsummary import (CURRENCY, THRESHOLD_KEYS, envelope, explain_section, get_fingerprint, money_figure,
                             money_text, quality_figure, roc_pr_curves)


# What each image's class was read from (``ImageDataset.layout``): the card's "Target".
TARGET_WORDS = {"folders": "the image's class, from its folder name", "csv": "the image's class, from the labels CSV",
                "filenames": "the image's class, from its file name"}


def image_fingerprint(data) -> dict:
    """Fingerprint of an ``ImageDataset``: how many images, the columns of its image list (file, label)
    and the SHA-256 of the zip as uploaded (of the folder's files for a folder), when it was loaded from one."""
    frame = pd.DataFrame({"file": list(data.names), "label": [data.class_names[i] for i in data.labels]})
    frame.attrs["source_sha256"] = getattr(data, "source_sha256", None)
    return get_fingerprint(frame)


def build_quality_summary(run, *, name: str, threshold: float, cost_escape: float, cost_false_reject: float,
                          data=None, dataset_name: str | None = None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``QualityRun`` at the chosen reject threshold and costs.

    Money (when an OK class exists): escape cost prevented (defects caught × cost of an escape)
    against the cost of good parts rejected, on the test images; net = saving vs no inspection model.
    """
    from core.quality.evaluate import (compute_cost_analysis, compute_defect_metrics, get_defect_labels,
                                       get_defect_scores)
    from core.quality.recommend import recommended_section
    from core.quality.trust import quality_trust

    m = run.metrics
    quality = [quality_figure("Accuracy", m["accuracy"], ".1%"), quality_figure("Macro F1", m["macro_f1"], ".3f")]
    impact, curves = [], {}
    n = len(run.test.labels)
    assumptions = [f"Counted on {n:,} held-out test images"]
    if run.ok_class is not None:
        y_def = get_defect_labels(run.test.labels, run.class_names, run.ok_class)
        p_def = get_defect_scores(run.test_proba, run.class_names, run.ok_class)
        cost = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_false_reject,
                                     threshold=threshold)
        dm = compute_defect_metrics(y_def, p_def, threshold)
        prevented, fr_cost = dm["caught"] * cost_escape, dm["false_rejects"] * cost_false_reject
        # The reject decision's figures first: they are what the overview shows.
        # One figure per measure, at the one reject threshold: the defect ROC-AUC is the run's ROC-AUC (the
        # classes' one-vs-rest mean is left out), defect recall and escape rate are the decision's.
        decided = {**{k: v for k, v in m.items() if k not in THRESHOLD_KEYS and k != "roc_auc"}, **dm}
        quality = [quality_figure("Defect ROC-AUC", dm["defect_roc_auc"]),
                   quality_figure("Defect recall", dm["defect_recall"], ".1%"),
                   quality_figure("Escape rate", dm["escape_rate"], ".1%"), *quality]
        impact = [money_figure("Escape cost prevented", prevented, currency),
                  money_figure("False-reject cost", fr_cost, currency),
                  money_figure("Net saving", prevented - fr_cost, currency)]
        assumptions = [f"Cost of an escaped defect {money_text(cost_escape, currency)}",
                       f"Cost of a false reject (good part scrapped) {money_text(cost_false_reject, currency)}",
                       f"Reject when P(defect) ≥ {threshold:.2f} ({money_text(cost.cost_at_threshold, currency)} "
                       "per part); net saving = escapes prevented minus false-reject cost, against passing "
                       "every part",
                       f"{assumptions[0]}: {int(y_def.sum())} defective, {int(n - y_def.sum())} OK"]
        curves = roc_pr_curves(y_def, p_def, gains=("Share of parts rejected", "Share of defects caught"))
    else:
        decided = {k: v for k, v in m.items() if k not in THRESHOLD_KEYS}
        quality.insert(0, quality_figure("ROC-AUC (one-vs-rest)", m["roc_auc"]))
        quality.append(quality_figure("Lowest class recall", min(v["recall"] for v in m["per_class"].values()), ".1%"))
        assumptions.append("Every class is a defect type, none means 'good part' (defect typing): no reject "
                           "decision, so no escape rate, cost threshold or money figures")
    dataset = image_fingerprint(data) if data is not None else image_fingerprint(run.test)
    dataset["name"] = dataset_name
    masks = getattr(data if data is not None else run.test, "masks", ())
    if masks:
        # Masks left out of training, with their photos: what a heatmap could later be checked against.
        dataset["masks"] = {"left_out": len(masks), "by_photo": {photo: mask for mask, photo in masks if photo},
                            "without_photo": [mask for mask, photo in masks if not photo]}
    return envelope(
        "quality", name=name, dataset=dataset,
        params={**asdict(run.config), "backbone_used": run.backbone_used, "image_size": run.image_size,
                "channels": run.channels},
        quality=quality, impact=impact, assumptions=assumptions,
        input_={"columns": [], "numeric": [], "categorical": [], "kind": "images", "image_size": run.image_size,
                "target": TARGET_WORDS.get(getattr(data if data is not None else run.test, "layout", ""),
                                           "the image's class"),
                "channels": run.channels, "class_names": list(run.class_names), "ok_class": run.ok_class},
        # Images have no column profile; drift for images would need embeddings (not recorded).
        profile={"rows": int(sum(run.counts_before.values())), "columns": {}},
        curves=curves,
        decision={"threshold": float(threshold), "cost_escape": float(cost_escape),
                  "cost_false_reject": float(cost_false_reject), "ok_class": run.ok_class,
                  "rule": "reject when P(defect) = 1 - P(ok) >= threshold"} if run.ok_class is not None else
        # Defect typing: every class is a defect type, so there is no reject threshold or cost.
        {"task": "defect_typing", "ok_class": None, "rule": "the most probable defect type per image",
         "per_class_recall": {c: v["recall"] for c, v in m["per_class"].items()}},
        explain=explain_section(None, "Image explanations are per image (Grad-CAM and SHAP heatmaps); no global "
                                      "importance is recorded."),
        trust=quality_trust(run, threshold=threshold, cost_escape=cost_escape, cost_false_reject=cost_false_reject,
                            currency=currency).to_list(),
        # The recommended model's (the one saved): the CNN, or its blend with a baseline (core.quality.recommend).
        metrics={getattr(run, "recommended", "network"): {k: v for k, v in decided.items()
                                                          if not isinstance(v, (dict, list, str))}},
        recommended=recommended_section(run),
    )
