"""Plotly figure builders: data in, ``go.Figure`` out. No Streamlit here."""

from __future__ import annotations

import html
from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.data.safety import escape_figure_text

TEMPLATES = ("plotly", "plotly_white")  # Plotly's default, put on every new figure, and the one ``_layout`` sets


def warm_templates(names=TEMPLATES) -> None:
    """Build every part of the figure templates the charts use, once, before any session draws.

    Plotly builds a template's parts the first time they are read, without a lock; two sessions drawing
    their first figures at the same moment (one thread each) can both build the same part, and the one
    that lost the race then holds a part its template no longer has: a traceback ("Invalid value") in
    place of a chart (plotly/plotly.py#3441). Built here, at this module's import (which Python runs
    once, other threads waiting), the parts are only read afterwards."""
    import plotly.io as pio
    from plotly.basedatatypes import BasePlotlyType

    def build(obj) -> None:
        for prop in obj.to_plotly_json():
            value = obj[prop]  # reading a part builds it
            for part in value if isinstance(value, tuple) else (value,):
                if isinstance(part, BasePlotlyType):
                    build(part)

    for name in names:
        build(pio.templates[name])


warm_templates()

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04"]
POS_COLOR, NEG_COLOR = "#dc2626", "#2563eb"


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    # The title sits on its own line at the top and the legend on the next, just above the plot, so a
    # long legend never runs over the title.
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", y=1, yanchor="top", pad=dict(t=12, l=4)),
        xaxis_title=x,
        yaxis_title=y,
        height=height + 30,
        margin=dict(l=40, r=20, t=80, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
        template="plotly_white",
    )
    # Column names, category values and run names come from uploads: Plotly would read tags in them.
    return escape_figure_text(fig)


# Corners of the plot that the curve leaves empty: ROC curves stay above the diagonal (bottom right
# is free), precision–recall curves fall towards the right (top right is free once recall is high,
# bottom left is free only when precision stays high), calibration sits near the diagonal.
_CORNERS = {
    "bottom right": dict(x=0.99, xanchor="right", y=0.02, yanchor="bottom"),
    "bottom left": dict(x=0.01, xanchor="left", y=0.02, yanchor="bottom"),
    "top left": dict(x=0.01, xanchor="left", y=0.98, yanchor="top"),
}


def _legend_inside(fig: go.Figure, corner: str) -> go.Figure:
    """A vertical legend in an empty corner of the plot: several long model names in a half-width
    column wrap a horizontal legend onto lines that climb over the title."""
    fig.update_layout(legend=dict(orientation="v", bgcolor="rgba(255,255,255,0.85)", bordercolor="#e5e7eb",
                                  borderwidth=1, font=dict(size=11), **_CORNERS[corner]),
                      margin=dict(t=50))
    return fig


def percent_axis(max_value: float, *, at_most: float = 1.0) -> dict:
    """A 0-based share axis with round ticks (0/10/20 %, or 0/2/4 % for small rates), never negative:
    ``fig.update_yaxes(**percent_axis(rates.max()), secondary_y=True)``."""
    top = float(np.nan_to_num(max_value, nan=0.0))
    top = min(max(top, 0.01), at_most)
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        if top / step <= 6:
            break
    upper = min(at_most, float(np.ceil(top / step - 1e-9) * step))
    return dict(range=[0, max(upper, step)], dtick=step, tickformat=".0%", rangemode="nonnegative", showgrid=False)


def plot_roc(curves: Mapping[str, pd.DataFrame], aucs: Mapping[str, float] | None = None) -> go.Figure:
    """ROC curves for one or more models (``name -> compute_roc frame``)."""
    fig = go.Figure()
    for i, (name, c) in enumerate(curves.items()):
        label = f"{name} (AUC {aucs[name]:.3f})" if aucs and name in aucs else name
        fig.add_scatter(x=c["fpr"], y=c["tpr"], mode="lines", name=label, line=dict(color=PALETTE[i % 7]))
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="#999"))
    return _legend_inside(_layout(fig, "ROC curve", "False positive rate", "True positive rate"), "bottom right")


def plot_pr(curves: Mapping[str, pd.DataFrame], aps: Mapping[str, float] | None = None,
            prevalence: float | None = None) -> go.Figure:
    """Precision–recall curves for one or more models."""
    fig = go.Figure()
    for i, (name, c) in enumerate(curves.items()):
        label = f"{name} (AP {aps[name]:.3f})" if aps and name in aps else name
        fig.add_scatter(x=c["recall"], y=c["precision"], mode="lines", name=label, line=dict(color=PALETTE[i % 7]))
    if prevalence is not None:
        fig.add_hline(y=prevalence, line_dash="dot", line_color="#999", annotation_text="base rate")
    return _legend_inside(_layout(fig, "Precision–recall curve", "Recall", "Precision"), "bottom left")


