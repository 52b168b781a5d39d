"""Presenter screen of a credit run: the decline line's yearly saving and the profit curve behind it.

The saving is the run's own "Loss avoided" (profit at the saved threshold minus profit when approving
everyone, on the held-out applicants), scaled to a year by taking the bundled sample's applications as
one year's volume. The chart is the profit by threshold recomputed from the test scores the run kept
for monitoring (``monitor_reference.parquet``) with the run's costs.
"""

from __future__ import annotations

from core.report.pitch import Pitch, about, currency_of, gain_words, headline_value, missing_sentence, money_text, section


def build_pitch(meta: dict, run_dir) -> Pitch:
    decision = section(meta, "decision")
    params = section(meta, "params")
    dataset = section(meta, "dataset")
    unit = currency_of(meta)
    avoided = headline_value(meta, "impact", "Loss avoided")
    test_rows, rows = params.get("test_rows"), dataset.get("rows")
    loss, margin, threshold = (decision.get(k) for k in ("loss_default", "margin_good", "threshold"))
    missing = [name for name, v in (("the loss avoided", avoided), ("the number of test applicants", test_rows),
                                    ("the number of applications in its data", rows),
                                    ("the loss per defaulter", loss), ("the margin per good loan", margin),
                                    ("the decline threshold", threshold)) if v is None]
    if missing:
        return missing_sentence("the decline line", missing)
    per_year = avoided * rows / test_rows
    a_month = rows / 12
    sentence = (f"At about {a_month:,.0f} applications a month, the model's decline line "
                + gain_words(per_year, unit, saves="saves ≈ {amount} a year", costs="costs ≈ {amount} a year")
                + " against approving everyone.")
    assumptions = [
        f"Volume: the sample's {rows:,} applications taken as one year's (≈ {a_month:,.0f} a month)",
        f"Loss {money_text(loss, unit)} per defaulter approved, margin {money_text(margin, unit)} per good loan "
        "(the costs set on the page); a declined applicant earns and costs nothing",
        f"Measured on {test_rows:,} held-out applicants: {money_text(avoided, unit)} "
        f"(≈ {about(avoided / test_rows, unit)} per applicant), scaled to the year's volume",
        f"The model declines when its probability of default is {threshold:.2f} or more",
    ]
    figure, caption = _profit_chart(run_dir, threshold, loss, margin, unit)
    return Pitch(sentence=sentence, assumptions=assumptions, figure=figure, chart_caption=caption,
                 per_year=per_year)


def _profit_chart(run_dir, threshold: float, loss: float, margin: float, unit: str):
    from core.credit.charts import plot_profit_curve
    from core.credit.profit import compute_profit_curve
    from core.monitor.reference import read_reference

    ref = None if run_dir is None else read_reference(run_dir)
    if ref is None or not {"score", "label"} <= set(ref.columns):
        return None, "The profit curve needs the test scores, which this run did not keep."
    curve = compute_profit_curve(ref["label"].to_numpy(), ref["score"].to_numpy(), loss_default=loss,
                                 margin_good=margin)
    fig = plot_profit_curve(curve, threshold=threshold, optimal=threshold, currency=unit)
    # One curve and one line for an audience: the approval and bad rates (second axis) and the
    # profit-optimal marker are the analyst's page, not the pitch.
    fig.data = fig.data[:1]
    fig.layout.shapes = fig.layout.shapes[:1]
    fig.layout.annotations = fig.layout.annotations[:1]
    fig.layout.shapes[0].line.width = 3
    fig.layout.annotations[0].text = "the model's decline line"
    fig.update_yaxes(visible=False, secondary_y=True)
    fig.update_layout(title_text="Profit on the held-out applicants, by where the decline line sits",
                      font=dict(size=16), height=420, showlegend=False)
    return fig, ("Each point is the profit if every applicant at or above that risk were declined; the dashed "
                 "line is where the model draws it.")
