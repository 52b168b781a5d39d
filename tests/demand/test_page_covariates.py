"""The demand page with a second, covariates file: what joined on which keys, WMAE, and bad files."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from scripts.make_retail_weekly import make_retail_weekly
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "demand.py")


def _upload_pair(sales, features):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.radio(key="demand.source").set_value("Upload my file").run()
    at.file_uploader(key="demand.upload").set_value(("train.csv", sales.to_csv(index=False).encode(), "text/csv")).run()
    at.file_uploader(key="demand.cov_upload").set_value(
        ("features.csv", features.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_covariates_file_joins_and_the_page_says_on_which_keys_and_what_did_not_match():
    d = make_retail_weekly(12, seed=0)
    features = d.features[d.features["Store"] != 1]  # store 1 has no covariates: its rows do not match
    at = _upload_pair(d.sales, features)
    assert not errors_besides_trust(at)
    info = next(i.value for i in at.info if i.value.startswith("Joined"))
    unmatched = int((d.sales["Store"] == 1).sum())
    assert info.startswith("Joined 9 covariate column(s) (Temperature, Fuel_Price, MarkDown1, MarkDown2, MarkDown3, "
                           "MarkDown4, MarkDown5, CPI, Unemployment) on Date + Store: ")
    assert f"{len(d.sales) - unmatched:,} of {len(d.sales):,} sales rows matched, {unmatched:,} did not" in info
    assert any("'IsHoliday' is in both files and agrees" in c.value for c in at.caption)
    assert any("Temperature" in c.value and "Covariates:" in c.value for c in at.caption)  # the data report uses them
    next(n for n in at.number_input if n.label == "Horizon (periods to forecast)").set_value(8)
    next(n for n in at.number_input if n.label == "Backtest origins").set_value(1)
    next(n for n in at.number_input if n.label == "Max epochs").set_value(1)
    next(b for b in at.button if b.label == "Train forecast model").click().run()
    assert not at.exception, at.exception
    run = at.session_state["demand.run"]
    assert run.holiday_col == "IsHoliday" and "wmae" in run.metrics
    assert any("Holiday-weighted MAE (IsHoliday weeks × 5)" in df.value.columns for df in at.dataframe)


def test_bad_covariates_file_shows_an_error_and_keeps_the_sales():
    d = make_retail_weekly(12, seed=0)
    at = _upload_pair(d.sales, d.features.rename(columns={"Date": "Week"}))
    assert any("must have the sales file's date column 'Date' to join on" in e.value for e in at.error)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frequency"] == "weekly" and metrics["Series"] == "12"  # the sales file still loads
