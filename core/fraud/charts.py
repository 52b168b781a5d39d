"""Plotly figures for the fraud page: savings curve, decision bands, per-day precision, imbalance."""

from __future__ import annotations

from typing import Mapping

import pandas as pd
import plotly.graph_objects as go

from core.present.charts import PALETTE, _layout

BAND_COLORS = {"approve": "#16a34a", "review": "#f59e0b", "block": "#dc2626"}


def plot_savings_curve(curve: pd.DataFrame, *, current_alerts: float, best_alerts: float,
                       currency: str = "") -> go.Figure:
    """Savings and total cost against the number of alerts (riskiest first)."""
    fig = go.Figure()
    fig.add_scatter(x=curve["alerts"], y=curve["savings"], mode="lines", name="Savings vs no model",
                    line=dict(color=PALETTE[2], width=3),
                    customdata=curve[["threshold", "fraud_caught"]].to_numpy(),
                    hovertemplate="alerts %{x}<br>savings %{y:,.0f}<br>threshold %{customdata[0]:.3f}"
                                  "<br>frauds caught %{customdata[1]:.0f}")
    fig.add_scatter(x=curve["alerts"], y=curve["total_cost"], mode="lines", name="Total cost",
                    line=dict(color=PALETTE[4], dash="dot"))
    fig.add_vline(x=current_alerts, line_dash="dash", line_color="#444", annotation_text="current")
    fig.add_vline(x=best_alerts, line_dash="dot", line_color=PALETTE[2], annotation_text="optimal",
                  annotation_position="bottom right")
    # The interesting part is the first few hundred alerts; show up to four times the optimum.
    right = min(float(curve["alerts"].max()), max(4 * float(best_alerts), 100.0, 1.5 * float(current_alerts)))
    fig.update_xaxes(range=[0, right])
    # The y axis fits the lines where they are shown: past the right edge the cost of reviewing every
    # transaction runs to hundreds of thousands, which would flatten the part on screen to a line at 0.
    shown = curve[curve["alerts"] <= right]
    low = min(float(shown["savings"].min()), float(shown["total_cost"].min()), 0.0)
    high = max(float(shown["savings"].max()), float(shown["total_cost"].max()), 0.0)
    pad = 0.08 * ((high - low) or 1.0)
    fig.update_yaxes(range=[low - pad if low < 0 else 0.0, high + pad])
    return _layout(fig, "Cost and savings by number of alerts", "Alerts in the test period (riskiest first)",
                   f"Money {currency}".strip())


def plot_decision_bands(bands: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Genuine and fraud money per band (approve / review / block), side by side, each figure written on
    its bar. The approve band holds nearly all the money, so the axis is logarithmic: review and block
    bands stay visible instead of a single bar."""
    import numpy as np

    from core.present.money import format_money

    fig = go.Figure()
    genuine = (bands["amount"] - bands["fraud_amount"]).clip(lower=0)
    for name, values, color in (("Genuine money", genuine, "#94a3b8"), ("Fraud money", bands["fraud_amount"], PALETTE[4])):
        v = values.astype(float).to_numpy()
        fig.add_bar(x=bands["band"], y=np.where(v > 0, v, np.nan), name=name, marker_color=color,
                    text=[format_money(x, currency) if x > 0 else "" for x in v], textposition="outside",
                    cliponaxis=False)
    fig.update_layout(barmode="group")
    fig.update_yaxes(type="log", tickformat="~s")
    unit = f" ({str(currency).upper()}, log scale)" if currency else " (log scale)"
    return _layout(fig, "Money at stake per decision band", "Band", f"Amount{unit}", height=320)


def plot_precision_per_day(per_day: Mapping[str, pd.DataFrame], column: str, title: str) -> go.Figure:
    """One line per model: a per-day precision column (``day`` on the x axis)."""
    fig = go.Figure()
    for i, (name, d) in enumerate(per_day.items()):
        fig.add_scatter(x=d["day"], y=d[column], mode="lines+markers", name=name,
                        line=dict(color=PALETTE[i % len(PALETTE)]))
    return _layout(fig, title, "Day", "Precision", height=320)


def plot_imbalance_comparison(table: pd.DataFrame, recall_col: str) -> go.Figure:
    """PR-AUC and recall at the fixed precision per strategy (bars), training time on hover."""
    ok = table[table["error"].fillna("") == ""] if "error" in table else table
    fig = go.Figure()
    fig.add_bar(x=ok["method"], y=ok["pr_auc"], name="PR-AUC", marker_color=PALETTE[0],
                customdata=ok["train_seconds"], hovertemplate="%{x}<br>PR-AUC %{y:.3f}<br>%{customdata:.1f} s")
    fig.add_bar(x=ok["method"], y=ok[recall_col], name=recall_col.replace("_", " "),
                marker_color=PALETTE[1])
    fig.update_layout(barmode="group")
    return _layout(fig, "Imbalance strategies side by side", "Strategy", "Score", height=340)


def plot_alert_capture(alerts_per_day, caught_share, *, current: float, what: str = "fraud amount") -> go.Figure:
    """Share of ``what`` caught against alerts reviewed per day (riskiest first), with the model's
    alert line at ``current`` alerts a day."""
    fig = go.Figure()
    fig.add_scatter(x=alerts_per_day, y=caught_share, mode="lines", name=f"share of {what} caught",
                    line=dict(color=PALETTE[2], width=4),
                    hovertemplate="%{x:,.0f} alerts a day<br>%{y:.0%} caught<extra></extra>")
    fig.add_vline(x=current, line_dash="dash", line_color="#444", line_width=3,
                  annotation_text="the model's alert line", annotation_position="bottom right")
    right = max(4 * float(current), 10.0)
    fig.update_xaxes(range=[0, min(right, float(max(alerts_per_day)) if len(alerts_per_day) else right)])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return _layout(fig, f"Share of {what} caught, by alerts reviewed per day", "Alerts reviewed per day (riskiest first)",
                   f"Share of {what} caught")