def plot_calibration(tables: Mapping[str, pd.DataFrame]) -> go.Figure:
    """Reliability diagram: mean predicted probability against observed rate per bin."""
    fig = go.Figure()
    for i, (name, t) in enumerate(tables.items()):
        fig.add_scatter(x=t["mean_predicted"], y=t["observed_rate"], mode="lines+markers", name=name,
                        line=dict(color=PALETTE[i % 7]), customdata=t["count"],
                        hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>rows %{customdata}")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line=dict(dash="dot", color="#999"))
    return _legend_inside(_layout(fig, "Calibration", "Mean predicted probability", "Observed rate"), "top left")


def plot_confusion(c: Mapping[str, int], labels: tuple[str, str] = ("negative", "positive")) -> go.Figure:
    """Confusion matrix heatmap from ``compute_confusion`` counts."""
    z = [[c["tn"], c["fp"]], [c["fn"], c["tp"]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"predicted {labels[0]}", f"predicted {labels[1]}"],
        y=[f"actual {labels[0]}", f"actual {labels[1]}"], colorscale="Blues", showscale=False,
        text=[[f"{v:,}" for v in row] for row in z], texttemplate="%{text}",
    ))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Confusion matrix", "", "", height=320)


def plot_score_distribution(y, p, labels: tuple[str, str] = ("negative", "positive"),
                            threshold: float | None = None) -> go.Figure:
    """Overlaid histograms of the predicted probability for each actual class."""
    y, p = np.asarray(y).astype(int), np.asarray(p, dtype=float)
    fig = go.Figure()
    for cls, name, color in ((0, labels[0], NEG_COLOR), (1, labels[1], POS_COLOR)):
        fig.add_histogram(x=p[y == cls], name=f"actual {name}", marker_color=color, opacity=0.6,
                          xbins=dict(start=0, end=1, size=0.02), histnorm="probability")
    fig.update_layout(barmode="overlay")
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", annotation_text="threshold")
    return _layout(fig, "Score distribution by class", "Predicted probability", "Share of class")


# Keras history keys in words (a key not listed reads as its words: "p50_error" -> "P50 error").
HISTORY_WORDS = {"loss": "Loss", "accuracy": "Accuracy", "auc": "ROC-AUC", "roc_auc": "ROC-AUC",
                 "pr_auc": "PR-AUC", "p50_error": "Median forecast error", "mae": "Mean absolute error",
                 "learning_rate": "Learning rate", "lr": "Learning rate", "refit_loss": "Loss, refit on every row"}


def history_label(key: str) -> str:
    """A training-history curve's legend: "Loss (training)", "Loss (validation)"."""
    val = key.startswith("val_")
    base = key[4:] if val else key
    words = HISTORY_WORDS.get(base) or base.replace("_", " ").capitalize()
    return f"{words} ({'validation' if val else 'training'})"


def plot_training_history(history: Mapping[str, list[float]], kept: int | None = None) -> go.Figure:
    """Loss and metric curves per epoch (training solid, validation dashed), named in words; ``kept``: the
    epoch whose weights early stopping kept, marked on the curve (``core.ml.training.kept_epoch``)."""
    fig = go.Figure()
    names = [k for k in history if not k.startswith("val_")]
    for i, k in enumerate(names):
        color = PALETTE[i % 7]
        epochs = list(range(1, len(history[k]) + 1))
        fig.add_scatter(x=epochs, y=history[k], mode="lines+markers", name=history_label(k), line=dict(color=color))
        if f"val_{k}" in history:
            fig.add_scatter(x=epochs, y=history[f"val_{k}"], mode="lines+markers", name=history_label(f"val_{k}"),
                            line=dict(color=color, dash="dash"))
    fit = history.get("val_fit_loss")
    if fit:
        # What early stopping watches (the validation loss without the weight penalty), and the
        # epoch whose weights were kept.
        epochs = list(range(1, len(fit) + 1))
        fig.add_scatter(x=epochs, y=fit, mode="lines+markers", name="Loss without penalty (validation)",
                        line=dict(color=PALETTE[len(names) % 7], dash="dot"))
    if fit and kept:
        fig.add_vline(x=kept, line_dash="dash", line_color="#444",
                      annotation_text=f"best epoch {kept} (kept)", annotation_position="top right")
    fig = _layout(fig, "Training curves", "Epoch", "Value", height=320)
    # Training and validation of each figure make up to seven long legend entries: they go below the
    # epoch axis, where their rows never run over the title. Epochs are whole numbers.
    rows = (len(fig.data) + 1) // 2
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0),
                      margin=dict(t=50, b=70 + 22 * rows), height=350 + 22 * rows)
    fig.update_xaxes(dtick=1 if fig.data and len(fig.data[0].x or []) <= 20 else None)
    return fig


