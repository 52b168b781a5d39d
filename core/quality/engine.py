"""Train and score a defect classifier on an ImageDataset (the headless core of the page)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.errors import DataValidationError
from core.data.imbalance import IMBALANCE_METHODS, rebalance
from core.quality.data import ImageDataset, find_ok_class, split_indices
from core.quality.evaluate import (  # noqa: F401  (DEFECT_TYPING_NOTE, get_task: the engine's framing)
    DEFECT_TYPING_NOTE,
    compute_defect_metrics,
    compute_multiclass_metrics,
    get_defect_labels,
    get_defect_scores,
    get_task,
)
from core.quality.feeder import make_feeder
from core.quality.models import BACKBONES, BackboneUnavailable, build_cnn, build_pretrained
from core.quality.sizing import choose_stem_stride, stride_notice

# Pixels per prediction batch: activations of a 200-px image are ten times those of a 64-px one.
PREDICT_PIXELS = 256 * 64 * 64

# Synthetic minority images (SMOTE and friends) would be pixel blends of two defects, which are
# not plausible parts, so images are rebalanced only by weighting or by repeating / dropping.
QUALITY_IMBALANCE = {k: IMBALANCE_METHODS[k] for k in ("none", "class_weight", "oversample", "undersample")}


@dataclass(frozen=True)
class QualityConfig:
    """All training options; frozen so a run records exactly what produced it."""

    backbone: str = "cnn"
    # 60 epochs with patience 15 and a cosine learning-rate decay: what six texture classes of a few
    # hundred images need from scratch (bench/bench_quality.py --neu-like: 40 epochs left two of
    # three seeds below 97 %); early stopping ends easy sets sooner.
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 2e-3
    imbalance: str = "class_weight"
    augment: bool = True
    test_size: float = 0.2
    val_size: float = 0.15
    patience: int = 15
    threshold: float = 0.5
    seed: int = 0
    # The small CNN's convolution filters and dropout (the model search tunes them); today's.
    filters: tuple[int, ...] = (16, 32, 64, 96)
    dropout: float = 0.2

    def validate(self) -> None:
        if self.backbone not in BACKBONES:
            raise DataValidationError(
                f"Backbone must be one of {', '.join(BACKBONES)}; got '{self.backbone}'. Pick one from the list."
            )
        if self.imbalance not in QUALITY_IMBALANCE:
            raise DataValidationError(
                f"For images the imbalance method must be one of {', '.join(QUALITY_IMBALANCE)}; got "
                f"'{self.imbalance}'. Synthetic methods (SMOTE, ADASYN) blend pixels and are not offered."
            )
        if not 1 <= int(self.epochs) <= 500:
            raise DataValidationError(f"Epochs must be between 1 and 500; got {self.epochs}. Use 10-30 to start.")


@dataclass
class QualityRun:
    """A trained model with its test-set scores and everything the page and CLI display."""

    model: Any
    config: QualityConfig
    class_names: tuple[str, ...]
    ok_class: str | None
    image_size: int
    channels: int
    test: ImageDataset
    test_proba: np.ndarray
    background: np.ndarray  # a few training images: the SHAP baseline distribution
    history: dict
    metrics: dict
    backbone_used: str
    device: str
    counts_before: dict
    counts_after: dict
    timings: dict
    notices: list[str] = field(default_factory=list)
    stem_stride: int = 1  # the stride of the CNN's first convolution (2 for large images)
    # The recommended model (core.quality.recommend): "network", or "ensemble" when the blend of the CNN
    # with a baseline won on the validation images; then ``model``, ``test_proba`` and ``metrics`` are the
    # blend's (one Keras model: what is saved, scored, explained and decided on) and the CNN's own are kept
    # in ``network`` and ``network_metrics``. ``ensemble``: the check's record ({} when switched off).
    recommended: str = "network"
    ensemble: dict = field(default_factory=dict)
    network: Any = None
    network_metrics: dict | None = None

    def predict_proba(self, images, *, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities for uint8 images of this run's size and channels (one batched call)."""
        images = check_images(images, self.image_size, self.channels)
        return predict_images(self.model, images, batch_size=batch_size)

    def metadata(self) -> dict:
        """JSON-serialisable description for the registry and the CLI."""
        return {
            "scenario": "quality",
            "class_names": list(self.class_names),
            "ok_class": self.ok_class,
            "task": get_task(self.ok_class),
            "image_size": self.image_size,
            "channels": self.channels,
            "backbone": self.backbone_used,
            "config": asdict(self.config),
            "metrics": self.metrics,
            "timings": self.timings,
            "stem_stride": self.stem_stride,
            "device": self.device,
            "notices": list(self.notices),
            "recommended": self.recommended,
            "ensemble": dict(self.ensemble),
        }


