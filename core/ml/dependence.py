"""How one feature moves a tabular network's prediction: SHAP dependence and partial dependence.

* SHAP dependence reuses the SHAP values a page already computed (``core.ml.explain.ShapResult``): each
  explained row's SHAP value for the feature against the feature's value, coloured by the feature
  that interacts with it most (the heuristic of shap's ``approximate_interactions``) or by the outcome.
* Partial dependence sweeps the feature over its quantiles (or its most frequent categories) on a
  seeded sample of rows and averages the network's predictions, in one batched model call; the ICE
  lines are the same sweep for a few single rows.

Charts are Plotly, in the feature's own units (``core.present.units``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list, short_text

MAX_CATEGORIES = 20


@dataclass(frozen=True)
class ShapDependence:
    """One feature's SHAP values against its values; ``color`` is ``color_by``'s value per row."""

    feature: str
    values: pd.Series  # the feature's values, one per explained row
    shap: np.ndarray
    color_by: str | None  # the interacting feature, "outcome", or None
    color: pd.Series | None


@dataclass(frozen=True)
class PartialDependence:
    """The network's average prediction as ``feature`` takes each ``grid`` value, on ``n_rows`` rows."""

    feature: str
    grid: list  # numbers, or category values
    average: np.ndarray  # one per grid value
    ice: np.ndarray  # (ice rows, grid values)
    categorical: bool
    n_rows: int
    actual: np.ndarray  # the sample's own average prediction (grid-independent reference)


def _check_feature(feature, names) -> str:
    if feature not in list(names):
        raise DataValidationError(
            f"The feature to plot must be one of the model's features ({short_list(list(names), limit=12)}); "
            f"got '{short_text(str(feature))}'. Fix: pick a feature from the list.")
    return feature


def _as_numbers(s: pd.Series) -> np.ndarray | None:
    """The values as floats when the column is numeric (most present values read as numbers)."""
    num = pd.to_numeric(s, errors="coerce")
    present = s.notna()
    if present.sum() == 0 or num[present].isna().mean() > 0.5:
        return None
    return num.to_numpy(dtype=float)


def _categories(s: pd.Series) -> list[str]:
    """The categories of ``s`` as the x axis lists them: an ordered category's order (weekdays), else sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.ordered:
        present = set(s.dropna().astype(str))
        return [str(c) for c in s.cat.categories if str(c) in present]
    return sorted(s.astype(str).unique())


def _codes(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.ordered:  # low to high in the category's own order
        return np.where(s.cat.codes.to_numpy() < 0, np.nan, s.cat.codes.to_numpy()).astype(float)
    num = _as_numbers(s)
    if num is not None:
        return num
    return pd.Series(s).astype(str).astype("category").cat.codes.to_numpy(dtype=float)


def find_interaction(shap, feature: str, *, bins: int | None = None) -> str | None:
    """The feature whose value best explains the spread of ``feature``'s SHAP values at a similar
    value of ``feature``: rows sorted by ``feature`` are cut into bins and, inside each, the SHAP
    values are correlated with each other feature (shap's ``approximate_interactions``). None when
    there is no other feature or every correlation is zero."""
    _check_feature(feature, shap.feature_names)
    j = list(shap.feature_names).index(feature)
    order = np.argsort(_codes(shap.data[feature]), kind="stable")
    sv = shap.values[order, j]
    n = len(sv)
    bins = bins or max(1, min(50, n // 10))
    edges = np.linspace(0, n, bins + 1).astype(int)
    best, best_score = None, 0.0
    for other in shap.feature_names:
        if other == feature:
            continue
        x = _codes(shap.data[other])[order]
        score = 0.0
        for a, b in zip(edges[:-1], edges[1:]):
            xs, ss = x[a:b], sv[a:b]
            ok = ~np.isnan(xs)
            if ok.sum() > 2 and np.std(xs[ok]) > 0 and np.std(ss[ok]) > 0:
                score += abs(np.corrcoef(xs[ok], ss[ok])[0, 1])
        if score > best_score:
            best, best_score = other, score
    return best


def get_shap_dependence(shap, feature: str, *, color_by: str | None = "interaction",
                        outcome=None) -> ShapDependence:
    """``feature``'s SHAP values against its values, coloured by ``color_by``: "interaction" (the
    strongest interacting feature), "outcome" (``outcome``: one label per explained row), another
    feature's name, or None."""
    _check_feature(feature, shap.feature_names)
    j = list(shap.feature_names).index(feature)
    color = None
    if color_by == "interaction":
        color_by = find_interaction(shap, feature)
    if color_by == "outcome":
        if outcome is None or len(outcome) != len(shap.values):
            got = "none" if outcome is None else f"{len(outcome):,}"
            raise DataValidationError(
                f"Colouring by outcome needs one outcome per explained row ({len(shap.values):,}); got {got}. "
                "Fix: colour by the interacting feature instead.")
        color = pd.Series(np.asarray(outcome)).reset_index(drop=True)
    elif color_by is not None:
        _check_feature(color_by, shap.feature_names)
        color = shap.data[color_by].reset_index(drop=True)
    return ShapDependence(feature=feature, values=shap.data[feature].reset_index(drop=True),
                          shap=np.asarray(shap.values[:, j], dtype=float), color_by=color_by, color=color)


