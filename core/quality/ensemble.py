"""The quality ensemble as one Keras model, so SHAP explains it like the CNN alone.

The search's ensemble blends the CNN's class probabilities with a baseline's: the majority class
(a constant) or logistic regression on 16x16 thumbnails (``core.quality.baselines``). Both are
written here as Keras layers on the same raw images — crop, scale to 0..1, average 16x16 blocks,
standardise each image, the regression's weights, softmax — so the blend is one differentiable
model and ``compute_shap_maps`` (expected gradients) gives its pixel attributions. Its predictions
equal the blend of the two models' own predictions (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import DataValidationError
from core.quality.baselines import BASELINE_NAMES



# Standardising a thumbnail with LayerNormalization (no centre or scale weights) divides by
# sqrt(variance + eps) where ``_thumbs`` divides by std + 1e-6: with eps = 1e-12 the two agree to a few
# parts in a million for any image that is not flat, and both give 0 for a flat one.
STANDARDISE_EPS = 1e-12


def blend_layers(a, b, weight: float):
    """``weight`` of ``a`` plus the rest of ``b``, with Keras's own layers (a saved blend loads in safe
    mode with no custom objects, and converts to ONNX as one graph)."""
    from keras import layers

    w = float(weight)
    return layers.Add(name="ensemble_blend")([layers.Rescaling(w, name="ensemble_network_share")(a),
                                              layers.Rescaling(1.0 - w, name="ensemble_baseline_share")(b)])


def thumbnail_logistic_layers(inputs, lr, *, image_size: int, n_classes: int):
    """The thumbnail logistic regression ``lr`` (fitted by ``fit_thumbnail_logistic``) as Keras
    layers on raw images ``inputs``: its class probabilities over all ``n_classes`` columns."""
    from keras import layers

    s = int(image_size)
    f = max(1, s // 16)
    c = f * (s // f)
    x = inputs
    if c != s:
        x = layers.Cropping2D(((0, s - c), (0, s - c)), name="thumb_crop")(x)
    x = layers.Rescaling(1.0 / 255.0, name="thumb_scale")(x)
    x = layers.AveragePooling2D(pool_size=f, strides=f, name="thumb_pool")(x)
    x = layers.LayerNormalization(axis=-1, center=False, scale=False, epsilon=STANDARDISE_EPS,
                                  name="thumb_standardise")(layers.Flatten(name="thumb_flat")(x))
    coef, bias = np.asarray(lr.coef_, dtype="float32"), np.asarray(lr.intercept_, dtype="float32")
    if coef.shape[0] == 1:  # two classes: P(second) = sigmoid(z), i.e. softmax over (0, z)
        coef, bias = np.vstack([np.zeros_like(coef), coef]), np.r_[0.0, bias].astype("float32")
    logits = layers.Dense(coef.shape[0], name="thumb_logits", trainable=False)
    p = layers.Softmax(name="thumb_proba")(logits(x))
    logits.set_weights([coef.T, bias])
    # The regression knows the classes its training images held; the others get probability 0.
    place = layers.Dense(n_classes, use_bias=False, name="thumb_classes", trainable=False)
    out = place(p)
    m = np.zeros((len(lr.classes_), n_classes), dtype="float32")
    m[np.arange(len(lr.classes_)), np.asarray(lr.classes_, dtype=int)] = 1.0
    place.set_weights([m])
    return out


def ensemble_model(model, ens: dict, train_images: np.ndarray, train_labels: np.ndarray, *, image_size: int,
                   lr=None):
    """One Keras model for the ensemble ``ens`` (from the ensemble check) of the CNN ``model`` and
    its baseline, fitted on ``train_images`` as the baseline was for the run (``lr``: the thumbnail
    regression already fitted on them). Only Keras's own layers, so it saves, loads and converts like
    the CNN alone; the CNN's layers (its last convolution for Grad-CAM) are the blend's."""
    import keras
    from keras import layers

    from core.quality.baselines import fit_thumbnail_logistic

    baseline, weight = ens.get("baseline"), float(ens.get("weight", 0.5))
    k = int(model.output.shape[-1])
    inputs = model.inputs[0]
    if baseline == "logistic_16px":
        lr = lr if lr is not None else fit_thumbnail_logistic(train_images, train_labels)
        base = thumbnail_logistic_layers(inputs, lr,
                                         image_size=image_size, n_classes=k)
    elif baseline == "majority_class":
        # A constant: a dense layer with no weights on a zeroed input, whose bias is the one-hot row.
        const = layers.Dense(k, name="majority_class", trainable=False)
        base = const(layers.Rescaling(0.0, name="zero")(layers.Flatten(name="majority_flat")(inputs)))
        flat = int(np.prod(model.inputs[0].shape[1:]))
        one_hot = np.eye(k, dtype="float32")[int(np.bincount(np.asarray(train_labels), minlength=k).argmax())]
        const.set_weights([np.zeros((flat, k), dtype="float32"), one_hot])
    else:
        raise DataValidationError(f"The ensemble's baseline must be one of {list(BASELINE_NAMES)}; got {baseline!r}. "
                                  "Fix: run the search with the ensemble check again.")
    out = blend_layers(model.output, base, weight)
    return keras.Model(model.inputs, out, name="quality_ensemble")


@dataclass(frozen=True)
class EnsembleExplanation:
    """SHAP of the ensemble for one test image: which image, its ensemble probabilities and map."""

    index: int
    image: np.ndarray
    proba: dict[str, float]
    target: str
    shap: object  # core.quality.explain.Heatmaps
    label: str


def explain_quality_ensemble(run, ens: dict, train_images, train_labels, *, nsamples: int = 64
                             ) -> EnsembleExplanation | None:
    """SHAP of the ensemble for the test image it scores most surely as a defect (with an OK class;
    else the image it is surest of); None when the search did not use the ensemble."""
    if not (ens or {}).get("use"):
        return None
    from core.quality.engine import predict_images
    from core.quality.explain import compute_shap_maps

    model = ensemble_model(run.model, ens, train_images, train_labels, image_size=run.image_size)
    images = run.test.images
    proba = predict_images(model, np.asarray(images, dtype="float32"))
    if run.ok_class is not None:
        score, target = 1.0 - proba[:, run.class_names.index(run.ok_class)], "defect"
    else:
        score = proba.max(axis=1)
        target = None
    i = int(np.argmax(score))
    if target is None:
        target = run.class_names[int(proba[i].argmax())]
    maps = compute_shap_maps(model, images[i:i + 1], run.background, target=target, class_names=run.class_names,
                             ok_class=run.ok_class, nsamples=nsamples, seed=run.config.seed)
    return EnsembleExplanation(i, np.asarray(images[i]), {c: float(p) for c, p in zip(run.class_names, proba[i])},
                               maps.target, maps, ens.get("label", "Ensemble"))
