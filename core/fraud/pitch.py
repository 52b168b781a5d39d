"""Presenter screen of a fraud run: the alert queue's yearly net saving and how much fraud it catches.

The saving is the run's own "Net saving" (fraud caught in the alerts minus the review fee of every
alert, on the test period), scaled to a year by the test period's length in days. The chart is the
share of fraud money caught against alerts reviewed per day, from the test scores the run kept for
monitoring (``monitor_reference.parquet``; runs saved before the amounts were kept show the share of
frauds instead).
"""

from __future__ import annotations

import numpy as np

from core.report.pitch import (DAYS_A_YEAR, Pitch, currency_of, gain_words, headline_value, missing_sentence, money_text,
                        section)


def build_pitch(meta: dict, run_dir) -> Pitch:
    from core.monitor.reference import read_reference

    decision = section(meta, "decision")
    unit = currency_of(meta)
    net = headline_value(meta, "impact", "Net saving")
    fee, review = decision.get("review_fee"), decision.get("review_threshold")
    ref = None if run_dir is None else read_reference(run_dir)
    usable = ref is not None and {"score", "label", "event_time"} <= set(ref.columns) and len(ref)
    days = None
    if usable:
        times = ref["event_time"]
        days = int((times.max().normalize() - times.min().normalize()).days) + 1
    missing = [name for name, v in (("the net saving", net), ("the review fee", fee),
                                    ("the alert threshold", review), ("the test period's dates", days)) if v is None]
    if missing:
        return missing_sentence("the alert queue", missing)
    per_year = net * DAYS_A_YEAR / days
    per_day = len(ref) / days
    alerts_day = float((ref["score"].to_numpy(float) >= review).sum()) / days
    sentence = (f"At about {per_day:,.0f} card transactions a day, reviewing the model's {alerts_day:,.0f} alerts a day "
                + gain_words(per_year, unit, saves="saves ≈ {amount} a year", costs="costs ≈ {amount} a year")
                + " net of the review work, against reviewing nothing.")
    assumptions = [
        f"Volume: the sample's pace, {len(ref):,} transactions in its {days}-day test period; the saving there "
        f"({money_text(net, unit)}) scaled to {DAYS_A_YEAR:.0f} days",
        f"Review fee {money_text(fee, unit)} per alert (the cost set on the page); a reviewed fraud is stopped "
        "and its amount saved",
        f"The model raises an alert when its fraud risk is {review:.3f} or more",
    ]
    figure = _capture_chart(ref, days, alerts_day)
    what = "fraud money" if "amount" in ref.columns else "frauds"
    return Pitch(sentence=sentence, assumptions=assumptions, figure=figure, per_year=per_year,
                 chart_caption=f"Reviewing the riskiest transactions first: how much of the {what} in the test "
                               "period each day's alert budget catches; the dashed line is the model's.")


def _capture_chart(ref, days: int, alerts_day: float):
    from core.fraud.charts import plot_alert_capture

    order = np.argsort(-ref["score"].to_numpy(float), kind="stable")
    y = ref["label"].to_numpy(float)[order]
    amounts = ref["amount"].to_numpy(float)[order] if "amount" in ref.columns else np.ones(len(y))
    caught = np.r_[0.0, np.cumsum(y * amounts)]
    total = caught[-1] or 1.0
    # At most a few hundred points: the curve's shape, not every transaction.
    idx = np.unique(np.linspace(0, len(y), min(len(y) + 1, 400)).round().astype(int))
    return plot_alert_capture(idx / days, caught[idx] / total, current=alerts_day,
                              what="fraud money" if "amount" in ref.columns else "frauds"
                              ).update_layout(font=dict(size=16), height=420)
