"""Quality inspection's steps, written once for every door: train and decide, save, load, explain, score.

:func:`train_and_decide` is the training every door runs (the page's job ``core.quality.jobs``, the command
line ``core.quality.cli``, the Overview's demo and the monitor's challenger ``core.quality.retrain``): the
model search when asked, the CNN, its blend with the best baseline when that wins on validation
(``core.quality.recommend``: then the run's model, saved and explained, is the blend), the baselines it must
beat, the reject threshold at the costs (:func:`decide`: the cheapest one, or the one the analyst named) and,
when asked, the verdict with its trust flags. :func:`save` writes a :class:`QualityOutcome` with its
workspace summary; :func:`load` reads it back and :func:`explain` draws one image's Grad-CAM and SHAP maps.

The Score page and ``python -m core score`` (``core.quality.scenario.score_quality_batch``), the Dask
engine (``core.quality.scale.score_image_block``, per block of images) and the prediction service
(``core.quality.serving``) decode images their own way (a folder or zip, an archive's members, base64)
and classify them with :func:`score_images`: class probabilities, P(defect) and pass / reject at the
threshold (``core.quality.evaluate.get_predictions_frame``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataValidationError

COST_ESCAPE = 50.0  # cost of a defect that passes unless the analyst names another (the CLI's --cost-escape)
COST_FALSE_REJECT = 2.0  # cost of rejecting a good part (the CLI's --cost-false-reject)
PREPARING = "Preparing the images"  # the stages ``train_and_decide`` tells ``status``
BLENDING = "Blending with the best baseline, if it wins on the validation images"
BASELINES = "Training the baselines (majority class, logistic regression on thumbnails)"


@dataclass(frozen=True)
class QualityDecision:
    """The reject threshold (reject when P(defect) is at or above it), the costs it was set at and the
    cost analysis of the test images there (``core.quality.evaluate.CostAnalysis``: cost per part at the
    threshold, the cheapest threshold ...); ``cost`` is None for defect typing (no class means 'good part',
    nothing is rejected)."""

    threshold: float
    cost_escape: float
    cost_false_reject: float
    cost: Any = field(default=None, compare=False)  # (a table: decisions compare by threshold and costs)


@dataclass(frozen=True)
class QualityOutcome:
    """One training's result: the run (its ``background`` images are what SHAP explains against), its
    decision, the image set it was trained on (and the separate test set, when one was given) at the run's
    input size, the baselines' test probabilities and metrics (empty when not fitted), the model search
    (None without one), the verdict with its trust flags (None when not asked) and the seconds of the
    service's own steps (``baselines``, ``total``)."""

    run: Any  # core.quality.engine.QualityRun
    decision: QualityDecision
    data: Any = None
    test: Any = None
    baselines: dict = field(default_factory=dict)
    baseline_metrics: dict = field(default_factory=dict)
    search: Any = None
    verdict: dict | None = None
    trust: Any = None
    timings: dict = field(default_factory=dict)


def defect_scores(run):
    """(defect labels, P(defect)) of ``run``'s test images; (None, None) for defect typing."""
    from core.quality.evaluate import get_defect_labels, get_defect_scores

    if run.ok_class is None:
        return None, None
    return (get_defect_labels(run.test.labels, run.class_names, run.ok_class),
            get_defect_scores(run.test_proba, run.class_names, run.ok_class))


def decide(run, *, cost_escape: float = COST_ESCAPE, cost_false_reject: float = COST_FALSE_REJECT,
           threshold: float | None = None, digits: int | None = None) -> QualityDecision:
    """The reject decision on ``run``'s test images at the costs: at ``threshold`` when given (the CLI's
    ``--threshold``, a challenger keeping its champion's), else at the cheapest threshold, rounded to
    ``digits`` when given (the page's and the demo's two). Defect typing rejects nothing: its threshold is
    the given one or the run's own (``config.threshold``)."""
    from core.quality.evaluate import compute_cost_analysis

    y_def, p_def = defect_scores(run)
    if y_def is None:
        return QualityDecision(float(run.config.threshold if threshold is None else threshold), float(cost_escape),
                               float(cost_false_reject))
    if threshold is None:
        best = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_false_reject,
                                     threshold=float(run.config.threshold)).best_threshold
        threshold = best if digits is None else round(float(best), digits)
    return decision_at(run, threshold, cost_escape=cost_escape, cost_false_reject=cost_false_reject)


