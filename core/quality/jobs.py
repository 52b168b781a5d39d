"""The quality page's heavy steps as jobs (``core.jobs``): run in a worker process, their progress
reported as they go, their results handed back to the page as files.

``train_page`` is everything the training button does besides drawing: the service's training
(``core.quality.service.train_and_decide``: the model search when asked, the CNN, its blend with the
best baseline when that wins on validation and the baselines it must beat); this adapts the page's
options and its report.
``explain_page`` is one image's Grad-CAM and SHAP maps (the heatmaps tab), which need the Keras
network itself (gradients, a readout layer on its output): the page holds the network only as a
``core.jobs.store.DetachedModel`` served by ONNX Runtime, so it asks a worker.
"""

from __future__ import annotations

import numpy as np


def train_page(data, *, ok_class, config_options: dict, search: dict | None, report) -> dict:
    """Search (when ``search`` turns it on), train, check the blend (unless ``search["ensemble"]`` is
    false), fit the baselines: the service's training (``core.quality.service.train_and_decide``).

    Returns ``{"run", "search", "baselines", "ensemble_shap"}`` (``search`` is ``None`` without a
    search; ``ensemble_shap`` is ``None``: a recommended blend is the run's model, so the page's own
    heatmaps are the blend's); ``report`` receives the search's trials, every epoch and each stage's
    sentence. The page sets the reject threshold itself, at its own costs (``core.quality.service.decide``)."""
    from core.quality import service
    from core.quality.engine import QualityConfig

    searching = bool(search and search.get("enabled"))
    outcome = service.train_and_decide(
        data, config=QualityConfig(**config_options), ok_class=ok_class,
        search_budget=search["budget"] if searching else None, ensemble=(search or {}).get("ensemble", True) is not False,
        progress=report.epoch, search_progress=report.search if searching else None,
        status=lambda text: report.stage(0.0 if text == service.PREPARING else 1.0, text))
    return {"run": outcome.run, "search": outcome.search, "baselines": outcome.baselines, "ensemble_shap": None}


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
