"""Plain words for the forecasting network's inputs and for the series a model leaves out."""

from core.demand.charts import plot_error_by_series
from core.demand.labels import demand_label, describe_excluded


def test_demand_inputs_read_as_words():
    assert demand_label("lag 7") == "Demand 7 periods before the forecast"
    assert demand_label("lag 1") == "Demand in the last period before the forecast"
    assert demand_label("recent level") == "Recent demand level"
    assert demand_label("product group seasonal reference") == "Same period last year, average over the product group"
    assert demand_label("past temperature (lag 3)") == "Temperature (past periods)"
    assert demand_label("promo (forecast period)") == "Promo (forecast period)"
    assert demand_label("Holiday_flag") == "Holiday flag"


def test_left_out_series_are_said_in_one_grammatical_sentence():
    one = describe_excluded([{"series": "S3 / P7", "periods": 26,
                              "reason": "too short: 26 periods, needs at least 84 (input window 28 + held-out 56)"}])
    assert one.startswith("1 series left out of the model: it is too short for the input window plus the held-out")
    assert "has too short" not in one
    mixed = describe_excluded([{"reason": "too short: 10 periods"}, {"reason": "too short: 12 periods"},
                               {"reason": "no test periods after the training data"}])
    assert "2 are too short" in mixed and "1 is without test periods" in mixed
    assert describe_excluded([]) == ""


def test_error_by_series_chart_names_the_metric_and_its_unit():
    import pandas as pd

    per_series = pd.DataFrame({"series": ["a", "a"], "method": ["Keras quantile network", "Seasonal naive"],
                               "wape": [30.0, 40.0], "mae": [2.0, 3.0]})
    fig = plot_error_by_series(per_series, "wape")
    assert fig.layout.title.text == "WAPE by series" and fig.layout.xaxis.title.text == "WAPE (%)"
    assert plot_error_by_series(per_series, "mae").layout.xaxis.title.text == "MAE (units)"
