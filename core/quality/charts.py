"""Plotly figures for the quality page: heatmap overlays, confusion matrix, per-class bars, costs."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.present.charts import PALETTE, _layout, percent_axis
from core.present.money import DEFAULT_CURRENCY, currency_symbol, money_axis_title
from core.data.safety import escape_figure_text


HEAT_SCALE = [[0.0, "rgba(255,230,0,0)"], [0.25, "rgba(255,200,0,0.1)"], [0.6, "rgba(255,110,0,0.6)"],
              [1.0, "rgba(220,0,0,0.9)"]]
SIGNED_SCALE = [[0.0, "rgba(29,78,216,0.95)"], [0.35, "rgba(59,130,246,0.4)"], [0.5, "rgba(255,255,255,0)"],
                [0.65, "rgba(239,68,68,0.4)"], [1.0, "rgba(185,28,28,0.95)"]]


def _as_rgb(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return img.astype(np.uint8)


def plot_image_heatmap(image: np.ndarray, heatmap: np.ndarray | None = None, *, title: str = "",
                       signed: bool = False, opacity: float = 1.0, height: int = 320) -> go.Figure:
    """The image, optionally overlaid with a heatmap of the same size.

    Unsigned maps (Grad-CAM, 0..1) use a hot colour scale; signed maps (SHAP) a red/blue scale
    centred on zero, red pushing towards the explained class.
    """
    fig = go.Figure(go.Image(z=_as_rgb(image), hoverinfo="skip"))
    if heatmap is not None:
        h = np.asarray(heatmap, dtype=float)
        # Colour scales fade to transparent where the map is near zero, so the part itself
        # stays visible and only the evidence is coloured.
        if signed:
            lim = float(np.abs(h).max()) or 1.0
            fig.add_heatmap(z=h, colorscale=SIGNED_SCALE, zmid=0, zmin=-lim, zmax=lim, opacity=opacity,
                            colorbar=dict(title="SHAP", thickness=12), hovertemplate="x %{x}, y %{y}<br>SHAP %{z:.4f}<extra></extra>")
        else:
            fig.add_heatmap(z=h, colorscale=HEAT_SCALE, zmin=0, zmax=1, opacity=opacity,
                            colorbar=dict(title="weight", thickness=12), hovertemplate="x %{x}, y %{y}<br>%{z:.2f}<extra></extra>")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
    return escape_figure_text(fig)  # the title names a class, i.e. an uploaded folder name


def plot_multiclass_confusion(matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> go.Figure:
    """Confusion matrix over all classes (rows actual, columns predicted)."""
    z = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"pred. {c}" for c in class_names], y=[f"actual {c}" for c in class_names],
        colorscale="Blues", showscale=False, text=z.astype(str), texttemplate="%{text}",
    ))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Confusion matrix", "", "", height=340)


def plot_per_class_metrics(per_class: Mapping[str, Mapping[str, float]]) -> go.Figure:
    """Precision, recall and F1 per class, side by side."""
    names = list(per_class)
    fig = go.Figure()
    for i, metric in enumerate(("precision", "recall", "f1")):
        fig.add_bar(x=names, y=[per_class[n][metric] for n in names], name=metric, marker_color=PALETTE[i])
    fig.update_layout(barmode="group", yaxis_range=[0, 1.05])
    return _layout(fig, "Per-class precision, recall and F1", "Class", "Score", height=340)


def plot_inspection_cost(curve: pd.DataFrame, *, threshold: float, best: float,
                         currency: str = DEFAULT_CURRENCY) -> go.Figure:
    """Expected cost per part (left axis, in ``currency``: an ISO code such as "EUR") and reject
    rate (right axis) by threshold."""
    symbol = currency_symbol(currency)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=curve["threshold"], y=curve["cost_per_part"], mode="lines", name="cost per part",
                    line=dict(color=PALETTE[0], width=3), secondary_y=False,
                    hovertemplate=f"threshold %{{x:.2f}}: {symbol}%{{y:,.2f}} per part<extra></extra>")
    fig.add_scatter(x=curve["threshold"], y=curve["reject_rate"], mode="lines", name="reject rate",
                    line=dict(color=PALETTE[1], dash="dot"), secondary_y=True)
    fig.add_vline(x=threshold, line_dash="dash", line_color="#444", annotation_text="current")
    fig.add_vline(x=best, line_dash="dot", line_color=PALETTE[2], annotation_text="optimal",
                  annotation_position="bottom right")
    fig.update_yaxes(title_text="Reject rate", secondary_y=True, **percent_axis(1.0))
    fig.update_yaxes(tickprefix=symbol, tickformat=",.2f", rangemode="tozero", secondary_y=False)
    return _layout(fig, "Expected inspection cost by threshold", "Reject when P(defect) ≥ threshold",
                   money_axis_title("Cost per inspected part", currency))


def plot_class_bar(counts: Mapping[str, int], ok_class: str | None = None) -> go.Figure:
    """Images per class, the OK class in blue and defect classes in red."""
    names = list(counts)
    colors = ["#2563eb" if n == ok_class else "#dc2626" for n in names]
    fig = go.Figure(go.Bar(x=names, y=[counts[n] for n in names], marker_color=colors,
                           text=[counts[n] for n in names], textposition="outside"))
    return _layout(fig, "Images per class", "Class", "Images", height=300)
