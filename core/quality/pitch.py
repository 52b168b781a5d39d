"""Presenter screen of a quality run: the reject rule's yearly saving and what it catches.

The saving is the run's own "Net saving" (escapes prevented minus good parts wrongly rejected, on the
held-out images), scaled to a year by taking the sample's images as one year's inspected parts. The chart
is a small gallery of caught defects with the heatmap of where the model looked, when the run saved one
(``defect_gallery.npz``: the demo does), else the good / defect confusion of the held-out images from the
predictions the run saved (``test_predictions.csv``).
"""

from __future__ import annotations

from pathlib import Path

from core.report.pitch import Pitch, about, currency_of, gain_words, headline_value, missing_sentence, money_text, section


def build_pitch(meta: dict, run_dir) -> Pitch:
    decision = section(meta, "decision")
    dataset = section(meta, "dataset")
    unit = currency_of(meta)
    net = headline_value(meta, "impact", "Net saving")
    preds = _predictions(run_dir)
    ok = decision.get("ok_class") or meta.get("ok_class")
    rows = dataset.get("rows")
    escape, reject = decision.get("cost_escape"), decision.get("cost_false_reject")
    missing = [name for name, v in (("the net saving (it needs a class of good parts)", net),
                                    ("the predictions on its test images", preds), ("the number of images", rows),
                                    ("the cost of an escaped defect", escape),
                                    ("the cost of a false reject", reject)) if v is None]
    if missing:
        return missing_sentence("the reject rule", missing)
    n = len(preds)
    per_year = net * rows / n
    sentence = (f"At about {rows / 12:,.0f} parts inspected a month, rejecting the parts the model flags "
                + gain_words(per_year, unit, saves="saves ≈ {amount} a year", costs="costs ≈ {amount} a year")
                + " against letting every part through.")
    assumptions = [
        f"Volume: the sample's {rows:,} images taken as one year's inspected parts (≈ {rows / 12:,.0f} a month)",
        f"An escaped defect costs {money_text(escape, unit)}, a good part wrongly rejected {money_text(reject, unit)} "
        "(the costs set on the page)",
        f"Measured on {n:,} held-out images: {money_text(net, unit)} (≈ {about(net / n, unit)} per part), scaled to "
        "the year's volume",
    ]
    gallery = _gallery(run_dir)
    if gallery:
        return Pitch(sentence=sentence, assumptions=assumptions, gallery=gallery, per_year=per_year,
                     chart_caption=f"The {len(gallery)} held-out defective parts the model rejects most surely; red "
                                   "marks where it looked (Grad-CAM). Its mistakes (good parts wrongly rejected) are "
                                   "counted in the money, not shown here.")
    figure = _confusion(preds, str(ok))
    return Pitch(sentence=sentence, assumptions=assumptions, figure=figure, per_year=per_year,
                 chart_caption="Held-out images the model never saw: defects caught and missed, good parts passed "
                               "and wrongly rejected. No heatmaps were saved with this run.")


def _gallery(run_dir) -> list:
    import numpy as np

    from core.quality.charts import plot_image_heatmap
    from core.quality.export import GALLERY_FILE

    path = None if run_dir is None else Path(run_dir) / GALLERY_FILE
    if path is None or not path.is_file():
        return []
    try:
        with np.load(path, allow_pickle=False) as z:
            images, maps, classes, p = z["images"], z["maps"].astype(float), z["classes"], z["p_defect"]
    except (OSError, ValueError, KeyError):
        return []
    return [plot_image_heatmap(img, m, title=f"{c} · {float(q):.0%} sure it is defective", height=210)
            .update_traces(showscale=False, selector=dict(type="heatmap")).update_layout(font=dict(size=15))
            for img, m, c, q in zip(images, maps, classes, p)]


def _predictions(run_dir):
    import pandas as pd

    from core.quality.export import PREDICTIONS_FILE

    path = None if run_dir is None else Path(run_dir) / PREDICTIONS_FILE
    if path is None or not path.is_file():
        return None
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError):
        return None
    return df if {"actual", "verdict"} <= set(df.columns) and len(df) else None


def _confusion(preds, ok: str):
    from core.present.charts import plot_confusion

    defect = preds["actual"].astype(str) != ok
    rejected = preds["verdict"].astype(str) == "reject"
    c = {"tn": int((~defect & ~rejected).sum()), "fp": int((~defect & rejected).sum()),
         "fn": int((defect & ~rejected).sum()), "tp": int((defect & rejected).sum())}
    fig = plot_confusion(c, labels=("good", "defect"))
    fig.data[0].x = ["passed", "rejected"]
    fig.data[0].y = ["good part", "defective part"]
    fig.data[0].textfont = dict(size=28)
    fig.update_xaxes(tickfont=dict(size=18))
    fig.update_yaxes(tickfont=dict(size=18))
    return fig.update_layout(title_text="What the model did with held-out parts", font=dict(size=16), height=420)
