"""Quality inspection's scoring step, written once for every door.

The Score page and ``python -m core score`` (``core.quality.scenario.score_quality_batch``), the Dask
engine (``core.quality.scale.score_image_block``, per block of images) and the prediction service
(``core.quality.serving``) decode images their own way (a folder or zip, an archive's members, base64)
and classify them with :func:`score_images`: class probabilities, P(defect) and pass / reject at the
threshold (``core.quality.evaluate.get_predictions_frame``).
"""

from __future__ import annotations

import numpy as np


def score_images(saved, images, names, labels=None, *, threshold: float):
    """One row per image (``names`` in order) for a loaded run (``core.quality.export.load_quality_model``):
    actual class when ``labels`` (class indices) are given, predicted class, probabilities, P(defect) and
    verdict at ``threshold``. No images gives the empty table with the same columns."""
    from core.quality.evaluate import get_predictions_frame

    if len(images):
        proba = saved.predict_proba(images)
    else:
        proba = np.zeros((0, len(saved.class_names)), dtype=np.float32)
    return get_predictions_frame(names, labels, proba, saved.class_names, saved.ok_class, threshold)