def decision_at(run, threshold: float, *, cost_escape: float, cost_false_reject: float) -> QualityDecision:
    """The decision at a threshold the analyst chose (the page's slider), with its cost analysis."""
    from core.quality.evaluate import compute_cost_analysis

    y_def, p_def = defect_scores(run)
    cost = None if y_def is None else compute_cost_analysis(
        y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_false_reject, threshold=threshold)
    return QualityDecision(float(threshold), float(cost_escape), float(cost_false_reject), cost)


def judge(run, decision: QualityDecision, baseline_proba: dict):
    """(the verdicts against the best baseline, defect ROC-AUC when there is a good class, then the error
    rate, with the trust flags at the decision, as the CLI's ``verdict``; the ``Trust``)."""
    from core.quality.baselines import compare_quality
    from core.quality.recommend import model_name
    from core.quality.trust import quality_trust
    from core.report.trust import verdict_json

    verdicts = compare_quality(run, baseline_proba)
    trust = quality_trust(run, threshold=decision.threshold, cost_escape=decision.cost_escape,
                          cost_false_reject=decision.cost_false_reject)
    return verdict_json(verdicts[0], trust, model=model_name(run), more=verdicts[1:]), trust


def _resized(size: int, data, test):
    from core.quality.search import resize_dataset

    return resize_dataset(data, size), None if test is None else resize_dataset(test, size)


def train_and_decide(data, *, config=None, test=None, ok_class: str | None = None,
                     search_budget: float | None = None, search_trials: int | None = None,
                     resize: Callable[[int], tuple] | None = None, ensemble: bool = True, baselines: bool = True,
                     cost_escape: float = COST_ESCAPE, cost_false_reject: float = COST_FALSE_REJECT,
                     threshold: float | None = None, digits: int | None = None, verdict: bool = False,
                     progress=None, status: Callable[[str], None] | None = None, search_progress=None,
                     notice: Callable[[str], None] | None = None) -> QualityOutcome:
    """Search (``search_budget`` seconds, when given), train (``core.quality.engine.train_quality`` on
    ``data``, tested on ``test`` when given, else on a held-out share), check the blend (unless ``ensemble``
    is false), fit the baselines (unless ``baselines`` is false; the verdict needs them), decide
    (:func:`decide`) and, when ``verdict``, judge.

    When the search picks another input size, ``resize(size)`` gives the images again at that size as
    ``(data, test)`` (default: ``core.quality.search.resize_dataset``; the command line reads the files again).
    ``progress(epoch, epochs, logs)`` hears every epoch, ``status(text)`` each stage, ``search_progress`` the
    search's trials and ``notice(text)`` the search's notes."""
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.recommend import recommend_quality

    if verdict and not baselines:
        raise TypeError("train_and_decide: the verdict compares with the baselines; pass baselines=True")
    t0 = time.perf_counter()
    config = config or QualityConfig()
    found = None
    if search_budget is not None:
        from core.quality.search import search_quality

        found = search_quality(data, config, budget=search_budget, test=test, ok_class=ok_class,
                               n_trials=search_trials, progress=search_progress)
        for line in found.result.notices if notice is not None else ():
            notice(line)
        config = found.config
        if found.image_size != data.image_size:
            data, test = (resize or (lambda size: _resized(size, data, test)))(found.image_size)
    if status is not None:
        status(PREPARING)
    run = train_quality(data, config=config, test=test, ok_class=ok_class, progress=progress)
    if status is not None and ensemble:
        status(BLENDING)
    recommend_quality(run, data, config, test=test, ensemble=ensemble)
    timings, proba, metrics = {}, {}, {}
    if baselines:
        # The baselines see the images the network trained and validated on, and the same test images.
        from core.quality.baselines import baseline_fit_images, compute_baselines

        if status is not None:
            status(BASELINES)
        t1 = time.perf_counter()
        images, labels = baseline_fit_images(data, config, test=test)
        metrics, proba = compute_baselines(images, labels, run.test.images, run.test.labels, run.class_names,
                                           with_proba=True)
        timings["baselines"] = time.perf_counter() - t1
    decision = decide(run, cost_escape=cost_escape, cost_false_reject=cost_false_reject, threshold=threshold,
                      digits=digits)
    judged, trust = judge(run, decision, proba) if verdict else (None, None)
    timings["total"] = time.perf_counter() - t0
    return QualityOutcome(run, decision, data=data, test=test, baselines=proba, baseline_metrics=metrics,
                          search=found, verdict=judged, trust=trust, timings=timings)


