"""Plotly figures for the credit views: profit curve, grades, points, PSI and fairness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.present.charts import NEG_COLOR, PALETTE, POS_COLOR, _layout, percent_axis

STATUS_COLORS = {"stable": "#16a34a", "watch": "#ca8a04", "shifted": "#dc2626"}


def plot_profit_curve(curve: pd.DataFrame, *, threshold: float, optimal: float,
                      currency: str = "") -> go.Figure:
    """Expected profit by threshold, with approval rate and bad rate on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=curve["threshold"], y=curve["profit"], name="expected profit", mode="lines",
                    line=dict(color=PALETTE[0], width=3), secondary_y=False,
                    hovertemplate="threshold %{x:.3f}<br>profit %{y:,.0f}")
    fig.add_scatter(x=curve["threshold"], y=curve["approval_rate"], name="approval rate", mode="lines",
                    line=dict(color=PALETTE[2], dash="dot"), secondary_y=True)
    fig.add_scatter(x=curve["threshold"], y=curve["bad_rate"], name="bad rate of approved", mode="lines",
                    line=dict(color=POS_COLOR, dash="dot"), secondary_y=True)
    fig.add_vline(x=threshold, line_dash="dash", line_color="#444", annotation_text="current")
    fig.add_vline(x=optimal, line_dash="dot", line_color=PALETTE[2], annotation_text="profit-optimal",
                  annotation_position="bottom right")
    _layout(fig, "Expected profit by decline threshold", "Decline when probability of default ≥ threshold",
            f"Expected profit {currency}".strip(), height=420)
    fig.update_yaxes(title_text="Rate", secondary_y=True, **percent_axis(1.0))
    return fig


def plot_grade_table(table: pd.DataFrame) -> go.Figure:
    """Applicants per grade (bars, coloured by decision) and default rate per grade (line)."""
    colors = table["decision"].map(lambda d: {"Approve": PALETTE[2], "Decline": POS_COLOR}.get(d, PALETTE[6]))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=table["grade"], y=table["count"], name="applicants", marker_color=colors,
                text=table["decision"], secondary_y=False)
    rate_col = "default_rate" if "default_rate" in table else "predicted_default_rate"
    fig.add_scatter(x=table["grade"], y=table[rate_col], name=rate_col.replace("_", " "),
                    mode="lines+markers", line=dict(color="#111"), secondary_y=True)
    _layout(fig, "Applicants and default rate by grade", "Grade (A = lowest risk)", "Applicants")
    fig.update_yaxes(title_text="Default rate", secondary_y=True, **percent_axis(table[rate_col].max()))
    return fig


def plot_points_distribution(points, y, *, cut_points: float | None = None) -> go.Figure:
    """Histogram of scorecard points for good applicants and defaulters."""
    points, y = np.asarray(points, dtype=float), np.asarray(y).astype(int)
    fig = go.Figure()
    for cls, name, color in ((0, "repaid", NEG_COLOR), (1, "defaulted", POS_COLOR)):
        fig.add_histogram(x=points[y == cls], name=name, marker_color=color, opacity=0.6,
                          histnorm="probability", nbinsx=40)
    fig.update_layout(barmode="overlay")
    if cut_points is not None:
        fig.add_vline(x=cut_points, line_dash="dash", annotation_text="decline below")
    return _layout(fig, "Score points by outcome", "Score points (higher = safer)", "Share of group")


def plot_psi(table: pd.DataFrame) -> go.Figure:
    """PSI per variable, coloured stable / watch / shifted, with the 0.1 and 0.25 lines."""
    d = table.iloc[::-1]
    fig = go.Figure(go.Bar(x=d["psi"], y=d["variable"], orientation="h",
                           marker_color=d["status"].map(STATUS_COLORS), text=d["status"],
                           hovertemplate="%{y}: PSI %{x:.3f}"))
    fig.add_vline(x=0.1, line_dash="dot", line_color=STATUS_COLORS["watch"])
    fig.add_vline(x=0.25, line_dash="dot", line_color=STATUS_COLORS["shifted"])
    return _layout(fig, "Population stability (PSI)", "PSI", "", height=140 + 24 * len(d))


def plot_fairness(table: pd.DataFrame) -> go.Figure:
    """Approval rate per group with the four-fifths line drawn at 80 % of the best group's rate."""
    colors = np.where(table["four_fifths"] == "FLAG", POS_COLOR, PALETTE[0])
    fig = go.Figure(go.Bar(x=table["group"].astype(str), y=table["approval_rate"], marker_color=colors,
                           text=[f"DI {v:.2f}" for v in table["di_ratio"]], name="approval rate"))
    best = float(table["approval_rate"].max()) if len(table) else 0.0
    fig.add_hline(y=0.8 * best, line_dash="dot", line_color=POS_COLOR, annotation_text="four-fifths line")
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, "Approval rate by group", "Group", "Approval rate", height=340)
