"""Presenter screen of a demand run: the inventory policy's yearly saving and the forecast behind it.

The saving is the run's own "Inventory cost saved" (stock-out plus holding cost of the ordering policy
on the network's forecast against the same policy on the best simple forecast, over the held-out
backtest), scaled to a year by the backtest's length. The chart is the busiest series' forecast band
against the demand that really followed (``"band"`` of the run's summary); runs saved before the band
was kept show the total over all series, without a band.
"""

from __future__ import annotations

from core.report.pitch import Pitch, currency_of, gain_words, headline_value, missing_sentence, money_text, section

PERIODS_A_YEAR = {"daily": (365, "day"), "weekly": (52, "week"), "monthly": (12, "month")}


def build_pitch(meta: dict, run_dir) -> Pitch:
    ws = section(meta)
    decision = section(meta, "decision")
    params = section(meta, "params")
    head = section(meta, "headline")
    verdict = head.get("verdict") if isinstance(head.get("verdict"), dict) else {}
    unit = currency_of(meta)
    saved = headline_value(meta, "impact", "Inventory cost saved")
    horizon, origins, n_series = params.get("horizon"), params.get("origins"), params.get("n_series")
    freq = PERIODS_A_YEAR.get(str(params.get("frequency")))
    missing = [name for name, v in (("the inventory cost saved", saved), ("the forecast horizon", horizon),
                                    ("the number of backtest origins", origins), ("the number of series", n_series),
                                    ("the data's frequency (daily, weekly or monthly)", freq)) if v is None]
    if missing:
        return missing_sentence("the ordering policy", missing)
    periods, word = freq
    span = int(horizon) * int(origins)
    per_year = saved * periods / span
    base = str(verdict.get("baseline") or "the best simple forecast")
    sentence = (f"For the sample's {n_series:,} store-product lines, ordering from the model's forecast "
                + gain_words(per_year, unit, saves="saves ≈ {amount} a year", costs="costs ≈ {amount} a year")
                + f" in stock-outs and stock held, against ordering from a {base} forecast.")
    assumptions = [
        f"Measured on {span} held-out {word}s of real demand: {money_text(saved, unit)}, scaled to {periods} {word}s",
        f"Holding cost {money_text(decision.get('holding_cost', 0.0), unit)} per unit per {word}, stock-out cost "
        f"{money_text(decision.get('stockout_cost', 0.0), unit)} per unit short (the costs set on the page)",
        f"Order up to the reorder point every {decision.get('review_period', '?')} {word}s, lead time "
        f"{decision.get('lead_time', '?')} {word}s, service level {float(decision.get('service_level', 0)):.0%}",
    ]
    figure, caption = _band_chart(ws)
    return Pitch(sentence=sentence, assumptions=assumptions, figure=figure, chart_caption=caption, per_year=per_year)


def _band_chart(ws: dict):
    from core.demand.charts import plot_backtest_band

    band = ws.get("band") if isinstance(ws.get("band"), dict) else None
    if band and band.get("date"):
        fig = plot_backtest_band(band["date"], band["y"], band["p10"], band["p50"], band["p90"],
                                 title=f"{band['series']}: the forecast range against the demand that really came")
        return fig.update_layout(font=dict(size=16)), (
            "Periods the model never saw: the shaded range is where it expected demand to fall, the black "
            "line is what customers really bought.")
    curves = ws.get("curves") or {}  # as migrated (core.store.runmeta): a dict or absent
    actual, p50 = curves.get("backtest_actual"), curves.get("backtest_p50")
    if not (isinstance(actual, dict) and isinstance(p50, dict) and actual.get("x")):
        return None, "The forecast chart needs the backtest, which this run did not save."
    fig = plot_backtest_band(actual["x"], actual["y"], None, p50["y"], None,
                             title="All series: the forecast against the demand that really came")
    return fig.update_layout(font=dict(size=16)), (
        "This run was saved without a forecast range for one series: the total over all series is shown.")