def plot_metric_curve(df: pd.DataFrame, x: str, ys: Mapping[str, str], title: str,
                      x_title: str, y_title: str, marker_x: float | None = None) -> go.Figure:
    """Generic line chart of ``df[x]`` against several columns (``label -> column``)."""
    fig = go.Figure()
    for i, (label, col) in enumerate(ys.items()):
        fig.add_scatter(x=df[x], y=df[col], mode="lines", name=label, line=dict(color=PALETTE[i % 7]))
    if marker_x is not None:
        fig.add_vline(x=marker_x, line_dash="dash", line_color="#444")
    return _layout(fig, title, x_title, y_title)


def plot_cost_curve(curve: pd.DataFrame, *, threshold: float, best: float,
                    value_label: str = "Expected value") -> go.Figure:
    """Value (profit / savings) by threshold with the current and the optimal threshold marked."""
    fig = go.Figure()
    fig.add_scatter(x=curve["threshold"], y=curve["value"], mode="lines", name=value_label,
                    line=dict(color=PALETTE[0], width=3))
    fig.add_vline(x=threshold, line_dash="dash", line_color="#444", annotation_text="current")
    fig.add_vline(x=best, line_dash="dot", line_color=PALETTE[2], annotation_text="optimal",
                  annotation_position="bottom right")
    return _layout(fig, f"{value_label} by threshold", "Threshold", value_label)


def feature_labels(names, labeller=None) -> list[str]:
    """Plain names for columns ("Credit utilisation"; ``labeller(name)`` when given, a scenario's own
    words for its engineered features); a raw name is kept where two columns would read the same, so
    no two bars or rows merge."""
    from core.present.glossary import feature_label

    names = [str(n) for n in names]
    labels = [(labeller or feature_label)(n) for n in names]
    clash = {lab for lab in labels if labels.count(lab) > 1}
    return [n if lab in clash else lab for n, lab in zip(names, labels)]


def plot_shap_bar(importance: pd.DataFrame, top: int = 15, *, labeller=None) -> go.Figure:
    """Global importance: mean |SHAP| per feature (``feature``, ``importance`` columns)."""
    d = importance.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=d["importance"], y=feature_labels(d["feature"], labeller), orientation="h",
                           marker_color=PALETTE[0], customdata=[str(f) for f in d["feature"]],
                           hovertemplate="%{y} (column %{customdata})<br>mean |SHAP| %{x:.4f}<extra></extra>"))
    return _layout(fig, "Global importance (mean |SHAP|)", "Mean |SHAP value|", "", height=120 + 24 * len(d))


def plot_shap_beeswarm(values: np.ndarray, data: pd.DataFrame, feature_order: list[str],
                       top: int = 15, seed: int = 0, *, labeller=None, currency: str | None = None) -> go.Figure:
    """Beeswarm: one dot per row and feature, x = SHAP value, colour = feature value (scaled); the
    hover reads each value in the feature's unit."""
    from core.present.units import value_kind, value_text

    rng = np.random.default_rng(seed)
    feats = feature_order[:top][::-1]
    cols = list(data.columns)
    fig = go.Figure()
    names = feature_labels(feats, labeller)
    for j, f in enumerate(feats):
        k = cols.index(f)
        sv = values[:, k]
        raw = pd.to_numeric(data[f], errors="coerce").to_numpy(dtype=float)
        kind = value_kind(f, data[f])
        if np.all(np.isnan(raw)):  # categorical: colour by category code
            raw = pd.Series(data[f]).astype("category").cat.codes.to_numpy(dtype=float)
        lo, hi = np.nanpercentile(raw, 5), np.nanpercentile(raw, 95)
        color = np.clip((raw - lo) / (hi - lo), 0, 1) if hi > lo else np.full(len(raw), 0.5)
        fig.add_scatter(
            x=sv, y=j + rng.uniform(-0.3, 0.3, len(sv)), mode="markers", name=f, showlegend=False,
            marker=dict(size=5, color=np.nan_to_num(color, nan=0.5), colorscale="RdBu_r", cmin=0, cmax=1,
                        showscale=(j == len(feats) - 1),
                        colorbar=dict(title="feature value", tickvals=[0, 1], ticktext=["low", "high"])),
            text=[f"{names[j]} = {value_text(v, kind, currency)}" for v in data[f]],
            hovertemplate=f"%{{text}}<br>SHAP %{{x:.4f}}<extra>column {html.escape(str(f))}</extra>",
        )
    fig.update_yaxes(tickvals=list(range(len(feats))), ticktext=names)
    return _layout(fig, "SHAP values per row (beeswarm)", "SHAP value (impact on predicted probability)", "",
                   height=140 + 26 * len(feats))


