"""The demand page's tables read as a planner expects: plain headers, units as whole numbers (stock)
or with one decimal (forecasts and errors), never three decimals, and money in the session's currency."""

import re
from pathlib import Path

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "demand.py")
THREE_DECIMALS = re.compile(r"\d\.\d{3}(?!\d)")


@pytest.fixture(scope="module")
def page():
    """The page on the bundled sample with a small model trained on it (seeded, one epoch)."""
    from core.data.datasets import read_table
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand
    from core.demand.roles import guess_roles

    df = read_table(Path(PAGE).parents[1] / "sample_data" / "demand_sales.csv").df
    guess = guess_roles(df)
    # Four of the sample's series keep the training short; the tables are the same shape.
    keys = df[list(guess.series)].astype(str).agg("|".join, axis=1)
    df = df[keys.isin(keys.drop_duplicates().iloc[:4])].reset_index(drop=True)
    cmap = ColumnMap(date=guess.date, target=guess.target, series=tuple(guess.series))
    run = train_demand(load_sales(df, cmap), DemandConfig(horizon=7, origins=1, epochs=1, seed=0))
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["demand.run"] = run
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def _shown(el):
    """The table as the reader sees it: the formatted cell texts."""
    return convert_arrow_bytes_to_pandas_df(el.proto.arrow_data.styler.display_values)


def _table(at, header):
    return next(_shown(d) for d in at.dataframe if header in d.value.columns)


def test_backtest_and_per_series_tables_have_plain_headers_and_one_decimal_units(page):
    backtest = _table(page, "WAPE %")
    assert {"WAPE %", "MASE", "MAE", "RMSE", "Bias %", "P10–P90 coverage %"} <= set(backtest.columns)
    per_series = _table(page, "Series")
    assert list(per_series.columns[:2]) == ["Series", "Method"]
    for table in (backtest, per_series):
        assert not [c for c in table.columns if "_" in str(c)]
        cells = " ".join(table.astype(str).to_numpy().ravel())
        assert not THREE_DECIMALS.search(cells), THREE_DECIMALS.findall(cells)[:5]
    assert all(re.fullmatch(r"-?[\d,]+\.\d", v) for v in per_series["MAE"])
    # A metric left out (MAPE where actuals are near zero) reads as a dash, never "None" or "nan".
    raw = next(d.value for d in page.dataframe if "WAPE %" in d.value.columns)
    assert not raw.astype(str).isin(["None", "nan"]).any().any()


def test_policy_and_forecast_tables_show_whole_stock_and_money(page):
    policy = _table(page, "Reorder point")
    assert "Expected cost per period" in policy.columns and "Demand over lead time + review" in policy.columns
    assert all(re.fullmatch(r"[\d,]+", v) for v in policy["Reorder point"])
    assert all(re.fullmatch(r"[\d,]+", v) for v in policy["Safety stock"])
    assert all(v.startswith("€") for v in policy["Expected cost per period"])
    forecast = _table(page, "P50 (median)")
    assert list(forecast.columns[:6]) == ["Series", "Date", "Step", "P10", "P50 (median)", "P90"]
    assert all(re.fullmatch(r"-?[\d,]+\.\d", v) for v in forecast["P50 (median)"])
    for table in (policy, forecast):
        cells = " ".join(table.astype(str).to_numpy().ravel())
        assert not THREE_DECIMALS.search(cells), THREE_DECIMALS.findall(cells)[:5]
    tiles = {m.label: m.value for m in page.metric}
    assert tiles["Backtest cost — network policy"].lstrip("-").startswith("€")
    assert page.number_input(key="demand.short").label == "Stock-out cost / unit (€)"
