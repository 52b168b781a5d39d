"""The Runs page's details of a quality run whose recommended model is the blend, in Chromium: the
recommended model and the trust flags name the blend."""

import pytest

from tests.conftest import run_app
from tests.quality.conftest import make_zip, sample_entries

pytestmark = pytest.mark.browser


def test_runs_page_names_a_saved_blend_as_the_recommended_model(tmp_path, browser, screenshot_dir, monkeypatch):
    import core.ml.verdict
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.export import save_quality_run
    from core.quality.recommend import apply_blend
    from core.quality.summary import build_quality_summary

    path = tmp_path / "parts.zip"
    path.write_bytes(make_zip(sample_entries({"ok": 30, "pit": 10, "crack": 10}, size=24, seed=1)))
    data = load_image_dataset(path, options=LoadOptions(image_size=24))
    config = QualityConfig(epochs=1, batch_size=16, seed=2)
    run = train_quality(data, config=config)
    apply_blend(run, data, config, {"use": True, "baseline": "logistic_16px", "weight": 0.75,
                                    "label": "Ensemble: 75 % CNN + 25 % logistic regression on 16×16 thumbnails"})
    # A defect ROC-AUC interval holding 0.5: the run is flagged as chance, under the saved model's name.
    monkeypatch.setattr(core.ml.verdict, "roc_auc_interval", lambda *a, **k: (0.52, 0.41, 0.63))
    ws = build_quality_summary(run, name="parts, blended", threshold=0.5, cost_escape=50, cost_false_reject=2,
                               data=data)
    save_quality_run(tmp_path / "runs", run, threshold=0.5, extra_metadata=ws, run_id="blended")
    context = browser.new_context(viewport={"width": 1440, "height": 2000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    with run_app(tmp_path) as url:
        page.goto(f"{url}/runs")
        page.get_by_text("1 of 1 runs").wait_for()
        line = page.locator("p", has_text="Recommended model").first
        line.wait_for()
        line.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "runs_quality_blend.png"), full_page=True)
        text = line.inner_text()
        assert "Ensemble: 75 % CNN + 25 % logistic regression on 16×16 thumbnails" in text, text
        assert f"accuracy {run.metrics['accuracy']:.3f}" in text, text
        flag = page.get_by_text("No better than chance.").first.locator("xpath=..").inner_text()
        assert "The blend of the CNN with the thumbnail regression's defect ROC-AUC is 0.520" in flag, flag
        assert "The CNN's" not in page.locator("section.main, [data-testid=stMain]").first.inner_text()
        assert page.locator("[data-testid=stException]").count() == 0
    context.close()
