"""Sales loader: frequency detection, cleaning with a report, and every error message."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.demand.data import ColumnMap, detect_frequency, load_sales
from core.demand.roles import guess_columns
from core.demand.roles import guess_roles, name_tokens
from core.errors import DataValidationError
from tests.demand.walmart_like import make_walmart_like

CM = ColumnMap(date="date", target="units", series=("store",))


def frame(dates, units, store="A", **extra):
    return pd.DataFrame({"date": dates, "store": store, "units": units, **extra})


def test_daily_sales_are_sorted_and_typed():
    df = frame(["2024-01-03", "2024-01-01", "2024-01-02"], [3, 1, 2])
    s = load_sales(df, CM)
    assert s.frequency == "daily" and s.freq == "D" and s.season == 7
    assert list(s.frame["y"]) == [1.0, 2.0, 3.0]
    assert s.series_ids == ["A"]
    assert s.report.issues == []


@pytest.mark.parametrize("dates,label,season", [
    (pd.date_range("2024-01-07", periods=5, freq="W-SUN").strftime("%Y-%m-%d"), "weekly", 52),
    (["1949-01", "1949-02", "1949-03", "1949-04"], "monthly", 12),
    (["2024-01-31", "2024-02-29", "2024-03-31"], "monthly", 12),
])
def test_frequency_detection(dates, label, season):
    s = load_sales(frame(list(dates), np.arange(len(dates))), CM)
    assert s.frequency == label and s.season == season


def test_monthly_dates_snap_to_month_start():
    s = load_sales(frame(["2024-01-31", "2024-02-29", "2024-03-31"], [1, 2, 3]), CM)
    assert list(s.frame["date"].dt.day) == [1, 1, 1]


def test_duplicates_are_summed_and_reported():
    df = frame(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03"], [2, 3, 4, 5])
    s = load_sales(df, CM)
    assert list(s.frame["y"]) == [5.0, 4.0, 5.0]
    assert {"issue": "duplicate series/date rows", "count": 2,
            "action": "quantities summed, covariates averaged"} in s.report.issues


def test_negative_quantities_set_to_zero():
    s = load_sales(frame(["2024-01-01", "2024-01-02", "2024-01-03"], [4, -2, 6]), CM)
    assert list(s.frame["y"]) == [4.0, 0.0, 6.0]
    assert s.report.issues[0]["issue"] == "negative quantities (returns)" and s.report.issues[0]["count"] == 1


@pytest.mark.parametrize("fill,expected", [("interpolate", [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]),
                                           ("zero", [2.0, 4.0, 0.0, 0.0, 10.0, 12.0])])
def test_gaps_are_inserted_and_filled(fill, expected):
    df = frame(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"], [2, 4, 10, 12], promo=[1, 1, 0, 0])
    s = load_sales(df, CM, fill_gaps=fill)
    assert list(s.frame["y"]) == expected
    assert list(s.frame["promo"]) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]  # carried forward
    gaps = [i for i in s.report.issues if i["issue"] == "missing periods (gaps)"]
    assert gaps[0]["count"] == 2


def test_covariates_default_to_other_numeric_columns_and_flags_detected():
    df = frame(["2024-01-01", "2024-01-02"], [1, 2], price=[2.5, 2.0], promo=[0, 1], note=["x", "y"])
    s = load_sales(df, CM)
    assert s.covariates == ["price", "promo"] and s.binary_covariates == ["promo"]


def test_series_columns_combine_into_one_id():
    df = pd.concat([frame(["2024-01-01", "2024-01-02"], [1, 2], store="A", product="p"),
                    frame(["2024-01-01", "2024-01-02"], [3, 4], store="B", product="p")])
    s = load_sales(df, ColumnMap("date", "units", ("store", "product")))
    assert s.series_ids == ["A / p", "B / p"]


def test_guess_columns_on_sample_like_frame():
    df = frame(["2024-01-01"] * 30, range(30), store=["A", "B", "C"] * 10, price=1.0)
    g = guess_columns(df)
    assert (g.date, g.target, g.series) == ("date", "units", ("store",))


def test_error_missing_column():
    with pytest.raises(DataValidationError, match=r"Quantity column\(s\) \['qty'\] not found; the file has columns"):
        load_sales(frame(["2024-01-01"], [1]), ColumnMap("date", "qty"))


def test_error_non_numeric_quantity():
    with pytest.raises(DataValidationError, match="Quantity column 'units' must be numeric"):
        load_sales(frame(["2024-01-01", "2024-01-02"], ["a", "b"]), CM)


def test_error_unreadable_dates():
    with pytest.raises(DataValidationError, match="Date column 'date' must hold dates; 2 of 3 values"):
        load_sales(frame(["2024-01-01", "soon", "later"], [1, 2, 3]), CM)


def test_error_unsupported_frequency():
    with pytest.raises(DataValidationError, match="typically 3 days apart; expected daily"):
        load_sales(frame(["2024-01-01", "2024-01-04", "2024-01-07"], [1, 2, 3]), CM)


def test_error_single_date():
    with pytest.raises(DataValidationError, match="every series has a single date"):
        detect_frequency(pd.Series(pd.to_datetime(["2024-01-01"])), pd.Series(["A"]))


def test_error_non_numeric_covariate():
    df = frame(["2024-01-01", "2024-01-02"], [1, 2], promo=["yes", "no"])
    with pytest.raises(DataValidationError, match=r"Covariates must be numeric .* \['promo'\] are not"):
        load_sales(df, ColumnMap("date", "units", ("store",), ("promo",)))


def test_error_covariate_reuses_a_role():
    with pytest.raises(DataValidationError, match=r"Covariates \['units'\] are already used"):
        load_sales(frame(["2024-01-01"], [1]), ColumnMap("date", "units", (), ("units",)))


def test_error_same_column_for_two_roles():
    with pytest.raises(DataValidationError, match="must be different columns"):
        load_sales(frame(["2024-01-01"], [1]), ColumnMap("date", "date"))


def test_error_empty_table():
    with pytest.raises(DataValidationError, match="The sales table is empty"):
        load_sales(frame([], []), CM)


def test_error_bad_gap_fill():
    with pytest.raises(DataValidationError, match="Gap filling must be one of"):
        load_sales(frame(["2024-01-01"], [1]), CM, fill_gaps="mean")


def test_history_capped_by_keeping_recent_periods():
    df = pd.concat([frame(pd.date_range("2024-01-01", periods=10).strftime("%Y-%m-%d"), range(10), store=s)
                    for s in ("A", "B")])
    out = load_sales(df, CM, max_rows=8)
    assert out.lengths().tolist() == [4, 4]
    assert out.series("A")["y"].tolist() == [6.0, 7.0, 8.0, 9.0]
    assert out.report.issues[-1] == {"issue": "periods beyond the size limit", "count": 12,
                                     "action": "dropped: kept the most recent 4 periods of each series"}


# ---------------------------------------------------------------- guessing the column roles

@pytest.mark.parametrize("name,tokens", [("Weekly_Sales", ["weekly", "sales"]), ("units_sold", ["units", "sold"]),
                                         ("QtyOrdered", ["qty", "ordered"]), ("IsHoliday", ["is", "holiday"]),
                                         ("SKU ID", ["sku", "id"]), ("unitsSoldUSA", ["units", "sold", "usa"])])
def test_name_tokens(name, tokens):
    assert name_tokens(name) == tokens


@pytest.mark.parametrize("name", ["Weekly_Sales", "units_sold", "qty", "UnitsSold", "Quantity", "demand"])
def test_quantity_found_by_name_token_not_by_position(name):
    df = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=20).strftime("%Y-%m-%d"),
                       "price": np.linspace(1, 2, 20), name: np.arange(20) + 5.0})
    g = guess_roles(df)
    assert g.target == name and g.problem is None and g.covariates == ("price",)


def test_walmart_like_file_is_guessed_with_integer_series_ids():
    g = guess_roles(make_walmart_like())
    assert (g.date, g.target, g.series, g.covariates) == ("Date", "Weekly_Sales", ("Store", "Dept"), ("IsHoliday",))
    assert g.to_columns() == ColumnMap("Date", "Weekly_Sales", ("Store", "Dept"))
    why = {r["column"]: (r["role"], r["why"]) for r in g.roles()}
    assert why["Weekly_Sales"] == ("quantity", "numeric, and its name has the word 'sales'")
    assert why["Store"][0] == "series" and "5 distinct values, and the same date repeats" in why["Store"][1]
    assert why["Dept"][0] == "series" and "0 after" in why["Dept"][1]
    assert why["IsHoliday"] == ("covariate", "0/1 flag: a known-in-advance covariate, never the quantity")
    assert "quantity = Weekly_Sales: numeric, and its name has the word 'sales'" in g.describe()


def test_integer_columns_are_not_series_ids_when_dates_do_not_repeat():
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40).strftime("%Y-%m-%d"),
                       "units": np.arange(40.0), "shelf": np.arange(40) % 4})
    g = guess_roles(df)
    assert g.series == () and g.covariates == ("shelf",)


def test_a_flag_is_never_the_quantity():
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=10).strftime("%Y-%m-%d"),
                       "sold_out": [0, 1] * 5, "on_sale": [True, False] * 5, "amount": np.arange(10.0)})
    g = guess_roles(df)
    assert g.target is None and g.candidates == ("amount",)
    assert g.covariates == ("sold_out", "on_sale")
    assert {"column": "amount", "role": "quantity?",
            "why": "numeric, could be the quantity, but its name does not say so"} in g.roles()


def test_error_weak_guess_lists_candidates_instead_of_training_on_one():
    df = make_walmart_like(stores=2, depts=2, weeks=10).rename(columns={"Weekly_Sales": "Amount"})
    with pytest.raises(DataValidationError, match=r"Could not tell which column holds the quantity to forecast: "
                       r"expected a numeric column named like units, qty, quantity, sales or demand; got none .*"
                       r"Candidate columns: \['Amount'\]\. Pass --target COLUMN on the command line, or pick the "
                       r"quantity column on the page"):
        guess_columns(df)
    # Naming the quantity resolves it; the other roles are still guessed.
    g = guess_roles(df, target="Amount")
    assert g.to_columns() == ColumnMap("Date", "Amount", ("Store", "Dept"))
    assert {"column": "Amount", "role": "quantity", "why": "given"} in g.roles()


def test_error_no_date_column():
    df = pd.DataFrame({"units": [1.0, 2.0], "store": ["a", "b"]})
    with pytest.raises(DataValidationError, match=r"No date column found: expected a column of dates such as "
                       r"2024-01-31; the file has columns \['units', 'store'\]\. Pass --date-col"):
        guess_columns(df)


def test_bundled_sample_guessed_without_flags():
    df = pd.read_csv(Path(__file__).resolve().parents[2] / "sample_data" / "demand_sales.csv")
    assert guess_columns(df) == ColumnMap("date", "units", ("store", "product"))


def test_air_passengers_guessed_without_flags(shared_data):
    df = pd.read_csv(shared_data("demand_forecasting/air_passengers/airline_passengers.csv"))
    assert guess_columns(df) == ColumnMap("Month", "Passengers", ())


def test_error_given_column_not_in_the_file():
    df = make_walmart_like(stores=1, depts=2, weeks=5)
    with pytest.raises(DataValidationError, match=r"Column\(s\) \['date'\] not found; the file has columns "
                       r"\['Store', 'Dept', 'Date', 'Weekly_Sales', 'IsHoliday'\]\. Name columns that exist"):
        guess_roles(df, date="date")
