"""A quality challenger through the command line and the Monitor page: a tiny run (24-px images, one
epoch) scores a batch of new parts unlabelled; the inspected batch comes back as a zip of class
folders with more images the run never saw; ``retrain`` trains the champion's settings on the
original images plus the unseen new ones and judges both on the images the champion scored (ROC-AUC
of "defect", paired bootstrap, and defect recall at the run's threshold)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.errors import DataValidationError
from core.monitor.retrain import retrain
from tests.monitor.test_loop_credit import run_cli

ROOT = Path(__file__).resolve().parents[2]
SIZE = 24


def image_zip(counts: dict, seed: int, *, folders: bool, prefix: str = "part", start: int = 0) -> bytes:
    """Generated parts as PNGs: ``<class>/<prefix>_<n>.png`` with ``folders``, else flat ``<prefix>_<n>.png``."""
    from PIL import Image

    from core.quality.synth import generate_sample

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, image in enumerate(generate_sample(counts=counts, size=SIZE, seed=seed)):
            png = io.BytesIO()
            Image.fromarray((image.pixels * 255).round().astype(np.uint8), mode="L").save(png, format="PNG")
            name = f"{prefix}_{start + i:04d}.png"
            zf.writestr(f"{image.label}/{name}" if folders else name, png.getvalue())
    return buf.getvalue()


@pytest.fixture(scope="module")
def quality_loop(tmp_path_factory):
    return scored_and_inspected(tmp_path_factory.mktemp("quality-retrain"))


def scored_and_inspected(work: Path) -> dict:
    """``work/runs/quality-1`` trained on ``work/original.zip``; 30 of 40 new parts scored flat
    (``work/scored.zip``), all 40 inspected in class folders (``work/inspected.zip``)."""
    (work / "original.zip").write_bytes(image_zip({"ok": 30, "scratch": 8, "crack": 8}, 0, folders=True))
    run = work / "runs" / "quality-1"
    run_cli("train", "--scenario", "quality", "--data", work / "original.zip", "--image-size", str(SIZE),
            "--epochs", "1", "--threshold", "0.4", "--cost-escape", "70", "--save", run)
    # The batch the run scores: parts 0..29 (of 40 inspected later), flat and unlabelled, as on the line.
    batch = {"ok": 20, "scratch": 10, "crack": 10}
    flat = zipfile.ZipFile(io.BytesIO(image_zip(batch, 5, folders=False)))
    scored = io.BytesIO()
    with zipfile.ZipFile(scored, "w") as zf:
        for info in flat.infolist():
            if int(info.filename[5:9]) % 4 != 3:  # three in four parts were scored
                zf.writestr(info.filename, flat.read(info))
    (work / "scored.zip").write_bytes(scored.getvalue())
    run_cli("score", "--model", run, "--data", work / "scored.zip", "--out", work / "scored.csv", "--quiet")
    (work / "inspected.zip").write_bytes(image_zip(batch, 5, folders=True))
    return {"work": work, "run": run}


def test_a_quality_challenger_is_judged_on_the_inspected_images_the_champion_scored(quality_loop):
    import pandas as pd

    work, run = quality_loop["work"], quality_loop["run"]
    out = run_cli("retrain", "--model", run, "--train-data", work / "original.zip", "--data", work / "inspected.zip")
    scored = pd.read_csv(work / "scored.csv")
    assert out["comparison"]["rows"] == len(scored) == 30  # matched by file name: scored flat, inspected in folders
    assert out["new_rows"] == 10 and out["file_rows"] == 40  # the ten parts never scored are learnt from
    verdict = out["verdict"]
    assert verdict["metric"] == "ROC-AUC" and verdict["low"] <= verdict["diff"] <= verdict["high"]
    # The champion's figure is its logged scores' ROC-AUC against the inspected classes.
    from sklearn.metrics import roc_auc_score

    defect = ~scored["file"].isin([f"part_{i:04d}.png" for i in range(20)])  # the first 20 generated are ok
    assert verdict["baseline_value"] == pytest.approx(roc_auc_score(defect, scored["p_defect"]), abs=2e-3)
    recall = out["defect_recall"]
    assert recall["threshold"] == 0.4 and recall["defects"] == int(defect.sum())
    assert recall["champion"] == pytest.approx((scored["p_defect"][defect] >= 0.4).mean())
    assert recall["low"] <= recall["diff"] <= recall["high"]
    assert "comparison images" in verdict["sentence"] and any("Defect recall" in n for n in out["notices"])
    challenger = Path(out["challenger"])
    meta = json.loads((challenger / "metadata.json").read_text())
    champion = json.loads((run / "metadata.json").read_text())
    assert meta["config"] == champion["config"] and meta["image_size"] == SIZE
    assert meta["workspace"]["decision"]["threshold"] == 0.4 and "threshold" not in meta  # the one record
    # ... with the champion's costs, read from its record and saved there once
    assert (meta["workspace"]["decision"]["cost_escape"], meta["workspace"]["decision"]["cost_false_reject"]) == \
        (70.0, 2.0) and "costs" not in meta and "costs" not in champion
    lineage = meta["workspace"]["lineage"]
    assert lineage["champion"] == "quality-1" and lineage["holdout_rows"] == 30 and lineage["original_images"] == 46
    status = json.loads((challenger / "monitor" / "status.json").read_text())
    assert status["role"] == "challenger" and status["champion"] == "quality-1" and "defect_recall" in status["verdict"]
    promoted = run_cli("promote", "--model", challenger)
    assert promoted["promoted"] == challenger.name and promoted["retired"] == "quality-1"


def test_quality_retraining_says_what_is_missing(quality_loop, tmp_path):
    work, run = quality_loop["work"], quality_loop["run"]
    with pytest.raises(DataValidationError, match="Expected the run's original training images .*keeps none"):
        retrain(run, data=work / "inspected.zip", save=tmp_path / "a")
    with pytest.raises(DataValidationError, match="Expected the newly inspected images"):
        retrain(run, train_data=work / "original.zip", save=tmp_path / "b")
    other = tmp_path / "other.zip"
    other.write_bytes(image_zip({"ok": 10, "crack": 10}, 9, folders=True, prefix="unseen"))
    with pytest.raises(DataValidationError, match="that run 'quality-1' scored .*got none of the 20 image"):
        retrain(run, train_data=work / "original.zip", data=other, save=tmp_path / "c")
    dent = io.BytesIO()
    with zipfile.ZipFile(dent, "w") as zf:
        zf.writestr("dent/part_0001.png", zipfile.ZipFile(work / "inspected.zip").read("ok/part_0000.png"))
    (tmp_path / "dent.zip").write_bytes(dent.getvalue())
    with pytest.raises(DataValidationError, match="newly inspected images use class.*not trained on: dent"):
        retrain(run, train_data=work / "original.zip", data=tmp_path / "dent.zip", save=tmp_path / "d")
    with pytest.raises(DataValidationError, match="original training images use class.*not trained on: dent"):
        retrain(run, train_data=tmp_path / "dent.zip", data=work / "inspected.zip", save=tmp_path / "e")
    assert not any((tmp_path / n).exists() for n in "abcde")


def test_the_monitor_page_asks_for_both_image_zips_then_trains_a_quality_challenger(quality_loop, tmp_path,
                                                                                    monkeypatch):
    import shutil

    from streamlit.testing.v1 import AppTest

    root = tmp_path / "runs"
    shutil.copytree(quality_loop["run"], root / "quality-page", ignore=shutil.ignore_patterns("status.json"))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    at = AppTest.from_file(str(ROOT / "pages" / "monitor.py"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert any("compared with this run on the inspected images it scored" in m.value for m in at.markdown)
    button = at.button(key="monitor.retrain")
    assert button.disabled and "Upload the original training images and the newly inspected images" in button.help
    work = quality_loop["work"]
    at.file_uploader(key="monitor.new_images").set_value(
        ("inspected.zip", (work / "inspected.zip").read_bytes(), "application/zip")).run()
    button = at.button(key="monitor.retrain")
    assert button.disabled and button.help.startswith("Upload the original training images first")
    at.file_uploader(key="monitor.train_images").set_value(
        ("original.zip", (work / "original.zip").read_bytes(), "application/zip")).run()
    assert not at.button(key="monitor.retrain").disabled
    at.button(key="monitor.retrain").click().run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in [*at.success, *at.info, *at.warning])
    assert "Challenger `quality-page-challenger-1` saved" in shown and "ROC-AUC on 30 comparison images" in shown
    assert any("Defect recall at the run's threshold 0.40" in m.value for m in at.markdown)
    assert (root / "quality-page-challenger-1" / "metadata.json").is_file()
