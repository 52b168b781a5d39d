"""The demand leakage audit on generated files with known leaks (tests/audit/leaks.py): covariates that
reconstruct the quantity or are observed with it are read through their past values only, the keep and lag
choices override it, honest covariates stay same-period inputs, and a past-only covariate's values after the
forecast origin never reach the network."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.audit import KEPT, PAST_ONLY, audit_covariates, observed_word
from core.demand.data import ColumnMap, load_sales
from core.demand.features import feature_names, make_config, make_windows, series_arrays
from core.demand.leakage import apply_audit, audit_sales, hold_periods, roles_with_audit, training_rows
from core.demand.roles import guess_roles
from core.errors import DataValidationError
from tests.audit.leaks import bike_rentals, produce_sales


def _sales(df, **roles):
    return load_sales(df, guess_roles(df, **roles).to_columns())


@pytest.fixture(scope="module")
def bike():
    return _sales(bike_rentals(), target="cnt")


@pytest.fixture(scope="module")
def produce():
    return _sales(produce_sales())


def _roles(audit):
    return {r["column"]: r["role"] for r in audit.roles}


def test_bike_rentals_components_and_weather_are_past_values_only_calendar_stays(bike):
    audit = audit_sales(bike, hold=hold_periods(28))
    by = {f.column: f for f in audit.findings}
    n_train = int(training_rows(bike, 28).sum())
    assert n_train == len(bike.frame) - 28 and audit.rows == n_train
    assert by["casual"].evidence == f"'casual' + 'registered' sum to 'cnt' on 100% of {n_train:,} training rows"
    assert by["casual"].kind == "sum" and by["registered"].together == ("casual",)
    for c in ("temp", "hum", "windspeed"):
        assert by[c].kind == "observed" and "weather measured in the same period as 'cnt'" in by[c].evidence
    assert {f.action for f in audit.findings} == {PAST_ONLY}
    assert _roles(audit) == {"season": "same period", "holiday": "same period", "weekday": "same period",
                             "workingday": "same period", "temp": "past values only", "hum": "past values only",
                             "windspeed": "past values only", "casual": "past values only",
                             "registered": "past values only"}
    notices = audit.notices()
    assert notices[0].startswith("Not a same-period input, used through its past values only: 'casual' + "
                                 "'registered' sum to 'cnt'")
    assert "--keep-column casual --keep-column registered" in notices[0] and len(notices) == 4


def test_keep_reads_a_suspect_for_the_forecast_period_and_lag_forces_an_honest_one_into_the_past(bike):
    audit = audit_sales(bike, hold=28, keep=("casual",), lag=("weekday",))
    by = {f.column: f for f in audit.findings}
    assert by["casual"].action == KEPT and by["registered"].action == PAST_ONLY
    roles = _roles(audit)
    assert roles["casual"] == "same period" and roles["weekday"] == "past values only"
    assert audit.notices()[0].startswith("Possible leak kept at your request: 'casual' + 'registered' sum")
    data = apply_audit(bike, audit)
    assert set(data.columns.lagged) == {"temp", "hum", "windspeed", "registered", "weekday"}
    assert data.report.leakage["findings"][0]["action"] == "kept"


def test_produce_sales_both_decompositions_are_named_and_price_and_promotion_stay(produce):
    audit = audit_sales(produce, hold=hold_periods(8))
    sums = {f.evidence.split(" on ")[0] for f in audit.findings}
    assert sums == {"'4046' + '4225' + '4770' sum to 'Total Volume'",
                    "'Small Bags' + 'Large Bags' + 'XLarge Bags' + 'Jumbo Bags' sum to 'Total Volume'"}
    roles = _roles(audit)
    assert roles["AveragePrice"] == roles["promo"] == "same period"
    assert all(roles[c] == "past values only" for c in ("4046", "4225", "4770", "Small Bags", "Large Bags",
                                                         "XLarge Bags", "Jumbo Bags"))
    assert "--keep-column 'Small Bags'" in " ".join(audit.notices())  # shell-quoted where the name has a space


def _frame(y, covs: dict, series="all"):
    n = len(y)
    return pd.DataFrame({"series": series, "date": pd.date_range("2020-01-06", periods=n, freq="W-MON"), "y": y,
                         **covs})


def test_a_linear_reconstruction_is_flagged_with_its_r2_but_a_shared_trend_is_not():
    rng = np.random.default_rng(0)
    n = 200
    qty = 100 + 20 * np.sin(np.arange(n) / 4) + rng.normal(0, 8, n) + np.arange(n)
    revenue = qty * rng.normal(2.0, 0.02, n)  # price nearly fixed: revenue rebuilds the quantity
    trend = np.arange(n) * 1.0 + rng.normal(0, 1, n)  # rises with the quantity, says nothing about a week
    audit = audit_covariates(_frame(qty, {"revenue": revenue, "price_index": trend}),
                             covariates=["revenue", "price_index"], train=np.ones(n, bool), quantity="units")
    assert [f.column for f in audit.findings] == ["revenue"]
    assert audit.findings[0].kind == "fit" and "a linear fit of 'units' on 'revenue' alone has R² 0.9" \
        in audit.findings[0].evidence
    # Without the quantity's own components, a set fit names the smallest set that explains it.
    a, b = rng.gamma(5, 10, n), rng.gamma(5, 10, n)
    y = 1.5 * a + 0.7 * b + rng.normal(0, 2, n)
    audit = audit_covariates(_frame(y, {"a": a, "b": b, "noise": rng.normal(size=n)}),
                             covariates=["a", "b", "noise"], train=np.ones(n, bool), quantity="units")
    assert sorted(f.column for f in audit.findings) == ["a", "b"]
    assert all("'units' on 'a' + 'b'" in f.evidence or "'units' on 'b' + 'a'" in f.evidence for f in audit.findings)


def test_only_training_rows_are_measured():
    n = 100
    y = np.arange(n, dtype=float) % 7 + 10
    aux = np.where(np.arange(n) < 60, y + 50 * np.sin(np.arange(n)), y)  # equals the quantity only after row 60
    frame = _frame(y, {"aux": aux})
    train = np.arange(n) < 60
    assert audit_covariates(frame, covariates=["aux"], train=train, quantity="q").findings == []
    tail = audit_covariates(frame, covariates=["aux"], train=~train, quantity="q")
    assert tail.findings[0].kind == "sum" and tail.findings[0].evidence == "'aux' equals 'q' on 100% of 40 training rows"


def test_measured_weather_enters_lagged_even_when_a_covariates_file_gives_the_horizon():
    rng = np.random.default_rng(1)
    frame = _frame(rng.poisson(50, 120).astype(float), {"Temperature": rng.normal(15, 5, 120)})
    train = np.ones(120, bool)
    assert _roles(audit_covariates(frame, covariates=["Temperature"], train=train, quantity="q"))["Temperature"] \
        == "past values only"
    given = audit_covariates(frame, covariates=["Temperature"], train=train, quantity="q", known_ahead=["Temperature"])
    assert [f.kind for f in given.findings] == ["observed"] and given.roles[0]["role"] == "past values only"
    assert "values for the forecast horizon are measurements too" in given.roles[0]["why"]
    kept = audit_covariates(frame, covariates=["Temperature"], train=train, quantity="q", known_ahead=["Temperature"],
                            keep=["Temperature"])
    assert kept.roles[0]["role"] == "same period"  # the analyst says the file holds a forecast
    forecast = audit_covariates(frame.rename(columns={"Temperature": "forecast_temp"}), covariates=["forecast_temp"],
                                train=train, quantity="q", known_ahead=["forecast_temp"])
    assert forecast.findings == [] and forecast.roles[0]["role"] == "same period"  # named as a forecast


@pytest.mark.parametrize("name, word", [("Fuel_Price", "fuel"), ("CPI", "cpi"), ("Unemployment", "unemployment"),
                                        ("temp_max", "temp"), ("visitors", "visitors")])
def test_economic_figures_and_weather_are_named_as_measured(name, word):
    assert observed_word(name) == word


@pytest.mark.parametrize("name", ["unit_price", "promo_units", "forecast_temp", "MarkDown1", "IsHoliday",
                                  "planned_orders"])
def test_plans_and_forecasts_are_not_named_as_measured(name):
    assert observed_word(name) is None


def test_unknown_override_names_are_refused(bike):
    with pytest.raises(DataValidationError, match=r"--keep-column / --lag-column must name covariates of the model; "
                                                  r"\['rainfall'\] is not among them"):
        audit_sales(bike, hold=28, keep=("rainfall",))


def test_role_rows_take_the_audits_role_and_why(bike):
    audit = audit_sales(bike, hold=28)
    rows = {r["column"]: r for r in roles_with_audit(guess_roles(bike_rentals(), target="cnt").roles(), audit)}
    assert rows["casual"]["role"] == "covariate (past values only)" and "sum to 'cnt'" in rows["casual"]["why"]
    assert rows["holiday"]["role"] == "covariate (same period)" and rows["cnt"]["role"] == "quantity"


def test_a_past_only_covariate_never_reaches_the_forecast_periods(bike):
    """Windows ending at an origin read a past-only covariate up to that origin and never after it: changing
    its values after the origin changes no input. A same-period covariate's future value is an input."""
    data = apply_audit(bike, audit_sales(bike, hold=28))
    cfg = make_config(data, 7)
    hist, fut = feature_names(cfg)
    assert "casual (forecast period)" not in fut and "holiday (forecast period)" in fut
    assert "past casual (lag 1)" in hist and f"past temp (lag {cfg.input_len})" in hist
    origin = {"all": np.array([400])}

    def inputs(frame):
        arrays = series_arrays(replace(data, frame=frame), cfg, {"all": [1.0] * len(cfg.covariates)})
        return make_windows(arrays, cfg, origin, with_target=False)

    base = inputs(data.frame)
    later = data.frame.copy()
    after = later.index > 400
    later.loc[after, ["casual", "registered", "temp"]] *= 3.0
    changed = inputs(later)
    assert np.array_equal(base.hist, changed.hist) and np.array_equal(base.fut, changed.fut)
    later.loc[after, "holiday"] = 1.0 - later.loc[after, "holiday"]
    assert not np.array_equal(base.fut, inputs(later).fut)  # a same-period covariate is read for the forecast
