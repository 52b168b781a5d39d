"""Quality's recommended model: the CNN, or its blend with the best cheap baseline when that blend wins
on the validation images, as credit and fraud recommend theirs (``core.ml.blend``).

``recommend_quality`` runs the check after training, by default: on the run's own validation images
(the ones early stopping watched; the test images never enter the choice), the CNN's class
probabilities are blended with the majority class's and with those of logistic regression on 16x16
thumbnails (fitted on the training images only) at 25 / 50 / 75 % network, scored by log loss
(``core.quality.search.check_quality_ensemble``, the rule of ``core.search.ensemble.choose_ensemble``).
The blend is recommended when it beats the CNN there (the line says when a baseline alone scored higher).

A recommended blend is written as ONE Keras model (``core.quality.ensemble.ensemble_model``: the CNN,
the regression as Keras layers, the weight), which replaces the run's model: it is what is saved, and
so what every door scores (``python -m core score``, the Score page, Dask, ``python -m core serve``
on Keras or ONNX Runtime, ``python -m core export --format onnx``), what SHAP and Grad-CAM explain and
what the reject threshold decides on. Runs saved before, or with the check off, hold the CNN alone.
"""

from __future__ import annotations

import time

import numpy as np

NETWORK, ENSEMBLE = "network", "ensemble"
OFF_NOTE = "The blend with the best baseline was switched off."


def _split(data, config, test) -> tuple[np.ndarray, np.ndarray]:
    """``train_quality``'s own training and validation images for the run's seed."""
    from core.quality.data import split_indices

    tr, va, _ = split_indices(data.labels, test_size=0.0 if test is not None else config.test_size,
                              val_size=config.val_size, seed=config.seed)
    return np.asarray(tr), np.asarray(va)


def check_run_blend(run, data, config, *, test=None) -> tuple[dict, object]:
    """The ensemble check of a trained run on its validation images (see the module's docstring), and
    the thumbnail regression it fitted (None when there was nothing to compare)."""
    from core.quality.baselines import _thumbs, fit_thumbnail_logistic
    from core.quality.engine import predict_images
    from core.quality.search import check_quality_ensemble

    tr, va = _split(data, config, test)
    if len(va) < 2 or len(np.unique(data.labels[va])) < 2:
        return {"checked": False, "use": False,
                "note": f"The validation images ({len(va)}) hold fewer than 2 classes, so no blend could be "
                        "compared."}, None
    val_proba = predict_images(run.model, data.images[va])
    k = val_proba.shape[1]
    # The baselines fitted once on the training images: the regression is the one a blend keeps.
    lr = fit_thumbnail_logistic(data.images[tr], data.labels[tr])
    p = np.zeros((len(va), k))
    p[:, lr.classes_] = lr.predict_proba(_thumbs(data.images[va]))
    majority = np.eye(k)[np.full(len(va), np.bincount(data.labels[tr], minlength=k).argmax())]
    proba = {"majority_class": majority, "logistic_16px": p}
    return check_quality_ensemble(data.subset(tr), data.subset(va), val_proba, proba=proba), lr


def recommend_quality(run, data, config, *, test=None, ensemble: bool = True):
    """Check the blend (unless ``ensemble`` is false) and, when it wins on validation, make it ``run``'s
    model: ``run.model``, ``run.test_proba`` and ``run.metrics`` become the blend's, the CNN's are kept in
    ``run.network`` and ``run.network_metrics``. Returns ``run``."""
    if not ensemble:
        run.ensemble, run.recommended = {}, NETWORK
        return run
    t0 = time.perf_counter()
    ens, lr = check_run_blend(run, data, config, test=test)
    if ens.get("use"):
        apply_blend(run, data, config, ens, test=test, lr=lr)
    else:
        run.recommended = NETWORK
        run.ensemble = {k: v for k, v in ens.items() if k != "candidates"}
    run.timings["blend_check_s"] = round(time.perf_counter() - t0, 3)
    return run


def apply_blend(run, data, config, ens: dict, *, test=None, lr=None):
    """Make the blend ``ens`` (``{"baseline", "weight", ...}``) ``run``'s model: one Keras model with the
    thumbnail regression fitted on the run's training images (``lr``, when fitted already), its test
    probabilities and metrics."""
    from core.quality.engine import predict_images, score_metrics
    from core.quality.ensemble import ensemble_model

    tr, _ = _split(data, config, test)
    blended = ensemble_model(run.model, ens, data.images[tr], data.labels[tr], image_size=run.image_size, lr=lr)
    run.network, run.network_metrics = run.model, run.metrics
    run.model = blended
    run.test_proba = predict_images(blended, run.test.images)
    run.metrics = score_metrics(run.test.labels, run.test_proba, run.class_names, run.ok_class, config.threshold)
    run.recommended = ENSEMBLE
    run.ensemble = {k: v for k, v in ens.items() if k != "candidates"}
    return run


def _plain(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k != "confusion"}


def recommended_section(run) -> dict:
    """The CLI's and the saved run's ``"recommended"``: ``{"model", "label", "name", "metrics", "saved"}``,
    the recommended model's test metrics; ``saved`` is the model the run's file holds (the same one),
    ``name`` how the saved verdict names it (``model_name``)."""
    from core.present.glossary import model_label

    if run.recommended == ENSEMBLE:
        return {"model": ENSEMBLE, "label": run.ensemble.get("label", "Ensemble"), "name": model_name(run),
                "metrics": _plain(run.metrics), "saved": ENSEMBLE}
    return {"model": NETWORK, "label": model_label(NETWORK), "name": model_name(run), "metrics": _plain(run.metrics),
            "saved": NETWORK}


def recommended_line(run) -> str:
    """One line: which model is recommended (saved, scored, explained) and why."""
    ens = run.ensemble or {}
    if run.recommended == ENSEMBLE:
        from core.search.ensemble import ensemble_reason

        reason = ensemble_reason(ens, network="the CNN", rows="images", names=BLEND_PARTNERS)
        return f"Recommended: {ens.get('label', 'the ensemble')} ({reason}; saved, scored and explained as one model)."
    if not ens:
        return f"Recommended: the CNN ({OFF_NOTE[0].lower() + OFF_NOTE[1:-1]})."
    return f"Recommended: the CNN ({ens.get('note') or 'no blend beats it on the validation images'})."


# How a sentence names the baseline a saved blend mixes in ("The blend of the CNN with ...").
BLEND_PARTNERS = {"majority_class": "the majority class", "logistic_16px": "the thumbnail regression"}


def model_name(run) -> str:
    """How a verdict or a trust flag names the recommended model, the one saved: "The CNN", or "The blend
    of the CNN with the thumbnail regression" (with the baseline the blend mixes in)."""
    if getattr(run, "recommended", NETWORK) != ENSEMBLE:
        return "The CNN"
    base = str((getattr(run, "ensemble", None) or {}).get("baseline") or "")
    return f"The blend of the CNN with {BLEND_PARTNERS.get(base, base.replace('_', ' ') or 'the best baseline')}"
