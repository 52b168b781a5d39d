"""Plotly figures for the demand scenario: data in, ``go.Figure`` out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.present.charts import PALETTE, _layout

_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0)
_NAMES = {"nn": "Keras network", "seasonal_naive": "Seasonal naive", "moving_average": "Moving average"}


def plot_forecast(history: pd.DataFrame, backtest: pd.DataFrame, future: pd.DataFrame, sid: str,
                  *, last: int | None = 180, prefix: str = "nn", model: str = "network") -> go.Figure:
    """History, backtest forecasts and the forward forecast with P10-P90 bands for one series.

    ``prefix`` / ``model``: the saved forecast's backtest columns and name (``core.demand.blend.saved_backtest``);
    with a saved blend (``"ensemble"``) its band and P50 are named after it and the network's own backtest
    P50 is kept as a thin line, "network alone"."""
    fig = go.Figure()
    h = history if last is None else history.tail(last)
    fig.add_scatter(x=h["date"], y=h["y"], mode="lines", name="actual", line=dict(color="#444", width=1.5))
    b = backtest[backtest["series"] == sid]
    tag = "" if prefix == "nn" else f", {model}"
    for k, (origin, g) in enumerate(b.groupby("origin")):
        _band(fig, g["date"], g[f"{prefix}_p10"], g[f"{prefix}_p90"], f"P10-P90 (backtest{tag})", k == 0, PALETTE[0])
        fig.add_scatter(x=g["date"], y=g[f"{prefix}_p50"], mode="lines", name=f"P50 (backtest{tag})",
                        showlegend=k == 0, line=dict(color=PALETTE[0], dash="dot"))
        if prefix != "nn":
            fig.add_scatter(x=g["date"], y=g["nn_p50"], mode="lines", name="P50 (backtest, network alone)",
                            showlegend=k == 0, line=dict(color=PALETTE[3], width=1, dash="dot"))
        fig.add_scatter(x=g["date"], y=g["seasonal_naive_p50"], mode="lines", name="seasonal naive",
                        showlegend=k == 0, line=dict(color=PALETTE[1], width=1, dash="dash"))
    f = future[future["series"] == sid]
    _band(fig, f["date"], f["p10"], f["p90"], f"P10-P90 (forecast{tag})", True, PALETTE[2])
    fig.add_scatter(x=f["date"], y=f["p50"], mode="lines", name=f"P50 (forecast{tag})", line=dict(color=PALETTE[2]))
    fig = _layout(fig, f"{sid}: history, backtest and forecast", "date", "units", height=460)
    return fig.update_layout(legend=_LEGEND_BELOW)


def _band(fig: go.Figure, x, lo, hi, name: str, show: bool, color: str) -> None:
    fig.add_scatter(x=list(x) + list(x)[::-1], y=list(hi) + list(lo)[::-1], fill="toself", mode="lines",
                    line=dict(width=0), fillcolor=_rgba(color, 0.18), name=name, showlegend=show,
                    hoverinfo="skip")


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def plot_error_by_step(backtest: pd.DataFrame, *, prefix: str = "nn", model: str | None = None) -> go.Figure:
    """Backtest mean absolute error by horizon step, the saved forecast vs the baselines.

    ``prefix`` / ``model``: the saved forecast's column prefix and trace name (``core.demand.blend.saved_backtest``
    and ``saved_row_name``); with a saved blend (``"ensemble"``) the network's own error stays as a
    dashed trace, "Keras network alone". Colours by role, as in ``plot_error_by_series``."""
    traces = [(prefix, model or _NAMES["nn"], PALETTE[0], None)] if prefix != "nn" else []
    traces += [("nn", _NAMES["nn"] if prefix == "nn" else "Keras network alone",
                PALETTE[0] if prefix == "nn" else PALETTE[3], None if prefix == "nn" else "dash"),
               ("seasonal_naive", _NAMES["seasonal_naive"], PALETTE[1], None),
               ("moving_average", _NAMES["moving_average"], PALETTE[2], None)]
    fig = go.Figure()
    for p, name, color, dash in traces:
        err = (backtest[f"{p}_p50"] - backtest["y"]).abs().groupby(backtest["step"]).mean()
        fig.add_scatter(x=err.index, y=err.values, mode="lines+markers", name=name, line=dict(color=color, dash=dash))
    fig = _layout(fig, "Backtest error by horizon step", "periods ahead", "mean absolute error (units)", height=420)
    return fig.update_layout(legend=_LEGEND_BELOW)


def plot_error_by_series(per_series: pd.DataFrame, metric: str = "wape") -> go.Figure:
    """A metric per series (rows) for every method (bars side by side). The first method is the saved forecast
    (``core.demand.blend.saved_per_series``), drawn in the first colour; the baselines keep theirs."""
    fig = go.Figure()
    roles = {"Seasonal naive": PALETTE[1], "Moving average": PALETTE[2]}
    for i, (method, g) in enumerate(per_series.groupby("method", sort=False)):
        color = PALETTE[0] if i == 0 else roles.get(method, PALETTE[3])
        fig.add_bar(y=g["series"], x=g[metric], name=method, orientation="h", marker_color=color)
    n = per_series["series"].nunique()
    fig.update_layout(barmode="group")
    from core.present.glossary import metric_label

    name = metric_label("coverage" if metric == "coverage_p10_p90" else metric)
    unit = " (%)" if metric in ("wape", "coverage_p10_p90", "smape", "mape", "bias_pct") else (
        " (units)" if metric in ("mae", "rmse", "wmae") else "")
    return _layout(fig, f"{name} by series", f"{name}{unit}", "", height=160 + 22 * n * 1.5)


def plot_policy(table: pd.DataFrame, *, model: str = "network") -> go.Figure:
    """Reorder point per series: the saved forecast's quantiles (``model``: ``core.demand.blend.saved_name``) vs
    the naive forecast."""
    fig = go.Figure()
    fig.add_bar(x=table["series"], y=table["reorder_point"], name=f"from {model} quantiles", marker_color=PALETTE[0])
    fig.add_bar(x=table["series"], y=table["naive_reorder_point"], name="from seasonal naive", marker_color=PALETTE[1])
    fig.update_layout(barmode="group")
    return _layout(fig, "Reorder point (order-up-to level) per series", "series", "units")


def plot_events(test: pd.DataFrame, sid: str) -> go.Figure:
    """Held-out demand of one series, its event level and the classifier's event probability."""
    t = test[test["series"] == sid]
    fig = go.Figure()
    fig.add_scatter(x=t["date"], y=t["y"], mode="lines+markers", name="demand", line=dict(color="#444"))
    fig.add_scatter(x=t["date"], y=t["level"], mode="lines", name="event level", line=dict(color=PALETTE[4], dash="dash"))
    fig.add_scatter(x=t["date"], y=t["p_classifier"], mode="lines", name="P(event), classifier", yaxis="y2",
                    line=dict(color=PALETTE[0]))
    fig.add_scatter(x=t["date"], y=t["p_quantile"], mode="lines", name="P(event), quantiles", yaxis="y2",
                    line=dict(color=PALETTE[2], dash="dot"))
    fig.update_layout(yaxis2=dict(overlaying="y", side="right", range=[0, 1], title="probability"))
    fig = _layout(fig, f"{sid}: demand events in the test periods", "date", "units", height=420)
    return fig.update_layout(legend=_LEGEND_BELOW)


def plot_backtest_band(dates, actual, p10, p50, p90, *, title: str, y_label: str = "units") -> go.Figure:
    """Demand that really followed against the forecast's P10–P90 band and median, over held-out periods."""
    fig = go.Figure()
    if p10 is not None and p90 is not None:
        _band(fig, dates, p10, p90, "forecast range (P10–P90)", True, PALETTE[0])
    fig.add_scatter(x=dates, y=p50, mode="lines", name="forecast", line=dict(color=PALETTE[0], width=3, dash="dot"))
    fig.add_scatter(x=dates, y=actual, mode="lines+markers", name="actual demand", line=dict(color="#111", width=3))
    fig = _layout(fig, title, "date", y_label, height=400)
    return fig.update_layout(legend=_LEGEND_BELOW)
