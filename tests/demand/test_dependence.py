"""Demand's SHAP dependence: the readable values of the network's inputs are read back as the numbers they
show, inputs that do not vary are left out with a message, and the chart speaks demand's words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demand.dependence import (get_demand_dependence, get_dependence_inputs, plot_demand_dependence,
                                    readable_values)
from core.demand.labels import SHAP_AXIS, demand_label
from core.errors import DataValidationError
from core.ml.explain import ShapResult

N = 40


def _shap(seed: int = 0) -> ShapResult:
    """Readable values as core.demand.explain writes them, with SHAP values that follow two of them."""
    rng = np.random.default_rng(seed)
    lag1 = rng.integers(0, 100, N).astype(float)
    promo = rng.integers(0, 29, N)
    days = pd.date_range("2025-01-06", periods=N, freq="D")
    data = pd.DataFrame({
        "lag 1": lag1,
        "past promo": [f"{k} of 28 periods" for k in promo],
        "past price": [f"mean {p:.4g}" for p in rng.uniform(1, 3, N)],
        "level change vs a year before": [f"{c:+.0f} %" for c in rng.integers(-40, 40, N)],
        "aligned seasonal reference": [f"{v:.2f} ({d.date()})" for v, d in zip(lag1 * 0.9, days)],
        "day of week": [d.day_name() for d in days],
        "day of year": [str(d.date()) for d in days],
        "horizon position": ["all steps"] * N,
        "store group seasonal reference": [""] * N,
    }, dtype=object)
    values = rng.normal(0, 0.01, (N, data.shape[1]))
    values[:, 0] = (lag1 - lag1.mean()) / 200  # lag 1 matters most, rising
    values[:, 1] = -(promo - promo.mean()) / 100  # more promo days in the window: less forecast
    return ShapResult(values=values, base_value=0.1, data=data, feature_names=list(data.columns),
                      predictions=values.sum(axis=1) + 0.1)


def test_readable_values_are_read_back_as_the_numbers_they_show():
    assert readable_values("past promo", pd.Series(["3 of 28 periods", ""])).tolist()[0] == 3.0
    assert np.isnan(readable_values("past promo", pd.Series(["3 of 28 periods", ""]))[1])
    assert readable_values("x", pd.Series(["mean 2.85", "+14 %", "-33 %", "58.00 (2025-03-18)", "week 12", "step 3",
                                           "1.5e+03", 7])).tolist() == [2.85, 14.0, -33.0, 58.0, 12.0, 3.0, 1500.0, 7.0]
    assert readable_values("day of year", pd.Series(["2025-02-01", ""])).tolist()[0] == 32.0
    days = readable_values("day of week", pd.Series(["Sunday", "Monday", ""]))
    assert days.cat.ordered and list(days.cat.categories[:2]) == ["Monday", "Tuesday"] and days.isna().tolist()[2]
    promo = readable_values("promo (forecast period)", pd.Series([1.0, 0.0, ""]))
    assert promo.astype(str).tolist()[:2] == ["yes", "no"] and promo.cat.ordered and promo.isna().tolist()[2]
    assert readable_values("price (forecast period)", pd.Series([1.0, 2.5])).tolist() == [1.0, 2.5]
    months = readable_values("month", pd.Series(["March", "January"]))
    assert months.cat.codes.tolist() == [2, 0]


def test_inputs_that_vary_in_order_of_importance():
    shap = _shap()
    numeric, inputs = get_dependence_inputs(shap)
    assert inputs[:2] == ["lag 1", "past promo"]
    assert "horizon position" not in inputs and "store group seasonal reference" not in inputs
    assert set(inputs) == set(shap.feature_names) - {"horizon position", "store group seasonal reference"}
    j = shap.feature_names.index("past promo")
    assert numeric.values[:, inputs.index("past promo")].tolist() == shap.values[:, j].tolist()
    assert numeric.data["past promo"].dtype == float


def test_dependence_follows_the_shap_values_and_finds_the_interaction():
    shap = _shap()
    dep = get_demand_dependence(shap, "past promo", color_by=None)
    assert np.corrcoef(dep.values.to_numpy(dtype=float), dep.shap)[0, 1] < -0.99
    assert dep.color is None
    coloured = get_demand_dependence(shap, "lag 1")
    # The aligned reference is 0.9 x lag 1 here: it explains nothing lag 1's own value does not; some input is chosen.
    assert coloured.color_by in get_dependence_inputs(shap)[1] and coloured.color_by != "lag 1"
    by_day = get_demand_dependence(shap, "lag 1", color_by="day of week")
    assert by_day.color.cat.ordered


def test_unsupported_inputs_are_clear_messages():
    shap = _shap()
    with pytest.raises(DataValidationError, match=r"'horizon position' has no dependence to show: it takes only "
                                                  r"\['all steps'\] in the explained windows\. Expected one of the "
                                                  r"inputs that vary \(\['lag 1', 'past promo'.*Fix: pick one of those"):
        get_demand_dependence(shap, "horizon position")
    with pytest.raises(DataValidationError, match=r"'store group seasonal reference' has no dependence to show: it "
                                                  r"takes no value"):
        get_demand_dependence(shap, "store group seasonal reference")
    with pytest.raises(DataValidationError, match=r"must be one of the network's inputs .*got 'price'\. Fix: pick"):
        get_demand_dependence(shap, "price")
    flat = ShapResult(values=np.zeros((N, 2)), base_value=0.0,
                      data=pd.DataFrame({"horizon position": ["all steps"] * N, "lag 1": [4.0] * N}),
                      feature_names=["horizon position", "lag 1"], predictions=np.zeros(N))
    with pytest.raises(DataValidationError, match=r"needs an input that takes at least two values in the explained "
                                                  r"windows; none of the 2 inputs does in these 40\. Fix: compute"):
        get_dependence_inputs(flat)


def test_chart_in_demand_words():
    shap = _shap()
    fig = plot_demand_dependence(get_demand_dependence(shap, "level change vs a year before"), axis=SHAP_AXIS,
                                 labeller=demand_label)
    assert fig.layout.xaxis.title.text == "Change in demand level vs a year before (%)"
    assert fig.layout.xaxis.ticksuffix == " %" and fig.layout.yaxis.title.text == SHAP_AXIS
    assert fig.layout.title.text == "SHAP dependence: Change in demand level vs a year before"
    days = plot_demand_dependence(get_demand_dependence(shap, "day of week", color_by=None), axis=SHAP_AXIS,
                                  labeller=demand_label)
    # Weekdays in the week's order, not alphabetical.
    assert list(days.layout.xaxis.ticktext) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                                "Sunday"]
    lag = plot_demand_dependence(get_demand_dependence(shap, "lag 1", color_by="past promo"), axis=SHAP_AXIS,
                                 labeller=demand_label)
    assert lag.layout.xaxis.title.text.startswith("Demand in the last period before the forecast")
    assert lag.data[0].marker.colorbar.title.text == demand_label("past promo")


def test_every_varying_input_of_a_trained_network_is_offered(small_run):
    """On the network's own SHAP values: no input whose readable value varies is lost in reading it back."""
    from core.demand.explain import compute_global_shap

    shap = compute_global_shap(small_run, n_rows=30).result
    _, inputs = get_dependence_inputs(shap)
    varying = [f for f in shap.feature_names if shap.data[f].astype(str).str.strip().replace("", np.nan).nunique() >= 2]
    assert set(inputs) == set(varying) and any(f.startswith("lag ") for f in inputs)
    for f in inputs:
        dep = get_demand_dependence(shap, f, color_by=None)
        assert len(dep.shap) == 30
