"""Joining a covariates file onto sales, the holiday-weighted MAE, and the retail data generator."""

import math

import numpy as np
import pandas as pd
import pytest

from core.demand.covariates import horizon_covariates, join_covariates
from core.demand.data import ColumnMap, load_sales
from core.demand.holidays import compute_wmae, find_holiday_column
from core.errors import DataValidationError
from scripts.make_retail_weekly import make_retail_weekly

FRIDAYS = pd.date_range("2012-01-06", periods=4, freq="W-FRI").strftime("%Y-%m-%d")


def sales_frame():
    return pd.DataFrame({"Store": [1, 1, 1, 2, 2, 3], "Dept": [5, 5, 5, 5, 5, 9],
                         "Date": [*FRIDAYS[:3], *FRIDAYS[:2], FRIDAYS[0]],
                         "Weekly_Sales": [10.0, 12, 11, 20, 22, 5], "IsHoliday": [False, True, False, False, True, False]})


def features_frame(**over):
    df = pd.DataFrame({"Store": [1] * 4 + [2] * 4, "Date": list(FRIDAYS) * 2,
                       "Temperature": [30.0, 31, 32, 33, 50, 51, 52, 53],
                       "MarkDown1": [np.nan, np.nan, 100.0, np.nan, np.nan, 5.0, np.nan, np.nan],
                       "CPI": [200.0, 201, np.nan, 203, 100, 101, 102, 103],
                       "IsHoliday": [False, True, False, False] * 2})
    return df.assign(**over)


def test_join_detects_store_and_date_keys_and_counts_unmatched_rows():
    j = join_covariates(sales_frame(), features_frame(), date_col="Date", series_cols=("Store", "Dept"))
    assert j.keys == ("Date", "Store")
    assert j.joined == ("Temperature", "MarkDown1", "CPI")  # IsHoliday agrees: kept once, from the sales file
    assert j.unmatched_rows == 1 and j.sales_rows == 6  # store 3 has no covariates
    assert list(j.frame["Temperature"]) == [30, 31, 32, 50, 51, 32]  # store 3: the median, said in a notice
    assert j.summary().startswith("Joined 3 covariate column(s) (Temperature, MarkDown1, CPI) on Date + Store: "
                                  "5 of 6 sales rows matched, 1 did not")
    assert any(n.startswith("1 series have no covariates at all (e.g. 3 / 9)") for n in j.notices)
    assert "'IsHoliday' is in both files and agrees on 100.0% of the matched rows: kept once." in j.notices


def test_mostly_blank_covariates_become_zero_and_a_few_blanks_carry_forward():
    j = join_covariates(sales_frame(), features_frame(), date_col="Date", series_cols=("Store", "Dept"))
    assert list(j.frame["MarkDown1"].iloc[:5]) == [0, 0, 100, 0, 5]
    assert j.frame["CPI"].iloc[2] == 201  # the blank week of store 1 carries the week before
    assert any(n.startswith("Mostly blank covariates filled with 0 (blank share): MarkDown1 (75%)") for n in j.notices)
    assert any("carried forward" in n and "CPI (1)" in n for n in j.notices)


def test_disagreeing_duplicate_column_is_kept_from_both_files():
    j = join_covariates(sales_frame(), features_frame(IsHoliday=[True] * 8), date_col="Date",
                        series_cols=("Store", "Dept"))
    assert "IsHoliday_covariates" in j.joined and list(j.frame["IsHoliday"]) == list(sales_frame()["IsHoliday"])
    assert any("agrees on only 40.0%" in n for n in j.notices)


def test_unmatched_rows_take_the_same_series_nearest_matched_period():
    cov = features_frame().drop(index=[1])  # store 1, second week missing
    j = join_covariates(sales_frame(), cov, date_col="Date", series_cols=("Store", "Dept"))
    assert j.unmatched_rows == 2 and j.frame["Temperature"].iloc[1] == 30


def test_keys_match_across_number_and_text_codes():
    cov = features_frame(Store=["1"] * 4 + ["2"] * 4)
    j = join_covariates(sales_frame(), cov, date_col="Date", series_cols=("Store", "Dept"))
    assert j.unmatched_rows == 1


def test_date_only_covariates_join_every_series():
    cov = pd.DataFrame({"Date": list(FRIDAYS), "Fuel_Price": [3.0, 3.1, 3.2, 3.3]})
    j = join_covariates(sales_frame(), cov, date_col="Date", series_cols=("Store", "Dept"))
    assert j.keys == ("Date",) and j.unmatched_rows == 0 and list(j.frame["Fuel_Price"]) == [3.0, 3.1, 3.2, 3.0, 3.1, 3.0]


def test_horizon_covariates_are_the_rows_after_each_series():
    j = join_covariates(sales_frame(), features_frame(), date_col="Date", series_cols=("Store", "Dept"))
    data = load_sales(j.frame, ColumnMap("Date", "Weekly_Sales", ("Store", "Dept")))
    fut = horizon_covariates(j, ("Store", "Dept"), data)
    assert fut.groupby("series").size().to_dict() == {"1 / 5": 1, "2 / 5": 2}
    assert list(fut.loc[fut["series"] == "2 / 5", "Temperature"]) == [52, 53]
    # IsHoliday is kept once (from the sales rows), but the horizon reads the covariates file's flags.
    j = join_covariates(sales_frame(), features_frame(IsHoliday=[False, True, False, True] * 2), date_col="Date",
                        series_cols=("Store", "Dept"))
    assert "IsHoliday" not in j.joined
    fut = horizon_covariates(j, ("Store", "Dept"), load_sales(j.frame, ColumnMap("Date", "Weekly_Sales", ("Store", "Dept"))))
    assert list(fut.loc[fut["series"] == "2 / 5", "IsHoliday"]) == [0.0, 1.0]
    assert list(fut.loc[fut["series"] == "1 / 5", "IsHoliday"]) == [1.0]