def _shown_value(name, value, currency) -> str:
    """A waterfall label's value: text as given, numbers in the feature's unit, "" when blank."""
    from core.present.glossary import is_blank
    from core.present.units import value_kind, value_text

    if is_blank(value):
        return ""
    if isinstance(value, str):
        return value.replace("_", " ")  # a category ("home improvement"), or a value already in its unit
    return value_text(value, value_kind(name, [value]), currency)


def _order_within(base: float, deltas: list[float], low: float, high: float) -> list[int]:
    """The order to draw the pushes in: as given, unless the running total would leave [low, high] (a
    probability below 0 or above 1 part-way); then one sign's pushes first, whichever keeps it inside."""
    order = list(range(len(deltas)))
    path = base + np.cumsum([deltas[i] for i in order])
    if not len(path) or (path.min() >= low - 1e-9 and path.max() <= high + 1e-9):
        return order
    ups = [i for i in order if deltas[i] > 0]
    downs = [i for i in order if deltas[i] <= 0]
    for first in (ups + downs, downs + ups):
        path = base + np.cumsum([deltas[i] for i in first])
        if path.min() >= low - 1e-9 and path.max() <= high + 1e-9:
            return first
    return order


def plot_shap_waterfall(base_value: float, contributions: pd.DataFrame, prediction: float,
                        top: int = 12, *, labeller=None, currency: str | None = None,
                        x_title: str = "Predicted probability", probability: bool = True) -> go.Figure:
    """Local explanation: from the base value, each feature's push to the final prediction.

    ``contributions`` has ``feature``, ``value`` (shown in the feature's unit; text as given) and
    ``shap`` columns. On a ``probability`` axis the running total stays between 0 and 1 (pushes are
    ordered so) and the axis spans only the path the bars take.
    """
    d = contributions.reindex(contributions["shap"].abs().sort_values(ascending=False).index)
    head, rest = d.head(top), d.iloc[top:]
    labels = []
    for name, f, v in zip(head["feature"], feature_labels(head["feature"], labeller), head["value"]):
        shown = _shown_value(name, v, currency)
        labels.append(f"{f} = {shown}" if shown else f)
    deltas = [float(x) for x in head["shap"]]
    if len(rest):
        labels.append(f"{len(rest)} other features")
        deltas.append(float(rest["shap"].sum()))
    # Drawn from the bottom up: the base value, the smallest pushes, the largest just under the prediction.
    labels, deltas = labels[::-1], deltas[::-1]
    order = _order_within(float(base_value), deltas, 0.0, 1.0) if probability else list(range(len(deltas)))
    labels, deltas = [labels[i] for i in order], [deltas[i] for i in order]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=["base value"] + labels + ["prediction"],
        x=[base_value] + deltas + [0], measure=["absolute"] + ["relative"] * len(deltas) + ["total"],
        increasing=dict(marker=dict(color=POS_COLOR)), decreasing=dict(marker=dict(color=NEG_COLOR)),
        totals=dict(marker=dict(color="#444")),
    ))
    # Plotly draws the first bar from 0 to the base value; the range covers that bar and the running
    # total's path, with a margin, and never leaves 0–1 on a probability axis.
    path = float(base_value) + np.concatenate([[0.0], np.cumsum(deltas)])
    lo, hi = min(0.0, float(path.min())), max(0.0, float(path.max()))
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad if lo < 0 else lo, hi + pad
    if probability:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    fig.update_xaxes(range=[lo, hi])
    return _layout(fig, f"Why this prediction ({prediction:.3f})", x_title, "",
                   height=160 + 26 * (len(deltas) + 2))


def plot_class_counts(before: Mapping, after: Mapping) -> go.Figure:
    """Class counts in the training split before and after rebalancing."""
    classes = [str(k) for k in before]
    fig = go.Figure()
    fig.add_bar(x=classes, y=[before[k] for k in before], name="before", marker_color=PALETTE[0])
    fig.add_bar(x=classes, y=[after.get(k, 0) for k in before], name="after", marker_color=PALETTE[1])
    fig.update_layout(barmode="group")
    return _layout(fig, "Training rows per class", "Class", "Rows", height=300)