def save(outcome: QualityOutcome, run_dir, *, name: str, data=None, dataset_name: str | None = None,
         lineage: dict | None = None, gallery: bool = False) -> Path:
    """Save the run as the folder ``run_dir`` with its workspace summary (``core.quality.summary``) at the
    outcome's decision, the model search when there was one and ``lineage`` (a challenger's parent);
    ``data``: the image set to fingerprint (default: the outcome's). ``gallery`` keeps a few caught
    defects with their heatmaps (presenter mode, ``core.quality.export.save_quality_run``)."""
    from core.quality.export import save_quality_run
    from core.quality.summary import build_quality_summary

    d, run = outcome.decision, outcome.run
    summary = build_quality_summary(run, name=name, threshold=d.threshold, cost_escape=d.cost_escape,
                                    cost_false_reject=d.cost_false_reject,
                                    data=outcome.data if data is None else data, dataset_name=dataset_name)
    if outcome.search is not None:
        from core.quality.search import quality_search_section
        from core.search.scenarios import attach_search

        attach_search(summary, quality_search_section(outcome.search, run, outcome.baselines or None))
    if lineage is not None:
        summary["lineage"] = dict(lineage)
    run_dir = Path(run_dir)
    return save_quality_run(run_dir.parent, run, run_id=run_dir.name, threshold=d.threshold,
                            costs={"escape": d.cost_escape, "false_reject": d.cost_false_reject},
                            extra_metadata=summary, gallery=gallery)


def load(run_dir, *, runtime: str | None = None):
    """A saved quality run, ready to score with :func:`score_images` (``core.quality.export.SavedQualityModel``);
    ``runtime="onnx"`` runs the network on ONNX Runtime."""
    from core.quality.export import load_quality_model

    return load_quality_model(run_dir, runtime=runtime)


def explain(model, image, *, background=None, threshold: float | None = None, target="auto", nsamples: int = 64,
            seed: int | None = None):
    """One image's probabilities, verdict and Grad-CAM and SHAP maps (``core.quality.explain.ImageExplanation``)
    for a trained run (``QualityOutcome.run``: SHAP against its own training images) or a run loaded with the
    Keras runtime (:func:`load`; a saved run keeps no training images, so ``background``, a few of them of the
    run's size, is needed). ``threshold``: the run's own when None."""
    from core.quality.engine import check_images
    from core.quality.explain import explain_with

    network = model.model
    background = getattr(model, "background", None) if background is None else background
    if background is None:
        raise DataValidationError(
            "Expected a few training images (same size and colours as the run's) to explain a saved quality run "
            "with SHAP against; got none. Fix: pass background= images from the set the run was trained on.")
    if not hasattr(network, "layers"):
        raise DataValidationError(
            "Expected the run's Keras network to draw Grad-CAM and SHAP maps; got a model loaded for ONNX Runtime. "
            "Fix: load the run with runtime=None (Keras).")
    image = check_images(np.asarray(image)[None] if np.asarray(image).ndim == 3 else image, model.image_size,
                         model.channels)
    background = check_images(background, model.image_size, model.channels)
    config = getattr(model, "config", None)  # a trained run's; a loaded one keeps its threshold only
    if threshold is None:
        threshold = model.threshold if config is None else config.threshold
    if seed is None:
        seed = 0 if config is None else config.seed
    return explain_with(network, image, class_names=model.class_names, ok_class=model.ok_class, background=background,
                        seed=int(seed), threshold=float(threshold), target=target, nsamples=nsamples)


def score_images(saved, images, names, labels=None, *, threshold: float):
    """One row per image (``names`` in order) for a loaded run (:func:`load`): actual class when ``labels``
    (class indices) are given, predicted class, probabilities, P(defect) and verdict at ``threshold``. No
    images gives the empty table with the same columns."""
    from core.quality.evaluate import get_predictions_frame

    if len(images):
        proba = saved.predict_proba(images)
    else:
        proba = np.zeros((0, len(saved.class_names)), dtype=np.float32)
    return get_predictions_frame(names, labels, proba, saved.class_names, saved.ok_class, threshold)
