"""The leakage audit in Chromium: the demand page's covariate roles for a bike-rental look-alike (one click
reads a suspect for the forecast period) and the credit page's notice for a file with a chargeback column.
Screenshots are kept in the screenshot folder for a person to look at."""

import pytest

from tests.audit.leaks import bike_rentals, credit_applications


def _no_exception(page):
    assert not page.locator("[data-testid='stException']").count()


@pytest.mark.browser
def test_demand_role_table_and_one_click_keep(app_url, page, screenshot_dir, tmp_path):
    bike_rentals().to_csv(tmp_path / "bike.csv", index=False)
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    page.get_by_text("Upload my file").click()
    page.locator("input[type='file']").first.set_input_files(str(tmp_path / "bike.csv"))
    notice = page.get_by_text("Not known in advance — used through their past values only", exact=False)
    notice.wait_for(timeout=60_000)
    assert "sum to 'cnt' on 100% of" in page.get_by_role("alert").filter(has_text="Not known in advance").inner_text()
    keep = page.get_by_role("button", name="Keep casual")
    keep.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    notice.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "audit_demand_roles.png"), full_page=False)
    keep.click()
    page.get_by_role("button", name="Past only: casual").wait_for(timeout=60_000)
    page.get_by_text("Read for the forecast period at your request", exact=False).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    page.get_by_text("Read for the forecast period at your request", exact=False).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "audit_demand_kept.png"), full_page=False)
    page.get_by_text("Also observed with demand", exact=False).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "audit_demand_table.png"), full_page=False)
    _no_exception(page)


@pytest.mark.browser
def test_credit_notice_and_one_click_keep(app_url, page, screenshot_dir, tmp_path):
    credit_applications().to_csv(tmp_path / "loans.csv", index=False)
    page.goto(f"{app_url}/credit")
    page.get_by_text("Upload my file").wait_for(timeout=120_000)
    page.get_by_text("Upload my file").click()
    page.locator("input[type='file']").first.set_input_files(str(tmp_path / "loans.csv"))
    callout = page.get_by_text("Left out of the model as possible leaks", exact=False)
    callout.wait_for(timeout=60_000)
    keep = page.get_by_role("button", name="Keep chargeback_flag as a feature")
    keep.wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Keep account_no as a feature").is_visible()
    page.wait_for_timeout(1000)
    callout.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "audit_credit_notice.png"), full_page=False)
    keep.click()
    page.get_by_role("button", name="Leave chargeback_flag out").wait_for(timeout=60_000)
    page.get_by_text("Kept as a model input at your request", exact=False).wait_for(timeout=60_000)
    _no_exception(page)


@pytest.mark.browser
def test_fraud_mapped_amount_stays_with_a_warning(app_url, page, screenshot_dir, tmp_path):
    from tests.audit.leaks import fraud_log_leaky_amount

    fraud_log_leaky_amount().to_csv(tmp_path / "log.csv", index=False)
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Upload my file").wait_for(timeout=120_000)
    page.get_by_text("Upload my file").click()
    page.locator("input[type='file']").first.set_input_files(str(tmp_path / "log.csv"))
    warning = page.get_by_text("Check the amount column", exact=False)
    warning.wait_for(timeout=120_000)
    assert "mapped as the amount" in warning.inner_text()
    page.get_by_role("button", name="Keep case_outcome as a feature").wait_for(timeout=60_000)
    assert not page.get_by_role("button", name="Keep amount as a feature").count()
    page.wait_for_timeout(1000)
    warning.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "audit_fraud_mapped_amount.png"), full_page=False)
    _no_exception(page)
