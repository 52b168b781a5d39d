"""Plain words for the forecasting network's inputs, as its SHAP charts show them.

The network reads engineered inputs ("lag 7", "smoothed seasonal reference"); an analyst reads what
they are: demand a number of periods before the forecast is made, last year's demand for the same
period. ``demand_label`` is the one place those words live (charts take it as their ``labeller``).
"""

from __future__ import annotations

import re

from core.present.glossary import feature_label

_FIXED = {
    "recent level": "Recent demand level",
    "level change vs a year before": "Change in demand level vs a year before",
    "level a year before known": "Level a year before is known",
    "moving average": "Average demand over the last season",
    "horizon step": "Periods ahead",
    "horizon position": "Periods ahead",
    "seasons back": "Seasons back to last year's value",
    "reference known": "Last year's value is known",
    "aligned seasonal reference": "Same period last year (holiday-aligned)",
    "smoothed seasonal reference": "Same period last year, smoothed across stores",
    "reference week before": "Period before last year's",
    "reference week after": "Period after last year's",
    "seasonal naive reference": "Same period last season",
    "day of week": "Day of the week",
    "day of year": "Time of year",
    "week of year": "Week of the year",
    "month": "Month",
}

# The axis of a demand SHAP chart: pushes in the network's own space, log demand against the
# series' recent level, where a small number reads as a percentage.
SHAP_AXIS = "Push on the forecast (+0.10 ≈ 10 % more demand)"


def demand_label(name) -> str:
    """``lag 7`` -> "Demand 7 periods before the forecast"; ``store group seasonal reference`` ->
    "Same period last year, average over the store group"; covariates in words with when they are read."""
    raw = str(name)
    if raw in _FIXED:
        return _FIXED[raw]
    m = re.fullmatch(r"lag (\d+)", raw)
    if m:
        k = int(m.group(1))
        return "Demand in the last period before the forecast" if k == 1 else f"Demand {k} periods before the forecast"
    m = re.fullmatch(r"(.+) group seasonal reference", raw)
    if m:
        return f"Same period last year, average over the {feature_label(m.group(1)).lower()} group"
    m = re.fullmatch(r"past (.+?)(?: \(lag \d+\))?", raw)
    if m:
        return f"{feature_label(m.group(1))} (past periods)"
    m = re.fullmatch(r"(.+) \(forecast period\)", raw)
    if m:
        return f"{feature_label(m.group(1))} (forecast period)"
    return feature_label(raw)


_LEFT_OUT = {"too short": "too short for the input window plus the held-out periods",
             "no test periods after the training data": "without test periods after the training data"}


def describe_excluded(excluded) -> str:
    """One sentence on the series the model left out (``DemandRun.excluded``: series, periods, reason),
    grouped by kind of reason: "2 series left out of the model: both are too short for ..."."""
    kinds: dict[str, int] = {}
    for row in excluded:
        kind = str(row["reason"]).split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    total = sum(kinds.values())
    if not total:
        return ""
    words = {k: _LEFT_OUT.get(k, k) for k in kinds}
    if len(kinds) == 1:
        (kind,) = kinds
        who = "it is" if total == 1 else ("both are" if total == 2 else "all are")
        why = f"{who} {words[kind]}"
    else:
        why = "; ".join(f"{n} {'is' if n == 1 else 'are'} {words[k]}" for k, n in kinds.items())
    return (f"{total} series left out of the model: {why}. The table below gives each one's periods and what "
            f"it needs; a shorter horizon or fewer backtest origins keeps more series in.")
