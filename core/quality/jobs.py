"""The quality page's heavy steps as jobs (``core.jobs``): run in a worker process, their progress
reported as they go, their results handed back to the page as files.

``train_page`` is everything the training button does besides drawing: the model search when asked,
the CNN, its blend with the best baseline when that wins on validation (``core.quality.recommend``:
then the run's model, saved and explained, is the blend) and the baselines it must beat.
``explain_page`` is one image's Grad-CAM and SHAP maps (the heatmaps tab), which need the Keras
network itself (gradients, a readout layer on its output): the page holds the network only as a
``core.jobs.store.DetachedModel`` served by ONNX Runtime, so it asks a worker.
"""

from __future__ import annotations

import numpy as np


def train_page(data, *, ok_class, config_options: dict, search: dict | None, report) -> dict:
    """Search (when ``search`` turns it on), train, check the blend (unless ``search["ensemble"]`` is
    false), fit the baselines.

    Returns ``{"run", "search", "baselines", "ensemble_shap"}`` (``search`` is ``None`` without a
    search; ``ensemble_shap`` is ``None``: a recommended blend is the run's model, so the page's own
    heatmaps are the blend's); ``report`` receives the search's trials, every epoch and each stage's
    sentence."""
    from core.quality.baselines import fit_baselines_for_run
    from core.quality.engine import QualityConfig, train_quality

    config = QualityConfig(**config_options)
    found = None
    if search and search.get("enabled"):
        from core.quality.search import resize_dataset, search_quality

        found = search_quality(data, config, budget=search["budget"], ok_class=ok_class,
                               progress=report.search)
        config, data = found.config, resize_dataset(data, found.image_size)
    report.stage(0.0, "Preparing the images")
    run = train_quality(data, config=config, ok_class=ok_class, progress=report.epoch)
    from core.quality.recommend import recommend_quality

    report.stage(1.0, "Blending with the best baseline, if it wins on the validation images")
    recommend_quality(run, data, config, ensemble=(search or {}).get("ensemble", True) is not False)
    # The baselines a CNN must beat, on the same training and test images, for the verdict.
    report.stage(1.0, "Training the baselines (majority class, logistic regression on thumbnails)")
    baselines = fit_baselines_for_run(data, run, config)
    return {"run": run, "search": found, "baselines": baselines, "ensemble_shap": None}


def keras_network(model):
    """The Keras network behind ``model``: itself when it is one, else loaded from the ``.keras`` bytes
    a ``DetachedModel`` carries (in the worker: the server never loads it)."""
    from core.jobs.store import DetachedModel

    if not isinstance(model, DetachedModel):
        return model
    import tempfile
    from pathlib import Path

    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(model.keras_bytes)
        return keras.saving.load_model(path, compile=False, safe_mode=False)


def explain_page(model, image, *, class_names, ok_class, background, seed: int, threshold: float,
                 target="auto", nsamples: int = 64, report):
    """One image's probabilities, verdict at ``threshold`` and both heatmaps
    (``core.quality.explain.explain_image``), computed with the Keras network."""
    from core.quality.explain import explain_with

    report.stage(0.0, "Grad-CAM and SHAP")
    return explain_with(keras_network(model), np.asarray(image), class_names=tuple(class_names), ok_class=ok_class,
                        background=np.asarray(background), seed=int(seed), threshold=float(threshold), target=target,
                        nsamples=int(nsamples))