def feature_grid(column: pd.Series, *, points: int = 20) -> tuple[list, bool]:
    """The values a partial-dependence sweep takes: the column's quantiles from 1 % to 99 % (distinct
    values only; a column with few values takes each), or its most frequent categories."""
    present = column.dropna()
    num = _as_numbers(present) if len(present) else None
    if num is None:
        cats = sorted(present.astype(str).value_counts().index[:MAX_CATEGORIES].tolist())
        if len(cats) < 2:
            raise DataValidationError(
                f"Partial dependence needs a feature with at least two values; '{short_text(str(column.name))}' "
                f"has {len(cats)} in these rows. Fix: pick another feature.")
        return cats, True
    distinct = np.unique(num[~np.isnan(num)])
    if len(distinct) < 2:
        raise DataValidationError(
            f"Partial dependence needs a feature with at least two values; '{short_text(str(column.name))}' "
            f"has {len(distinct)} in these rows. Fix: pick another feature.")
    if len(distinct) <= points:
        return distinct.tolist(), False
    grid = np.unique(np.quantile(num[~np.isnan(num)], np.linspace(0.01, 0.99, points)))
    whole = bool(np.all(distinct % 1 == 0))
    return (np.unique(np.round(grid)) if whole else grid).tolist(), False


def compute_partial_dependence(predict_fn: Callable[[pd.DataFrame], np.ndarray], rows: pd.DataFrame, feature: str,
                               *, grid_points: int = 20, sample_rows: int = 300, ice_rows: int = 10,
                               seed: int = 0) -> PartialDependence:
    """The partial-dependence curve of ``feature`` and ICE lines for ``ice_rows`` single rows.

    ``predict_fn`` takes raw rows (the model's columns) and returns probabilities; it is called once,
    on ``min(sample_rows, len(rows)) x len(grid)`` rows. The grid comes from ``rows`` themselves."""
    _check_feature(feature, rows.columns)
    if len(rows) == 0:
        raise DataValidationError("Partial dependence needs rows to average over; got none. Fix: train a model first.")
    if not 2 <= grid_points <= 100 or sample_rows < 1 or ice_rows < 0:
        raise DataValidationError(
            f"Partial dependence takes 2–100 grid points, at least one row and no negative ICE lines; got "
            f"{grid_points} points, {sample_rows} rows, {ice_rows} ICE lines. Fix: use the defaults.")
    grid, categorical = feature_grid(rows[feature], points=grid_points)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(rows), min(sample_rows, len(rows)), replace=False))
    sample = rows.iloc[take].reset_index(drop=True)
    swept = pd.concat([sample] * len(grid), ignore_index=True)
    swept[feature] = np.repeat(np.asarray(grid, dtype=object if categorical else float), len(sample))
    if not categorical and pd.api.types.is_integer_dtype(rows[feature]):
        swept[feature] = swept[feature].round().astype(rows[feature].dtype)
    preds = np.asarray(predict_fn(swept), dtype=float).reshape(len(grid), len(sample))
    ice_at = np.linspace(0, len(sample) - 1, min(ice_rows, len(sample))).round().astype(int) if ice_rows else []
    return PartialDependence(feature=feature, grid=list(grid), average=preds.mean(axis=1),
                             ice=preds[:, ice_at].T if len(ice_at) else np.empty((0, len(grid))),
                             categorical=categorical, n_rows=len(sample),
                             actual=np.asarray(predict_fn(sample), dtype=float))


# ---------------------------------------------------------------- charts
def _unit_axis(fig, name, values, currency, label=None):
    from core.present.units import axis_format, axis_title, value_kind

    kind = value_kind(name, values)
    title = axis_title(name, kind, currency)
    if label is not None:  # a scenario's own words for the feature, with the unit the axis title adds
        title = label + title[len(axis_title(name, "number", currency)):]
    fig.update_xaxes(title=title, **axis_format(kind))
    return kind


