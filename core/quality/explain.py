"""Where in an image the model looked: Grad-CAM and SHAP heatmaps.

Both return one (S, S) map per image for a *target*: a class index, or "defect", meaning
P(defect) = 1 - P(ok).  SHAP uses ``shap.GradientExplainer`` (expected gradients over a small
background of training images); DeepExplainer is never used because a failure inside it leaves
TensorFlow's gradient registry patched for the whole process (see DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import DataValidationError
from core.quality.models import FEATURE_LAYER


@dataclass(frozen=True)
class Heatmaps:
    """Per-image maps (n, S, S) for ``target``; SHAP maps are signed, Grad-CAM maps are in [0, 1]."""

    maps: np.ndarray
    target: str
    method: str


def _target_index(target, class_names, ok_class) -> tuple[int | None, str]:
    """(class index or None for 'defect', readable label)."""
    if target == "defect":
        if ok_class is None:
            raise DataValidationError(
                "A 'defect' heatmap needs an OK class; got none. Explain a specific class instead."
            )
        return None, "P(defect)"
    if isinstance(target, str):
        if target not in class_names:
            raise DataValidationError(
                f"Heatmap target must be 'defect' or one of {', '.join(class_names)}; got '{target}'. "
                "Pick a class from the list."
            )
        target = list(class_names).index(target)
    if not 0 <= int(target) < len(class_names):
        raise DataValidationError(
            f"Heatmap class index must be between 0 and {len(class_names) - 1}; got {target}."
        )
    return int(target), f"P({class_names[int(target)]})"


def _target_model(model, class_idx: int | None, ok_idx: int | None):
    """A model whose single output is the explained score (shap wants one output per call)."""
    import keras
    from keras import layers

    proba = model.output
    if class_idx is None:
        # 1 - P(ok) as a Dense layer with fixed weights keeps the graph free of Lambda layers.
        dense = layers.Dense(1, name="target_score", trainable=False)
        score = dense(proba)
        w = np.zeros((proba.shape[-1], 1), dtype="float32")
        w[ok_idx, 0] = -1.0
        dense.set_weights([w, np.ones(1, dtype="float32")])
    else:
        dense = layers.Dense(1, name="target_score", trainable=False, use_bias=False)
        score = dense(proba)
        w = np.zeros((proba.shape[-1], 1), dtype="float32")
        w[class_idx, 0] = 1.0
        dense.set_weights([w])
    return keras.Model(model.inputs, score)


def compute_gradcam(model, images, *, target="defect", class_names, ok_class=None) -> Heatmaps:
    """Grad-CAM: feature maps of the last conv layer weighted by the mean gradient of the target's
    log-odds, rectified and upsampled to the image size, each map scaled to [0, 1]."""
    import keras
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    idx, label = _target_index(target, class_names, ok_class)
    ok_idx = list(class_names).index(ok_class) if ok_class is not None else None
    feature = model.get_layer(FEATURE_LAYER).output
    grad_model = keras.Model(model.inputs, [feature, model.output])
    x = tf.convert_to_tensor(images.astype("float32"))
    with tf.GradientTape() as tape:
        feats, proba = grad_model(x, training=False)
        p = 1.0 - proba[:, ok_idx] if idx is None else proba[:, idx]
        # Log-odds, not the probability: a confident softmax is flat (P = 1.00 has no gradient),
        # which would leave exactly the clearest defects with an empty map.
        eps = 1e-7
        score = tf.math.log(p + eps) - tf.math.log(1.0 - p + eps)
    grads = tape.gradient(score, feats)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * feats, axis=-1))[..., None]
    cam = tf.image.resize(cam, images.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1).reshape(-1, 1, 1)
    cam = np.where(peak > 0, cam / np.maximum(peak, 1e-12), 0.0)
    return Heatmaps(cam.astype(np.float32), label, "Grad-CAM")


def compute_shap_maps(model, images, background, *, target="defect", class_names, ok_class=None,
                      nsamples: int = 64, seed: int = 0) -> Heatmaps:
    """SHAP (expected gradients) per pixel, summed over colour channels.

    Positive values push the target score up.  ``nsamples`` gradient evaluations are made in
    batches, so one image costs about as much as scoring ``nsamples`` images.
    """
    import shap

    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[None]
    background = np.asarray(background, dtype="float32")
    if len(background) == 0:
        raise DataValidationError("SHAP needs background images from the training set; got none.")
    idx, label = _target_index(target, class_names, ok_class)
    ok_idx = list(class_names).index(ok_class) if ok_class is not None else None
    target_model = _target_model(model, idx, ok_idx)
    # Gradients of 64 images of 64 px at once; fewer for large images, whose activations are bigger.
    batch = int(np.clip(64 * 64 * 64 // (images.shape[1] * images.shape[2]), 4, 64))
    explainer = shap.GradientExplainer(target_model, background, batch_size=batch)
    # GradientExplainer draws its interpolation points from NumPy's global generator.
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        values = explainer.shap_values(images, nsamples=nsamples)
    finally:
        np.random.set_state(state)
    values = np.asarray(values[0] if isinstance(values, list) else values, dtype=np.float32)
    if values.ndim == 5:  # (n, S, S, C, outputs) in recent shap versions
        values = values[..., 0]
    return Heatmaps(values.sum(axis=-1), label, "SHAP (expected gradients)")


@dataclass(frozen=True)
class ImageExplanation:
    """One image's class probabilities, verdict at a threshold, and both heatmaps."""

    image: np.ndarray  # (S, S, C) uint8
    proba: dict[str, float]
    predicted: str
    p_defect: float | None
    verdict: str | None  # "reject" / "pass", None without an OK class
    gradcam: Heatmaps
    shap: Heatmaps


def explain_image(run, image, *, threshold: float = 0.5, target="auto", nsamples: int = 64) -> ImageExplanation:
    """Score one image with a trained run and explain it with Grad-CAM and SHAP.

    ``target="auto"`` explains P(defect) when the run has an OK class, else the predicted class.
    """
    from core.quality.engine import check_images

    check_images(image, run.image_size, run.channels)
    return explain_with(run.model, image, class_names=run.class_names, ok_class=run.ok_class,
                        background=run.background, seed=run.config.seed, threshold=threshold, target=target,
                        nsamples=nsamples)


def explain_with(model, image, *, class_names, ok_class, background, seed: int = 0, threshold: float = 0.5,
                 target="auto", nsamples: int = 64) -> ImageExplanation:
    """:func:`explain_image` from the parts of a run it uses (the Keras network, its classes, the SHAP
    background), so a worker can explain an image without the whole run."""
    from core.quality.engine import predict_images

    x = np.asarray(image)
    x = x[None] if x.ndim == 3 else x
    class_names = list(class_names)
    proba = predict_images(model, x)[0]
    predicted = class_names[int(proba.argmax())]
    if target == "auto":
        target = "defect" if ok_class is not None else predicted
    p_def = None if ok_class is None else float(1.0 - proba[class_names.index(ok_class)])
    verdict = None if p_def is None else ("reject" if p_def >= threshold else "pass")
    kw = dict(target=target, class_names=tuple(class_names), ok_class=ok_class)
    cam = compute_gradcam(model, x, **kw)
    shap_maps = compute_shap_maps(model, x, background, nsamples=nsamples, seed=seed, **kw)
    return ImageExplanation(x[0], {c: float(p) for c, p in zip(class_names, proba)}, predicted, p_def,
                            verdict, cam, shap_maps)
