"""The monitor's charts over time: data in (a ``MonitorReport``), ``go.Figure`` out."""

from __future__ import annotations

import plotly.graph_objects as go

from core.present.charts import PALETTE, _layout
from core.monitor.alerts import PSI_ALERT

WATCH = 0.1  # core.data.drift.psi_status: below 0.1 stable, 0.1 to 0.25 watch, above 0.25 shifted


def _x(report) -> list[str]:
    return [p.start.date().isoformat() for p in report.periods]


def _axis_title(report) -> str:
    return f"{report.by.capitalize()} starting"


def plot_monitor_volume(report) -> go.Figure:
    """Rows scored per period, and how many of them have their outcome back."""
    x = _x(report)
    fig = go.Figure([
        go.Bar(x=x, y=[p.rows for p in report.periods], name="Rows scored", marker_color=PALETTE[0]),
        go.Bar(x=x, y=[int(p.realized.get("labelled_rows") or 0) for p in report.periods], name="With outcome",
               marker_color=PALETTE[2]),
    ])
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    return _layout(fig, "Rows scored and outcomes received", _axis_title(report), "Rows")


def plot_monitor_psi(report, *, top: int = 6) -> go.Figure:
    """PSI per period of the score and of the inputs that drifted most, with the 0.1 / 0.25 bands."""
    from core.present.glossary import feature_label

    x = _x(report)
    names = sorted({k for p in report.periods for k in p.psi if k != "score"},
                   key=lambda c: -max(p.psi.get(c, 0.0) for p in report.periods))[:top]
    fig = go.Figure()
    if any("score" in p.psi for p in report.periods):
        fig.add_trace(go.Scatter(x=x, y=[p.psi.get("score") for p in report.periods], name="Model score",
                                 mode="lines+markers", line=dict(color="#111827", width=3)))
    for i, c in enumerate(names):
        fig.add_trace(go.Scatter(x=x, y=[p.psi.get(c) for p in report.periods], name=feature_label(c),
                                 mode="lines+markers", line=dict(color=PALETTE[i % len(PALETTE)])))
    for level, text in ((WATCH, "watch"), (PSI_ALERT, "shifted")):
        fig.add_hline(y=level, line=dict(color="#9ca3af", dash="dot"), annotation_text=text,
                      annotation_position="top left")
    fig.update_xaxes(type="category")
    top_value = max([v or 0.0 for p in report.periods for v in p.psi.values()] + [0.3])
    fig.update_yaxes(range=[0, top_value * 1.1])
    return _layout(fig, "Drift over time (PSI against the training data)", _axis_title(report), "PSI")


def plot_monitor_metric(report, metric: str) -> go.Figure:
    """One metric per period: realized (solid), estimated before labels (dashed), the test figure
    (and its 95 % interval for the headline ROC-AUC)."""
    labels = report.metric_labels()
    name = labels.get(metric, metric)
    x = _x(report)
    fig = go.Figure()
    if report.interval is not None and metric == report.spec.headline:
        lo, hi = report.interval
        fig.add_hrect(y0=lo, y1=hi, fillcolor=PALETTE[2], opacity=0.12, line_width=0,
                      annotation_text="test 95% interval", annotation_position="bottom left")
    if report.test.get(metric) is not None:
        fig.add_hline(y=report.test[metric], line=dict(color=PALETTE[2], dash="dash"),
                      annotation_text=f"test {report.test[metric]:.3f}", annotation_position="top left")
    realized = [p.realized.get(metric) for p in report.periods]
    if any(v is not None for v in realized):
        fig.add_trace(go.Scatter(x=x, y=realized, name=f"Realized {name}", mode="lines+markers",
                                 line=dict(color=PALETTE[0], width=3)))
    estimated = [p.estimated.get(metric) for p in report.periods]
    if any(v is not None for v in estimated):
        fig.add_trace(go.Scatter(x=x, y=estimated, name=f"Estimated {name} (before labels)", mode="lines+markers",
                                 line=dict(color=PALETTE[1], dash="dash")))
    # Half a period of room at each end, so the test line's label never sits on the first point.
    fig.update_xaxes(type="category", range=[-0.5, len(x) - 0.5])
    shown = [v for v in [*realized, *estimated, report.test.get(metric)] if v is not None]
    if report.interval is not None and metric == report.spec.headline:
        shown += list(report.interval)
    if shown:  # the test band and every point in view, with a margin
        low, high = min(shown), max(shown)
        pad = max((high - low) * 0.15, 0.01)
        fig.update_yaxes(range=[low - pad, high + pad])
    fig = _layout(fig, f"{name} over time", _axis_title(report), name)
    return fig.update_layout(showlegend=True)  # says which line is which even before any label came back


def plot_monitor_decisions(report) -> go.Figure:
    """Share of each decision per period, stacked, with the share on the test rows as a marker line."""
    x = _x(report)
    names = list(dict.fromkeys([*report.spec.decision_names, *[d for p in report.periods for d in p.decisions]]))
    fig = go.Figure()
    for i, d in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Bar(x=x, y=[p.decisions.get(d, 0.0) for p in report.periods], name=d, marker_color=color))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    if report.reference_mix:
        cumulative = 0.0
        for d in names:
            share = report.reference_mix.get(d, 0.0)
            cumulative += share
            if 0 < cumulative < 0.999:
                fig.add_hline(y=cumulative, line=dict(color="#111827", dash="dot", width=1),
                              annotation=dict(text=f"test rows: {d} {share:.0%}", bgcolor="rgba(255,255,255,0.85)",
                                              font=dict(size=11)), annotation_position="top left")
    return _layout(fig, "Decision mix over time (dotted: on the test rows)", _axis_title(report), "Share of rows")
