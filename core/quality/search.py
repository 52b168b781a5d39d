"""The search for quality inspection: the small CNN's filters, input size, augmentation, learning
rate and dropout.

Validation is on the training split only: the images are split exactly as ``train_quality``
splits them (same seed), and a trial trains ``train_quality`` on the training images and scores
the validation images, which the final model uses for early stopping; the test images (or the
separate test set) are never passed in. A trial is scored by its validation log loss (the
cross-entropy of the true class, lower is better: unlike accuracy it still separates two trials
that both classify a small validation set perfectly); the pruner watches the same loss after
every epoch, on the trial's own early-stopping images.
"""

from __future__ import annotations

import time

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from core.errors import DataValidationError
from core.search.engine import SearchProgress, SearchResult, confirm_boots, confirm_details, confirm_level, run_search

TUNED = ("filters", "image_size", "augment", "learning_rate", "dropout")
# Convolution filters per block, as text so Optuna can treat them as one choice.
FILTERS = ("16-32-64-96", "8-16-32-48", "16-32-64", "32-64-96", "16-32-64-128", "32-64-128-128")
IMAGE_SIZES = (32, 48, 64, 96, 128)


def filters_text(filters) -> str:
    return "-".join(str(int(f)) for f in filters)


def parse_filters(text: str) -> tuple[int, ...]:
    return tuple(int(f) for f in str(text).split("-"))


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 images (N, S, S, C) resized to (N, size, size, C) with area averaging (Pillow)."""
    from PIL import Image

    images = np.asarray(images)
    if images.shape[1] == size:
        return images
    out = np.empty((len(images), size, size, images.shape[-1]), dtype=np.uint8)
    for i, img in enumerate(images):
        if img.shape[-1] == 1:
            out[i, :, :, 0] = np.asarray(Image.fromarray(img[:, :, 0]).resize((size, size), Image.BOX))
        else:
            out[i] = np.asarray(Image.fromarray(img).resize((size, size), Image.BOX))
    return out


def resize_dataset(data, size: int):
    """The same images and labels at ``size`` pixels."""
    return data if data.image_size == size else replace(data, images=resize_images(data.images, size))


def split_for_quality_search(data, config, *, test=None) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the search's fitting and validation images: ``train_quality``'s own training
    and validation images for the same seed; the test images are left out."""
    from core.quality.data import split_indices

    if test is not None:
        tr, va, _ = split_indices(data.labels, test_size=0.0, val_size=config.val_size, seed=config.seed)
    else:
        tr, va, _ = split_indices(data.labels, test_size=config.test_size, val_size=config.val_size,
                                  seed=config.seed)
    if len(va) < 2 or len(np.unique(data.labels[va])) < 2:
        raise DataValidationError(
            f"The model search needs validation images of at least 2 classes inside the training split; got "
            f"{len(va)} image(s) of {len(np.unique(data.labels[va]))} class(es). Fix: upload more images per "
            "class, or train without the search.")
    return np.asarray(tr), np.asarray(va)


