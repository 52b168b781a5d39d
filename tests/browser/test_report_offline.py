"""Browser tests: the model card opens and draws its charts with every network request blocked, and the
Runs page hands out that card through its download button."""

from __future__ import annotations

import pytest

from core.workspace.report import build_report_html
from tests.workspace.run_factory import make_run, populate, workspace_meta


def _block_network(page) -> list[str]:
    """Abort every request that is not for a local file; return the list of attempted URLs."""
    attempted: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    page.route("**/*", handle)
    return attempted


@pytest.mark.browser
def test_report_renders_offline(page, tmp_path, screenshot_dir):
    ws = workspace_meta(name="credit offline", auc=0.77, columns=["income", "<b>bold</b> & co", "debt"])
    path = make_run(tmp_path / "runs", "credit-offline", workspace=ws)
    report = tmp_path / "card.html"
    report.write_text(build_report_html(path), encoding="utf-8")
    attempted = _block_network(page)
    page.goto(report.as_uri())
    page.locator("svg.main-svg").first.wait_for(timeout=30_000)
    charts = page.locator(".js-plotly-plot")
    assert charts.count() == 2  # ROC curve and SHAP importance, both drawn by the inlined plotly.js
    shap = charts.filter(has_text="Global importance (mean |SHAP|)")
    assert shap.count() == 1
    # The user's column name is shown as typed, not interpreted as markup.
    assert shap.get_by_text("<b>bold</b> & co").count() == 1
    assert page.get_by_text("Loss per approved defaulter €4,321").is_visible()
    page.wait_for_timeout(500)
    assert attempted == [], attempted
    page.screenshot(path=str(screenshot_dir / "report_offline.png"), full_page=True)


@pytest.mark.browser
def test_runs_page_downloads_the_report(app_url, app_workdir, page, tmp_path, screenshot_dir):
    # A sub-folder of the app's runs folder (set up by the operator) is picked by name; no path is typed or shown.
    folder = f"report-{tmp_path.name}"
    root = app_workdir / "runs" / folder
    populate(root)
    page.goto(f"{app_url}/runs")
    page.get_by_label("Runs folder", exact=True).click()
    page.get_by_role("option", name=folder).click()
    page.get_by_text("4 of 4 runs").wait_for(timeout=60_000)
    assert str(app_workdir) not in page.inner_text("body")
    page.get_by_text("1 run folder(s) could not be read").wait_for()
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Download report").click()
    download = dl.value
    assert download.suggested_filename == "model-card-fraud-x.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert "Model card — fraud first try" in text and "Plotly.newPlot" in text
    page.screenshot(path=str(screenshot_dir / "runs_page.png"), full_page=True)