def plot_shap_dependence(dep: ShapDependence, *, currency: str | None = None, outcome_names=("no", "yes"),
                         seed: int = 0, labeller=None):
    """One dot per explained row: the feature's value (x, in its units) against its SHAP value (y);
    ``labeller(name)`` names features (default ``core.present.glossary.feature_label``)."""
    import plotly.graph_objects as go

    from core.present.charts import NEG_COLOR, POS_COLOR, _layout
    from core.present.glossary import feature_label as plain
    from core.present.units import value_kind, value_text

    feature_label = labeller or plain
    x = _as_numbers(dep.values)
    kind = value_kind(dep.feature, dep.values)
    texts = [value_text(v, kind, currency) for v in dep.values]
    if x is None:  # categories: a little jitter around each category's position
        cats = _categories(dep.values)
        pos = dep.values.astype(str).map({c: i for i, c in enumerate(cats)}).to_numpy(dtype=float)
        x = pos + np.random.default_rng(seed).uniform(-0.25, 0.25, len(pos))
    fig = go.Figure()
    if dep.color_by == "outcome":
        y = np.asarray(dep.color).astype(int)
        for cls, color in ((0, NEG_COLOR), (1, POS_COLOR)):
            m = y == cls
            fig.add_scatter(x=x[m], y=dep.shap[m], mode="markers", name=f"actual {outcome_names[cls]}",
                            marker=dict(size=6, color=color, opacity=0.65),
                            text=[texts[i] for i in np.flatnonzero(m)],
                            hovertemplate="%{text}<br>SHAP %{y:.4f}<extra></extra>")
    else:
        marker = dict(size=6, opacity=0.8, color=NEG_COLOR)
        hover = "%{text}<br>SHAP %{y:.4f}<extra></extra>"
        if dep.color is not None:
            ckind = value_kind(dep.color_by, dep.color)
            c = _codes(dep.color)
            lo, hi = (np.nanpercentile(c, 5), np.nanpercentile(c, 95)) if np.isfinite(c).any() else (0, 0)
            scaled = np.clip((c - lo) / (hi - lo), 0, 1) if hi > lo else np.full(len(c), 0.5)
            marker.update(color=np.nan_to_num(scaled, nan=0.5), colorscale="RdBu_r", cmin=0, cmax=1, showscale=True,
                          colorbar=dict(title=feature_label(dep.color_by), tickvals=[0, 1], ticktext=["low", "high"]))
            texts = [f"{t} · {feature_label(dep.color_by)} {value_text(v, ckind, currency)}"
                     for t, v in zip(texts, dep.color)]
        fig.add_scatter(x=x, y=dep.shap, mode="markers", name="rows", showlegend=False, marker=marker, text=texts,
                        hovertemplate=hover)
    fig.add_hline(y=0, line_color="#999", line_dash="dot")
    label = feature_label(dep.feature)
    _layout(fig, f"SHAP dependence: {label}", label, f"SHAP value of {label}")
    if _as_numbers(dep.values) is None:
        cats = _categories(dep.values)
        fig.update_xaxes(tickvals=list(range(len(cats))), ticktext=[c.replace("_", " ") for c in cats], title=label)
    else:
        _unit_axis(fig, dep.feature, dep.values, currency, labeller and label)
    return fig


def plot_partial_dependence(pd_: PartialDependence, *, currency: str | None = None,
                            outcome: str = "Predicted probability", reference: pd.Series | None = None,
                            labeller=None):
    """The average prediction over the grid (thick line) with the ICE lines of single rows (thin);
    ``reference`` (the feature's values) names the unit."""
    import plotly.graph_objects as go

    from core.present.charts import PALETTE, _layout
    from core.present.glossary import feature_label
    from core.present.units import value_kind, value_text

    label = (labeller or feature_label)(pd_.feature)
    kind = "category" if pd_.categorical else value_kind(pd_.feature, reference if reference is not None
                                                          else pd.Series(pd_.grid))
    x = [str(g).replace("_", " ") for g in pd_.grid] if pd_.categorical else pd_.grid
    ticks = [value_text(g, kind, currency) for g in pd_.grid]
    fig = go.Figure()
    for i, line in enumerate(pd_.ice):
        fig.add_scatter(x=x, y=line, mode="lines", line=dict(color="#94a3b8", width=1), opacity=0.6,
                        name="single rows (ICE)", legendgroup="ice", showlegend=i == 0, text=ticks,
                        hovertemplate="%{text}: %{y:.3f}<extra>one row</extra>")
    fig.add_scatter(x=x, y=pd_.average, mode="lines+markers" if pd_.categorical else "lines",
                    line=dict(color=PALETTE[0], width=4), name=f"average over {pd_.n_rows:,} rows",
                    text=ticks, hovertemplate="%{text}: %{y:.3f}<extra>average</extra>")
    _layout(fig, f"Partial dependence: {label}", label, outcome)
    if not pd_.categorical:
        _unit_axis(fig, pd_.feature, reference if reference is not None else pd.Series(pd_.grid), currency,
                   labeller and label)
    return fig
