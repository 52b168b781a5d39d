"""SHAP dependence for the forecasting network: how one lag, covariate or calendar input moves P50.

Reuses the SHAP values the Explanations tab already holds (``core.demand.explain.DemandShap``, the
overall importance over a seeded sample of training windows): no model call, no Keras. Demand's
readable values are text where a number carries a note ("14 of 28 periods", "mean 2.85",
"+14 %", "58.00 (2025-03-18)", "week 12"); each is read back as the number it shows, weekdays and
months as ordered categories, a 0 / 1 covariate as no / yes, the forecast date as its day of the year. An input whose values do not
vary in the explained windows (the horizon position of an overall importance, a reference a short
history never has) has no dependence to show and is left out of the choice.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.ml.dependence import ShapDependence, get_shap_dependence, plot_shap_dependence
from core.errors import DataValidationError
from core.ml.explain import ShapResult
from core.data.safety import short_list, short_text

MIN_ROWS = 5  # explained windows an input needs a value in before its dependence is drawn
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_NUM = r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
# Readable text -> the number it shows, in the order tried.
_PATTERNS = (re.compile(rf"^({_NUM}) of \d+ periods$"), re.compile(rf"^mean ({_NUM})$"),
             re.compile(rf"^({_NUM}) %$"), re.compile(rf"^({_NUM}) \(\d{{4}}-\d\d-\d\d\)$"),
             re.compile(rf"^week ({_NUM})$"), re.compile(rf"^step ({_NUM})$"))
# The unit a read-back number is in, for the axis (the labeller's words plus this).
UNITS = {"level change vs a year before": "%", "day of year": "day of the year", "week of year": "week"}


def _number(v) -> float:
    if v is None or isinstance(v, bool):
        return float(v) if isinstance(v, bool) else np.nan
    if isinstance(v, (int, float, np.number)):
        return float(v)
    text = str(v).strip()
    for pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            return float(m.group(1))
    try:
        return float(text)
    except ValueError:
        return np.nan


def readable_values(name: str, column: pd.Series) -> pd.Series:
    """``column`` (one demand input's readable values) as numbers, or as an ordered category for
    weekdays and months, or "no" / "yes" for a covariate that is 0 or 1 in the forecast period (promotion,
    holiday); missing where the window had no value."""
    col = column.reset_index(drop=True)
    for names in (WEEKDAYS, MONTHS):
        present = col[col.astype(str).str.strip() != ""]
        if len(present) and present.astype(str).isin(names).all():
            return pd.Series(pd.Categorical(col.where(col.astype(str).isin(names)), categories=list(names),
                                            ordered=True), name=name)
    if name == "day of year":
        dates = pd.to_datetime(col.where(col.astype(str).str.strip() != ""), errors="coerce")
        return pd.Series(dates.dt.dayofyear.astype(float), name=name)
    numbers = pd.Series([_number(v) for v in col], name=name, dtype=float)
    if name.endswith("(forecast period)") and set(numbers.dropna()) == {0.0, 1.0}:  # a yes / no covariate
        return pd.Series(pd.Categorical(numbers.map({0.0: "no", 1.0: "yes"}), categories=["no", "yes"], ordered=True),
                         name=name)
    return numbers


def get_dependence_inputs(shap: ShapResult) -> tuple[ShapResult, list[str]]:
    """The SHAP result with each input's values read back (``readable_values``), restricted to the inputs
    that vary in the explained windows, and those inputs in order of importance (mean |SHAP|)."""
    data = pd.DataFrame({f: readable_values(f, shap.data[f]) for f in shap.feature_names})
    keep = []
    for f in shap.importance()["feature"]:
        present = data[f].dropna()
        if len(present) >= min(MIN_ROWS, len(data)) and present.nunique() >= 2:
            keep.append(f)
    if not keep:
        raise DataValidationError(
            f"A dependence view needs an input that takes at least two values in the explained windows; none of the "
            f"{len(shap.feature_names)} inputs does in these {len(data):,}. Fix: compute the overall importance "
            "again after training on more series or a longer history.")
    cols = [shap.feature_names.index(f) for f in keep]
    numeric = ShapResult(values=np.asarray(shap.values)[:, cols], base_value=shap.base_value, data=data[keep],
                         feature_names=keep, predictions=shap.predictions)
    return numeric, keep


def get_demand_dependence(shap: ShapResult, feature: str, *, color_by: str | None = "interaction") -> ShapDependence:
    """``feature``'s SHAP values against its values, read back as numbers, coloured by ``color_by``: the
    input that changes its effect most ("interaction"), another input's name, or None."""
    numeric, keep = get_dependence_inputs(shap)
    if feature not in keep:
        if feature in shap.feature_names:
            seen = shap.data[feature].astype(str).str.strip()
            seen = seen[seen != ""].unique().tolist()
            raise DataValidationError(
                f"'{short_text(str(feature))}' has no dependence to show: it takes "
                f"{'no value' if not seen else 'only ' + short_list(seen, limit=3)} in the explained windows. Expected "
                f"one of the inputs that vary ({short_list(keep, limit=8)}). Fix: pick one of those.")
        raise DataValidationError(f"The input to plot must be one of the network's inputs ({short_list(keep, limit=8)}); "
                                  f"got '{short_text(str(feature))}'. Fix: pick an input from the list.")
    return get_shap_dependence(numeric, feature, color_by=color_by)


def plot_demand_dependence(dep: ShapDependence, *, axis: str, labeller, currency: str | None = None):
    """``core.ml.dependence.plot_shap_dependence`` in demand's words: the input's plain name and unit on x,
    the push on the forecast (``axis``) on y."""
    fig = plot_shap_dependence(dep, currency=currency, labeller=labeller)
    unit = UNITS.get(dep.feature)
    if unit:
        fig.update_xaxes(title=f"{labeller(dep.feature)} ({unit})", ticksuffix=" %" if unit == "%" else None)
    fig.update_yaxes(title=axis)
    return fig