def check_images(images, image_size: int, channels: int) -> np.ndarray:
    """Validate an image batch against the model's input shape."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (image_size, image_size, channels):
        raise DataValidationError(
            f"Expected images of shape (n, {image_size}, {image_size}, {channels}); got {images.shape}. "
            "Load them with load_image_dataset / load_single_image using the model's image size."
        )
    return images


def predict_images(model, images, *, batch_size: int | None = None) -> np.ndarray:
    """Class probabilities for a batch of images in one ``predict`` call, in batches of at most a
    million pixels (256 images of 64 px, 26 of 200 px), so scoring large images at full resolution
    keeps the network's activations small."""
    images = np.asarray(images)
    if batch_size is None:
        batch_size = int(np.clip(PREDICT_PIXELS // max(images.shape[1] * images.shape[2], 1), 1, 256))
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=float)


def score_metrics(labels, proba, class_names, ok_class, threshold: float) -> dict:
    """A run's test metrics from its class probabilities: per class, and the reject decision's at
    ``threshold`` when a class means 'no defect'."""
    metrics = compute_multiclass_metrics(labels, proba, class_names)
    metrics["task"] = get_task(ok_class)
    if ok_class is not None:
        metrics.update(compute_defect_metrics(get_defect_labels(labels, class_names, ok_class),
                                              get_defect_scores(proba, class_names, ok_class), threshold))
    return metrics


def _class_weight_all(weights: dict | None, n_classes: int) -> dict | None:
    # Keras wants a weight for every class index, even one missing from a small training split.
    if weights is None:
        return None
    return {i: float(weights.get(i, 1.0)) for i in range(n_classes)}


def train_quality(data: ImageDataset, *, config: QualityConfig = QualityConfig(),
                  test: ImageDataset | None = None, ok_class: str | None = None,
                  progress=None, backbone_loader=None) -> QualityRun:
    """Split (unless ``test`` is given), rebalance the training split, train, score the test set."""
    from core.ml.training import train_keras

    config.validate()
    notices: list[str] = []
    t0 = time.perf_counter()
    if test is not None:
        train_idx, val_idx, _ = split_indices(data.labels, test_size=0.0, val_size=config.val_size, seed=config.seed)
        test_set = test
    else:
        train_idx, val_idx, test_idx = split_indices(
            data.labels, test_size=config.test_size, val_size=config.val_size, seed=config.seed)
        test_set = data.subset(test_idx)
    ok_class = ok_class if ok_class is not None else find_ok_class(data.class_names)
    if ok_class is not None and ok_class not in data.class_names:
        raise DataValidationError(
            f"OK class must be one of {', '.join(data.class_names)}; got '{ok_class}'. Pick it from the list."
        )
    y_train = data.labels[train_idx]
    # Rebalance positions rather than pixels: over-sampling repeats an image by index, so the
    # imbalance core works on a one-column array and no image is copied until batching.
    rb = rebalance(train_idx.reshape(-1, 1), y_train, method=config.imbalance, seed=config.seed)
    fit_idx, y_fit = rb.X.ravel(), rb.y
    X_val, y_val = data.images[val_idx], data.labels[val_idx]
    k, size, ch = len(data.class_names), data.image_size, data.channels
    stride = choose_stem_stride(size, len(fit_idx))

    # Cosine decay over the planned epochs (early stopping may end sooner).
    steps = int(np.ceil(len(y_fit) / config.batch_size)) * int(config.epochs)

    def cnn():
        return build_cnn(size, ch, k, learning_rate=config.learning_rate, decay_steps=steps, seed=config.seed,
                         filters=tuple(config.filters), dropout=config.dropout, stem_stride=stride)

    def pretrained():
        return build_pretrained(size, ch, k, augment=config.augment, learning_rate=config.learning_rate / 2,
                                seed=config.seed, loader=backbone_loader)

    # Early stopping watches the plain validation loss. Weighing the validation images per class
    # (each class counting the same, as the class weights do in training) was measured and left
    # out: balanced accuracy on the test images stayed level (bundled sample 0.879 weighted against
    # 0.876 plain over three seeds; a generated 30:1 tile catalogue 0.975 against 0.966), while the
    # sample's accuracy fell (0.958 against 0.978): the noise of its 20 validation defects stopped
    # one seed at epoch 15, with 8.6 % of good parts rejected.
    common = dict(epochs=config.epochs, batch_size=config.batch_size,
                  class_weight=_class_weight_all(rb.class_weight, k),
                  seed=config.seed, patience=config.patience, progress=progress)

    def fit_cnn():
        feeder = make_feeder(data.images, fit_idx, y_fit, batch_size=config.batch_size, seed=config.seed,
                             augment=config.augment)
        return train_keras(cnn, feeder, None, X_val, y_val, **common)

    backbone_used = config.backbone
    try:
        fit = (train_keras(pretrained, data.images[fit_idx], y_fit, X_val, y_val, **common)
               if config.backbone == "mobilenetv2" else fit_cnn())
    except BackboneUnavailable as exc:
        notices.append(str(exc))
        backbone_used = "cnn"
        fit = fit_cnn()
    if backbone_used == "cnn" and stride != 1:
        notices.append(stride_notice(size))
    t_train = time.perf_counter() - t0
    t1 = time.perf_counter()
    proba = predict_images(fit.model, test_set.images)
    t_pred = time.perf_counter() - t1
    metrics = score_metrics(test_set.labels, proba, data.class_names, ok_class, config.threshold)
    if ok_class is None:
        notices.append(DEFECT_TYPING_NOTE)
    rng = np.random.default_rng(config.seed)
    background = data.images[rng.choice(train_idx, size=min(32, len(train_idx)), replace=False)]
    names = data.class_names
    return QualityRun(
        model=fit.model, config=config, class_names=names, ok_class=ok_class,
        image_size=size, channels=ch, test=test_set, test_proba=proba, background=background,
        history=fit.history, metrics=metrics, backbone_used=backbone_used,
        device=fit.device.label if fit.device else "CPU",
        counts_before={names[i]: n for i, n in rb.counts_before.items()},
        counts_after={names[i]: n for i, n in rb.counts_after.items()},
        timings={"train_s": round(t_train, 3), "predict_s": round(t_pred, 4),
                 "images_per_s": round(len(test_set.labels) / max(t_pred, 1e-9), 1),
                 "epochs_run": fit.epochs_run, "best_epoch": fit.best_epoch},
        stem_stride=stride if backbone_used == "cnn" else 1,
        notices=notices,
    )