def log_losses(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per-image cross-entropy of the true class."""
    p = np.asarray(proba, dtype=float)[np.arange(len(labels)), np.asarray(labels, dtype=int)]
    return -np.log(np.clip(p, 1e-7, 1.0))


@dataclass
class QualityObjective:
    """The CNN's settings scored on the validation images of the training split."""

    fit: Any  # ImageDataset: training images only
    val: Any  # ImageDataset: validation images only
    base: Any  # QualityConfig: today's recipe
    ok_class: str | None = None
    size_choices: tuple[int, ...] = ()
    name: str = "quality network"
    direction: str = "minimize"
    metric: str = "log_loss"
    metric_label: str = "validation log loss"
    _sized: dict = field(default_factory=dict)

    def default_params(self) -> dict:
        return {"filters": filters_text(self.base.filters), "image_size": int(self.fit.image_size),
                "augment": bool(self.base.augment), "learning_rate": float(self.base.learning_rate),
                "dropout": float(self.base.dropout)}

    def suggest(self, trial) -> dict:
        return {
            "filters": trial.suggest_categorical("filters", list(dict.fromkeys(
                [filters_text(self.base.filters), *FILTERS]))),
            "image_size": trial.suggest_categorical("image_size", list(self.size_choices)),
            "augment": trial.suggest_categorical("augment", [True, False]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        }

    def warm_up(self) -> None:
        """Load TensorFlow and Keras, and the resized images, before the clock starts."""
        import logging

        import keras  # noqa: F401

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        for s in self.size_choices:
            self._at(s)

    def _at(self, size: int):
        if size not in self._sized:
            self._sized[size] = (resize_dataset(self.fit, size), resize_dataset(self.val, size))
        return self._sized[size]

    def config_for(self, params: dict):
        over = {k: params[k] for k in ("augment", "learning_rate", "dropout") if k in params}
        if "filters" in params:
            over["filters"] = parse_filters(params["filters"])
        return replace(self.base, **over)

    def evaluate(self, params: dict, report: Callable[[int, float | None], None]):
        from core.quality import engine

        fit, val = self._at(int(params["image_size"]))
        run = engine.train_quality(fit, config=self.config_for(params), test=val, ok_class=self.ok_class,
                                   progress=lambda epoch, _epochs, logs: report(epoch, logs.get("val_loss")))
        losses = log_losses(run.test.labels, run.test_proba)
        # The validation probabilities too, for the ensemble check.
        return float(losses.mean()), (losses, np.asarray(run.test_proba, dtype=float))

    def confirm(self, best: tuple, recipe: tuple, *, comparisons: int = 1) -> tuple[bool, dict]:
        """Keep the best trial only when its lower log loss is outside the noise of the validation
        images: the upper end of a paired bootstrap interval of the difference is below zero, at a
        level widened for the ``comparisons`` trials the best one was picked from."""
        from core.ml.verdict import compare_losses

        level = confirm_level(comparisons)
        best, recipe = best[0], recipe[0]
        v = compare_losses(best, {"recipe": recipe}, metric="log loss", seed=self.base.seed,
                           level=level, n_boot=confirm_boots(level))
        return bool(v.high < 0), confirm_details(v)


@dataclass
class QualitySearch:
    """A finished quality search: its result, the QualityConfig and the input size to train with."""

    result: SearchResult
    config: Any
    image_size: int
    ensemble: dict = field(default_factory=dict)  # the ensemble check, when asked for


NETWORK = "CNN"


def check_quality_ensemble(fit, val, val_proba: np.ndarray, *, proba: dict | None = None) -> dict:
    """Whether the CNN's class probabilities blended with a baseline's (majority class, or logistic
    regression on 16x16 thumbnails, fitted on the fitting images) beat the CNN on the validation
    images, by validation log loss (the search's own score). ``proba``: the baselines' validation
    probabilities when the caller has them already."""
    from core.quality.baselines import BASELINE_NAMES, fit_baselines
    from core.search.ensemble import choose_ensemble, ensemble_label

    if proba is None:
        proba, _ = fit_baselines(fit.images, fit.labels, val.images, val_proba.shape[1])
    labels = np.asarray(val.labels)
    ens = choose_ensemble(lambda p: float(log_losses(labels, p).mean()), val_proba,
                          {b: proba[b] for b in BASELINE_NAMES if b in proba}, direction="minimize")
    if ens["checked"]:
        ens["metric"] = "log_loss"
        ens["label"] = ensemble_label(ens, network=NETWORK,
                                      names={k: v[0].lower() + v[1:] for k, v in BASELINE_NAMES.items()})
    return ens


def quality_baseline_proba(data, run, config, *, test=None) -> dict[str, np.ndarray]:
    """The baselines' probabilities on ``run``'s test images, fitted on the images the network
    trained on (its training and validation images; all of ``data`` when a test set was given)."""
    from core.quality.baselines import fit_baselines, fit_baselines_for_run

    if test is None:
        return fit_baselines_for_run(data, run, config)
    proba, _ = fit_baselines(data.images, data.labels, run.test.images, len(run.class_names))
    return proba


def quality_ensemble_proba(run, ens: dict, baseline_proba: dict[str, np.ndarray]) -> np.ndarray:
    from core.search.ensemble import blend

    return blend(run.test_proba, baseline_proba[ens["baseline"]], ens.get("weight", 0.5))


def quality_ensemble_metrics(run, ens: dict, baseline_proba: dict[str, np.ndarray] | None) -> dict | None:
    """The ensemble's test metrics (accuracy, macro F1, log loss, ...), or None when the search did
    not choose it or the baselines' test probabilities are not at hand."""
    if not (ens or {}).get("use") or not baseline_proba or ens.get("baseline") not in baseline_proba:
        return None
    from core.quality.evaluate import compute_multiclass_metrics

    p = quality_ensemble_proba(run, ens, baseline_proba)
    m = compute_multiclass_metrics(run.test.labels, p, run.class_names)
    out = {k: v for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    out["log_loss"] = float(log_losses(run.test.labels, p).mean())
    return out


def quality_search_section(search: "QualitySearch", run, baseline_proba: dict | None = None) -> dict:
    """The "search" section of the CLI's JSON and a saved run: the search, and the ensemble with its
    test figures when the search chose it."""
    out = search.result.to_dict()
    if search.ensemble:
        ens = dict(search.ensemble)
        m = quality_ensemble_metrics(run, ens, baseline_proba)
        if m is not None:
            ens["test_metrics"] = m
        out["ensemble"] = ens
    return out


def search_quality(data, config=None, *, budget: float, test=None, ok_class: str | None = None,
                   n_trials: int | None = None, ensemble: bool = False,
                   progress: Callable[[SearchProgress], None] | None = None,
                  clock: Callable[[], float] | None = None) -> QualitySearch:
    """Search the CNN's settings on the training images of ``data`` within ``budget`` seconds (the
    same split as ``train_quality(data, config=config, test=test)``). Train the final model on
    ``resize_dataset(data, .image_size)`` (and the test set at that size) with ``.config``."""
    from core.quality.data import find_ok_class
    from core.quality.engine import QualityConfig
    from core.search.engine import check_budget

    started = (clock or time.perf_counter)()  # the budget counts from here, preparation included
    budget = check_budget(budget)
    config = config or QualityConfig()
    if config.backbone != "cnn":
        raise DataValidationError(
            f"The model search tunes the small CNN; got backbone '{config.backbone}'. Fix: choose the cnn "
            "backbone, or train without the search.")
    config.validate()
    fit_idx, val_idx = split_for_quality_search(data, config, test=test)
    ok = ok_class if ok_class is not None else find_ok_class(data.class_names)
    sizes = tuple(sorted({s for s in IMAGE_SIZES if s <= data.image_size} | {data.image_size}))
    objective = QualityObjective(data.subset(fit_idx), data.subset(val_idx), config, ok_class=ok,
                                 size_choices=sizes)
    result = run_search(objective, budget=budget, seed=config.seed, n_trials=n_trials, progress=progress,
                        started=started, **({} if clock is None else {"clock": clock}))
    chosen = result.selected
    if chosen is None or chosen.number == 0:
        final, size = config, data.image_size
    else:
        final, size = objective.config_for(result.best_params), int(result.best_params["image_size"])
    result.extra["split"] = {"fit_images": int(len(fit_idx)), "validation_images": int(len(val_idx)),
                             "validation": "the training split's validation images"}
    ens: dict = {}
    if ensemble and result.payload is not None:
        # Baselines read the images at the size they were given; the CNN's probabilities are per
        # image, whatever size the selected trial read them at.
        ens = check_quality_ensemble(objective.fit, objective.val, result.payload[1])
        result.extra["ensemble"] = ens
    return QualitySearch(result=result, config=final, image_size=size, ensemble=ens)
