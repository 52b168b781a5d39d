"""Real data: airline passengers (Box & Jenkins series G), train 1949-1958, test 1959-1960."""

import pandas as pd
import pytest

from core.demand.data import ColumnMap, load_sales
from core.demand.forecast import DemandConfig, train_demand

AIR = "demand_forecasting/air_passengers/airline_passengers.csv"


def test_air_passengers_beats_seasonal_naive(shared_data):
    df = pd.read_csv(shared_data(AIR))
    sales = load_sales(df, ColumnMap("Month", "Passengers"))
    assert sales.frequency == "monthly" and sales.report.n_rows == 144
    run = train_demand(sales, DemandConfig(horizon=24, epochs=60, patience=10, seed=0))
    bt = run.backtest
    assert bt["date"].min() == pd.Timestamp("1959-01-01") and bt["date"].max() == pd.Timestamp("1960-12-01")
    sn = run.metrics.loc["Seasonal naive"]
    # The published seasonal-naive figures (R forecast::snaive) reproduce exactly on this split.
    assert sn["mape"] == pytest.approx(15.52, abs=0.01)
    assert sn["mae"] == pytest.approx(71.25, abs=0.01) and sn["rmse"] == pytest.approx(76.99, abs=0.01)
    nn = run.metrics.loc["Keras quantile network"]
    assert nn["mape"] < 8.0 and nn["mase"] < 1.0
    assert nn["mae"] < 0.5 * sn["mae"]
    assert 50.0 <= nn["coverage_p10_p90"] <= 100.0
