"""Plotly figures of a search, drawn from its trials (no Optuna import)."""

from __future__ import annotations

import plotly.graph_objects as go

from core.search.engine import STATE_TEXT, SearchProgress, SearchResult

STATE_COLOURS = {"complete": "#1f77b4", "pruned": "#bbbbbb", "stopped": "#ff7f0e", "failed": "#d62728"}


def _params_text(params: dict) -> str:
    from core.present.glossary import setting_label, setting_text

    return "<br>".join(f"{setting_label(k)}: {setting_text(k, v)}" for k, v in params.items())


def plot_optimisation_history(result: SearchResult | SearchProgress) -> go.Figure:
    """Each trial's validation score in trial order, the best so far as a step line, and today's
    recipe (trial 0) as a dashed reference. Takes a finished search or its progress so far."""
    fig = go.Figure()
    for state in ("complete", "pruned", "stopped", "failed"):
        ts = [t for t in result.trials if t.state == state and t.score is not None]
        if ts:
            fig.add_trace(go.Scatter(
                x=[t.number for t in ts], y=[t.score for t in ts], mode="markers", name=STATE_TEXT[state],
                marker=dict(color=STATE_COLOURS[state], size=9),
                text=[_params_text(t.params) for t in ts], hovertemplate="trial %{x}: %{y:.4f}<br>%{text}"))
    xs, ys, best = [], [], None
    for t in result.trials:
        if t.state == "complete":
            if best is None or (t.score > best if result.direction == "maximize" else t.score < best):
                best = t.score
            xs.append(t.number)
            ys.append(best)
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line_shape="hv", name="best so far",
                                 line=dict(color="#2ca02c", width=2)))
    if result.default_score is not None:
        fig.add_hline(y=result.default_score, line_dash="dash", line_color="#7f7f7f",
                      annotation_text="today's recipe", annotation_position="bottom right")
    fig.update_layout(title="Optimisation history", xaxis_title="Trial",
                      yaxis_title=result.metric_label[:1].upper() + result.metric_label[1:],
                      height=360, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_param_importance(result: SearchResult) -> go.Figure:
    """How much each setting explains the spread of validation scores (fANOVA over completed
    trials), largest at the top; an empty chart says why when there are too few trials."""
    from core.present.glossary import setting_label

    items = sorted(result.importances.items(), key=lambda kv: kv[1])
    # Settings under their plain names ("Learning rate"), the raw name in the hover text.
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[setting_label(k) for k, _ in items], orientation="h",
                           customdata=[k for k, _ in items], marker_color="#1f77b4",
                           hovertemplate="%{y} (%{customdata}): %{x:.1%}<extra></extra>"))
    title = "Setting importance"
    if not items:
        title += " (needs at least 3 completed trials)"
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.add_annotation(text="Not enough completed trials to tell which setting matters.", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_title="Share of the score's variance", xaxis_tickformat=".0%",
                      height=80 + 28 * max(len(items), 3), margin=dict(l=10, r=10, t=50, b=10))
    return fig
