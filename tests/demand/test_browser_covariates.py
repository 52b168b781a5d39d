"""The demand page in Chromium with a sales file and a covariates file: the join is reported."""

import pytest

from scripts.make_retail_weekly import make_retail_weekly


@pytest.mark.browser
def test_demand_page_reports_the_covariates_join(app_url, page, screenshot_dir, tmp_path):
    d = make_retail_weekly(12, seed=0)
    d.sales.to_csv(tmp_path / "train.csv", index=False)
    d.features[d.features["Store"] != 1].to_csv(tmp_path / "features.csv", index=False)
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    page.get_by_text("Upload my file").click()
    page.locator("input[type='file']").first.set_input_files(str(tmp_path / "train.csv"))
    page.get_by_text("weekly", exact=True).wait_for(timeout=60_000)
    page.locator("input[type='file']").nth(1).set_input_files(str(tmp_path / "features.csv"))
    notice = page.get_by_text("covariate column(s) (Temperature, Fuel_Price", exact=False)
    notice.wait_for(timeout=60_000)
    assert "on Date + Store" in notice.inner_text() and "did not" in notice.inner_text()
    page.wait_for_timeout(1000)
    notice.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "demand_covariates.png"))
    assert not page.locator("[data-testid='stException']").count()