@pytest.mark.parametrize("cov, match", [
    (features_frame().rename(columns={"Date": "Week"}),
     "must have the sales file's date column 'Date' to join on; it has columns .*Rename its date column to 'Date'"),
    (features_frame().iloc[:0], "The covariates file is empty; expected rows of date"),
    (pd.DataFrame({"Store": [1], "Date": [FRIDAYS[0]], "Type": ["A"]}),
     "has no numeric columns besides the keys .*Add numeric covariates"),
    (features_frame(Store=7), "No sales row matched a covariates row on Date \\+ Store; .*Make the dates"),
    (features_frame(Date="someday"), "Date column 'Date' of the covariates file must hold dates; 8 of 8 "
                                     "could not be read .*Write dates as YYYY-MM-DD"),
])
def test_covariate_join_errors_say_what_to_fix(cov, match):
    with pytest.raises(DataValidationError, match=match):
        join_covariates(sales_frame(), cov, date_col="Date", series_cols=("Store", "Dept"))


def test_text_covariate_columns_are_left_out_with_a_notice():
    j = join_covariates(sales_frame(), features_frame(Type="A"), date_col="Date", series_cols=("Store", "Dept"))
    assert "Type" not in j.joined
    assert "Covariate column(s) ['Type'] are not numeric and were not joined" in j.notices[0]


def test_wmae_weighs_holidays_five_times():
    assert compute_wmae([10, 10, 10], [12, 10, 7], [0, 1, 1]) == pytest.approx((2 + 0 + 5 * 3) / 11)
    assert compute_wmae([1, 2], [2, 4], [False, False]) == pytest.approx(1.5)
    assert math.isnan(compute_wmae([], [], []))


def test_holiday_column_found_by_name_only_when_binary():
    assert find_holiday_column(["price", "IsHoliday"]) == "IsHoliday"
    assert find_holiday_column(["Holiday"], binary=["Holiday"]) == "Holiday"
    assert find_holiday_column(["is_holiday"], binary=[]) is None
    assert find_holiday_column(["holiday_name", "promo"]) is None


def test_generator_is_deterministic_and_awkward_like_real_extracts():
    a, b = make_retail_weekly(60, seed=3), make_retail_weekly(60, seed=3)
    pd.testing.assert_frame_equal(a.sales, b.sales)
    pd.testing.assert_frame_equal(a.features, b.features)
    s = a.sales
    assert list(s.columns) == ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"]
    assert list(a.features.columns) == ["Store", "Date", "Temperature", "Fuel_Price", *[f"MarkDown{k}" for k in range(1, 6)],
                                        "CPI", "Unemployment", "IsHoliday"]
    assert s.groupby(["Store", "Dept"]).ngroups == 60
    assert s["Date"].max() == "2012-10-26" and a.features["Date"].max() == "2013-07-26"
    holidays = set(s.loc[s["IsHoliday"], "Date"])
    assert {"2010-02-12", "2010-09-10", "2010-11-26", "2010-12-31", "2011-11-25", "2012-09-07"} <= holidays
    lengths = s.groupby(["Store", "Dept"]).size()
    assert lengths.max() == 143 and lengths.min() < 91  # some series too short for a 39-week horizon
    assert a.features["MarkDown1"].isna().mean() > 0.3 and a.features["CPI"].isna().any()


def test_generated_data_trains_with_covariates_file_and_reports_wmae():
    from core.demand.forecast import METHODS, DemandConfig, train_demand

    d = make_retail_weekly(40, seed=0)
    j = join_covariates(d.sales, d.features, date_col="Date", series_cols=("Store", "Dept"))
    data = load_sales(j.frame, ColumnMap("Date", "Weekly_Sales", ("Store", "Dept")))
    issues = set(data.report.to_frame()["issue"])
    assert {"negative quantities (returns)", "missing periods (gaps)"} <= issues
    fut = horizon_covariates(j, ("Store", "Dept"), data)
    run = train_demand(data, DemandConfig(horizon=39, epochs=2, seed=0), future_covariates=fut)
    assert run.holiday_col == "IsHoliday"
    assert np.isfinite(run.metrics["wmae"]).all() and list(run.metrics.index) == list(METHODS.values())
    assert run.backtest["holiday"].sum() > 0
    assert run.excluded and all(e["reason"].startswith("too short") for e in run.excluded)
    assert "The covariates file covers the whole 39-period forecast horizon of every series." in run.notices
    # A covariates file that stops early: the horizon's covariates are carried forward, with a notice.
    from core.demand.forecast import horizon_notices

    (none,) = horizon_notices(data, run.wcfg, run.n_train, fut.iloc[:0])
    assert none.startswith("Future covariates are not in the data: 0/1 flags (promotion, holiday) are assumed off")
    end = pd.Timestamp("2013-01-25")
    (half,) = horizon_notices(data, run.wcfg, run.n_train, fut[fut["date"] <= end])
    last = data.frame.groupby("series")["date"].max()
    short = sum(last[s] + pd.Timedelta(weeks=39) > end for s in run.n_train)  # early stoppers may be covered
    assert 0 < short <= len(run.n_train)
    assert half.startswith(f"The covariates file does not cover the forecast horizon for {short} of "
                           f"{len(run.n_train)} series (it ends on 2013-01-25; up to 26 of 39 periods missing)")
