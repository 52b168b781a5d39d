"""Lift and cumulative gains: how many of the positives (defaulters, frauds) a team catches by acting on
the riskiest x % of cases, against acting at random and against a perfect ranking.

Rows are ranked by score, riskiest first (ties keep their order in the data, so the figures are
reproducible); deciles are ten groups of equal size by rank (the first ``n % 10`` groups one row
larger), as the scorecard and marketing trades count them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MAX_CURVE_POINTS = 1001


def _check(y, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if len(y) != len(s):
        raise DataValidationError(f"Lift needs one score per outcome; got {len(y):,} outcomes and {len(s):,} scores. "
                                  "Fix: pass the scores of the same rows.")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1, True, False}:
        raise DataValidationError(f"Lift needs outcomes coded 0 / 1; got the values {sorted(map(str, values))[:5]}. "
                                  "Fix: map the positive outcome to 1 and the others to 0.")
    if not np.isfinite(s).all():
        raise DataValidationError(f"Lift needs a score for every row; {int((~np.isfinite(s)).sum()):,} are missing. "
                                  "Fix: score every row before ranking.")
    y = y.astype(int)
    if y.sum() == 0:
        raise DataValidationError(f"Lift counts positives caught, and none of the {len(y):,} rows is positive. "
                                  "Fix: use test rows that include positive outcomes.")
    return y, s


def compute_gains_curve(y, score) -> pd.DataFrame:
    """The cumulative gains curve: ``share_acted`` (share of rows acted on, riskiest first, 0 to 1)
    against ``share_caught`` (share of all positives among them), with ``perfect`` (a ranking that
    puts every positive first) and ``lift`` (share caught / share acted). At most MAX_CURVE_POINTS rows."""
    y, s = _check(y, score)
    order = np.argsort(-s, kind="stable")
    caught = np.concatenate([[0], np.cumsum(y[order])])
    n, pos = len(y), int(y.sum())
    at = np.unique(np.linspace(0, n, min(n + 1, MAX_CURVE_POINTS)).round().astype(int))
    acted = at / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(at > 0, (caught[at] / pos) / acted, np.nan)
    return pd.DataFrame({"share_acted": acted, "rows": at, "caught": caught[at], "share_caught": caught[at] / pos,
                         "perfect": np.minimum(at, pos) / pos, "lift": lift})


def compute_decile_table(y, score, *, groups: int = 10) -> pd.DataFrame:
    """One row per group of rows by rank (decile 1 = the riskiest tenth): rows, score range,
    positives, positive rate, lift (the group's rate over the overall rate), and the cumulative
    positives, share of all positives caught (gain) and lift down to that group."""
    y, s = _check(y, score)
    if not 2 <= groups <= 100:
        raise DataValidationError(f"The table cuts the rows into 2–100 groups; got {groups}. Fix: use 10 (deciles).")
    if len(y) < groups:
        raise DataValidationError(f"Cutting {len(y):,} rows into {groups} groups leaves some empty. "
                                  "Fix: use fewer groups or more rows.")
    order = np.argsort(-s, kind="stable")
    rate = y.mean()
    rows, cum_rows, cum_pos = [], 0, 0
    for g, part in enumerate(np.array_split(order, groups), start=1):
        yp, sp = y[part], s[part]
        cum_rows += len(part)
        cum_pos += int(yp.sum())
        rows.append({"group": g, "rows": len(part), "min_score": float(sp.min()), "max_score": float(sp.max()),
                     "positives": int(yp.sum()), "positive_rate": float(yp.mean()), "lift": float(yp.mean() / rate),
                     "cumulative_rows": cum_rows, "cumulative_share": cum_rows / len(y),
                     "cumulative_positives": cum_pos, "cumulative_gain": cum_pos / int(y.sum()),
                     "cumulative_lift": float((cum_pos / cum_rows) / rate)})
    return pd.DataFrame(rows)


def plain_decile_table(table: pd.DataFrame, *, positives: str = "positives", group: str = "Decile") -> pd.DataFrame:
    """The decile table with headers a reader knows (``positives``: "defaulters", "frauds"), for the
    page and the download."""
    return table.rename(columns={
        "group": group, "rows": "Rows", "min_score": "Lowest score", "max_score": "Highest score",
        "positives": positives.capitalize(), "positive_rate": f"Share of {positives}", "lift": "Lift",
        "cumulative_rows": "Rows down to here", "cumulative_share": "Share of rows down to here",
        "cumulative_positives": f"{positives.capitalize()} down to here",
        "cumulative_gain": f"Share of all {positives} caught", "cumulative_lift": "Cumulative lift"})


# ---------------------------------------------------------------- charts
def plot_cumulative_gains(curves: dict[str, pd.DataFrame], *, acted: str = "Share acted on",
                          caught: str = "Share of positives caught", mark: float | None = None):
    """Cumulative gains of one or more models (``name -> compute_gains_curve``), with the random
    diagonal and the perfect ranking; ``mark`` draws a line at a share acted on."""
    import plotly.graph_objects as go

    from core.present.charts import PALETTE, _layout, _legend_inside

    fig = go.Figure()
    first = next(iter(curves.values()))
    fig.add_scatter(x=first["share_acted"], y=first["perfect"], mode="lines", name="perfect ranking",
                    line=dict(color="#111827", dash="dash", width=1.5))
    for i, (name, c) in enumerate(curves.items()):
        fig.add_scatter(x=c["share_acted"], y=c["share_caught"], mode="lines", name=name,
                        line=dict(color=PALETTE[i % 7 if i else 0], width=3 if i == 0 else 2),
                        hovertemplate="riskiest %{x:.0%}: %{y:.1%} caught<extra>" + name + "</extra>")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="random", line=dict(color="#999", dash="dot"))
    if mark is not None:
        fig.add_vline(x=mark, line_dash="dash", line_color="#444")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _legend_inside(_layout(fig, "Cumulative gains", acted, caught), "bottom right")


def plot_lift(table: pd.DataFrame, *, group: str = "Decile"):
    """Lift per group (bars) and cumulative lift (line), with the random level at 1."""
    import plotly.graph_objects as go

    from core.present.charts import PALETTE, _layout

    fig = go.Figure()
    fig.add_bar(x=table["group"], y=table["lift"], name="lift of the group", marker_color=PALETTE[0],
                hovertemplate=f"{group} %{{x}}: lift %{{y:.2f}}<extra></extra>")
    fig.add_scatter(x=table["group"], y=table["cumulative_lift"], mode="lines+markers", name="cumulative lift",
                    line=dict(color=PALETTE[1]), hovertemplate=f"down to {group.lower()} %{{x}}: %{{y:.2f}}<extra></extra>")
    fig.add_hline(y=1, line_dash="dot", line_color="#999", annotation_text="random",
                  annotation_position="top right")
    fig.update_xaxes(tickmode="array", tickvals=table["group"].tolist())
    return _layout(fig, f"Lift by {group.lower()} (1 = riskiest)", group, "Lift")
