"""The Score page in Chromium for an image run: a zip with masks beside the photos is scored with the masks
left out and a notice naming them; the 'Keep mask-like images as photos' box scores them too. Screenshots are
kept in the screenshot folder for a person to look at."""

from __future__ import annotations

import io
import shutil
import zipfile

import numpy as np
import pytest

from core.workspace.demos import SAMPLES
from tests.conftest import run_app


@pytest.fixture(scope="module")
def quality_app(tmp_path_factory, saved_demo_runs):
    """The app over a runs folder holding a copy of the session's tiny quality demo run (one epoch,
    110 images at 32 px), the Score page's only run."""
    root = tmp_path_factory.mktemp("score_masks")
    shutil.copytree(saved_demo_runs["quality"], root / "runs" / saved_demo_runs["quality"].name)
    with run_app(root) as url:
        yield url


def photos_with_masks() -> bytes:
    """A zip of four bundled photos of good parts and two mask images beside them (``part_<i>_mask.png``)."""
    from PIL import Image

    mask = np.zeros((32, 32), dtype=np.uint8)
    mask[8:20, 8:20] = 255
    png = io.BytesIO()
    Image.fromarray(mask).save(png, format="PNG")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((SAMPLES["quality"] / "ok").iterdir())[:4]:
            zf.writestr(f"new/{p.name}", p.read_bytes())
        for i in range(2):
            zf.writestr(f"new/part_{i}_mask.png", png.getvalue())
    return buf.getvalue()


@pytest.mark.browser
def test_score_page_leaves_masks_out_and_the_box_keeps_them(quality_app, page, screenshot_dir, tmp_path):
    (tmp_path / "parts.zip").write_bytes(photos_with_masks())
    page.goto(f"{quality_app}/score")
    box = page.get_by_test_id("stForm").get_by_text("Keep mask-like images as photos")
    box.wait_for(timeout=120_000)
    page.locator("input[type='file']").first.set_input_files(str(tmp_path / "parts.zip"))
    page.get_by_role("button", name="Score file").click()
    notice = page.get_by_text("2 mask or annotation image(s) were left out", exact=False)
    notice.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    notice.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "score_masks_left_out.png"), full_page=False)
    box.click()
    page.get_by_role("button", name="Score file").click()
    kept = page.get_by_text("kept as photos, as asked", exact=False)
    kept.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "score_masks_form.png"), full_page=False)
    kept.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "score_masks_kept.png"), full_page=False)
    assert not page.locator("[data-testid='stException']").count()
