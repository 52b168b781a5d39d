"""Export a quality run (model + JSON + predictions CSV) and score new images with a saved one."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.quality.data import ImageDataset
from core.quality.evaluate import get_predictions_frame

PREDICTIONS_FILE = "test_predictions.csv"


def get_test_predictions(run, threshold: float) -> pd.DataFrame:
    """The test set's predictions at ``threshold`` (what the page offers as a CSV download)."""
    return get_predictions_frame(run.test.names, run.test.labels, run.test_proba, run.class_names,
                                 run.ok_class, threshold)


GALLERY_FILE = "defect_gallery.npz"


def gallery_bytes(run, threshold: float, *, k: int = 4) -> bytes | None:
    """The ``k`` held-out defective parts the model rejects most surely, with their Grad-CAM maps (where it
    looked), as a NumPy archive without pickled objects; None when the run has no OK class or catches none."""
    import io

    import numpy as np

    from core.quality.evaluate import get_defect_labels, get_defect_scores
    from core.quality.explain import compute_gradcam

    if run.ok_class is None:
        return None
    y = get_defect_labels(run.test.labels, run.class_names, run.ok_class)
    p = get_defect_scores(run.test_proba, run.class_names, run.ok_class)
    caught = np.flatnonzero((y == 1) & (p >= threshold))
    if not len(caught):
        return None
    pick = caught[np.argsort(-p[caught], kind="stable")][:k]
    images = np.asarray(run.test.images)[pick]
    maps = compute_gradcam(run.model, images, target="defect", class_names=run.class_names,
                           ok_class=run.ok_class).maps
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images.astype(np.uint8), maps=maps.astype(np.float16),
                        classes=np.array([run.class_names[int(i)] for i in run.test.labels[pick]], dtype=str),
                        p_defect=p[pick].astype(np.float32))
    return buf.getvalue()


def save_quality_run(root, run, *, threshold: float, costs: dict | None = None,
                     extra_metadata: dict | None = None, run_id: str | None = None,
                     gallery: bool = False) -> Path:
    """Save the trained model, its metadata (classes, image size) and the test predictions
    through the shared registry (atomic, JSON only, safe-mode Keras file).
    ``extra_metadata`` (the workspace summary, see ``core.workspace``) is stored under "workspace". The
    reject threshold scored with and the ``costs`` (``{"escape": ..., "false_reject": ...}``) are saved once,
    in ``workspace.decision`` (``core.store.runmeta``: ``cost_escape``, ``cost_false_reject``), also for a
    run saved without the summary (a defect-typing run has none: it rejects nothing). With ``gallery`` also a
    few caught defects and their Grad-CAM maps (``gallery_bytes``)."""
    from core.store.registry import save_run

    meta = run.metadata()
    ws = dict(extra_metadata or {})
    if run.ok_class is not None:  # defect typing rejects nothing: its record has no threshold nor costs
        ws["decision"] = {**(ws.get("decision") or {}), "threshold": float(threshold), **decision_costs(costs)}
    if ws:
        meta["workspace"] = ws
    csv = get_test_predictions(run, threshold).to_csv(index=False).encode()
    files = {PREDICTIONS_FILE: csv}
    kept = gallery_bytes(run, threshold) if gallery else None
    if kept is not None:  # a few caught defects with heatmaps, for presenter mode
        files[GALLERY_FILE] = kept
    return save_run(root, model=run.model, metadata=meta, run_id=run_id, files=files)


COST_KEYS = {"escape": "cost_escape", "false_reject": "cost_false_reject"}  # costs -> the decision record's names


def decision_costs(costs) -> dict:
    """``costs`` (``{"escape": ..., "false_reject": ...}``) as the decision record's ``cost_escape`` /
    ``cost_false_reject``; a cost not set (None, or not a number in an older run's metadata) is left out,
    and costs of another shape than a dict give none."""
    if not isinstance(costs, dict):
        return {}
    return {COST_KEYS[k]: float(v) for k, v in costs.items()
            if k in COST_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool)}


def get_model_zip(run, *, threshold: float, costs: dict | None = None) -> bytes:
    """The saved run as one zip (for a browser download), built in a temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = save_quality_run(tmp, run, threshold=threshold, costs=costs)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(path.iterdir()):
                zf.write(f, f"{path.name}/{f.name}")
        return buf.getvalue()


@dataclass
class SavedQualityModel:
    """A loaded quality model and what it needs to score new images."""

    model: Any
    class_names: tuple[str, ...]
    ok_class: str | None
    image_size: int
    channels: int
    threshold: float

    def predict_proba(self, images) -> np.ndarray:
        from core.quality.engine import check_images, predict_images

        return predict_images(self.model, check_images(images, self.image_size, self.channels))

    def score(self, data: ImageDataset) -> pd.DataFrame:
        """Predictions for a loaded image set (labels are compared when the set has them)."""
        proba = self.predict_proba(data.images)
        return get_predictions_frame(data.names, data.labels, proba, self.class_names, self.ok_class, self.threshold)


def load_quality_model(path, *, runtime: str | None = None) -> SavedQualityModel:
    """Load a run saved by :func:`save_quality_run`; ``runtime="onnx"`` runs the network on ONNX
    Runtime instead of TensorFlow (``core.runtime``)."""
    from core.serve.decisions import get_decision_settings
    from core.runtime import load_run_model

    run = load_run_model(Path(path), runtime=runtime)
    meta = run.metadata
    if meta.get("scenario") != "quality" or run.model is None:
        raise DataValidationError(
            f"Expected a saved quality-inspection run; got scenario '{meta.get('scenario')}' at {path}. "
            "Point --model to a folder written by the quality page or CLI."
        )
    return SavedQualityModel(run.model, tuple(meta["class_names"]), meta.get("ok_class"),
                             int(meta["image_size"]), int(meta["channels"]),
                             float(get_decision_settings(meta)["threshold"]))
