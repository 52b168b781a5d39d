"""Keras image classifiers for defect detection: a small CNN from scratch, or MobileNetV2.

Every model takes raw pixel values (0-255, any dtype) and ends in a float32 softmax over the
classes, so a two-class set and a defect-type set are handled alike.  The layer whose feature
maps Grad-CAM uses is named ``FEATURE_LAYER`` in both builders.
"""

from __future__ import annotations

import os

from core.errors import DataValidationError

FEATURE_LAYER = "feature_maps"
BACKBONES = {
    "cnn": "Small CNN trained from scratch (fast, works offline)",
    "mobilenetv2": "MobileNetV2 pretrained on ImageNet (needs the weights file or internet)",
}
# Optional local copy of the MobileNetV2 ImageNet weights (no-top .h5), for offline servers.
WEIGHTS_ENV = "QUALITY_MOBILENET_WEIGHTS"


class BackboneUnavailable(RuntimeError):
    """The pretrained backbone's weights could not be loaded; the caller falls back to the CNN."""


def _augmentation(seed: int):
    import keras
    from keras import layers

    # Surfaces have no canonical orientation, so flips and rotations are label-preserving;
    # contrast/brightness jitter mimics lighting drift between cameras and shifts.
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal_and_vertical", seed=seed, name="random_flip"),
            layers.RandomRotation(0.25, fill_mode="reflect", seed=seed + 1, name="random_rotation"),
            layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 2, name="random_translation"),
            layers.RandomContrast(0.2, seed=seed + 3, name="random_contrast"),
        ],
        name="augmentation",
    )


def build_cnn(image_size: int, channels: int, n_classes: int, *,
              filters: tuple[int, ...] = (16, 32, 64, 96), dropout: float = 0.2,
              learning_rate: float = 2e-3, decay_steps: int | None = None, seed: int = 0,
              stem_stride: int = 1):
    """Compact CNN: conv blocks (pooling after all but the last, so Grad-CAM
    keeps an 8x8 map at 64 px), then global max and average pooling side by side.  Max pooling is
    the evidence for a small local defect (the strongest response anywhere); average pooling is the
    evidence for a texture spread over the surface (how much crazing, how many pits), which
    multi-class defect typing needs.

    ``stem_stride=2`` lets the first convolution read every pixel of a large image and halves the
    resolution after it, so the later layers cost what they cost on an image of half the side,
    without the detail a resize to half the side would average away (``core.quality.sizing``).
    Augmentation (flips and quarter turns) is done by the feeder (``core.quality.feeder``), not in
    the model.  ``decay_steps`` (the number of training steps) turns on a cosine learning-rate
    decay, which settles the weights at the end of training instead of leaving them jumping."""
    import keras
    from keras import layers

    if stem_stride not in (1, 2):
        raise DataValidationError(f"The first convolution's stride must be 1 or 2; got {stem_stride}.")
    inputs = keras.Input((image_size, image_size, channels), name="image")
    # Per-image standardisation: surfaces differ in overall brightness and contrast from
    # part to part, while a defect is a local deviation from the image's own texture.
    x = layers.LayerNormalization(axis=[1, 2, 3], center=False, scale=False, name="standardise")(inputs)
    for i, f in enumerate(filters):
        # Every layer named: Keras numbers unnamed layers from a process-wide counter that another
        # session's training resets (clear_session) while this model is being built, which gave
        # two layers the name "conv2d" when two trainings started at once on a shared server.
        x = layers.Conv2D(f, 3, strides=stem_stride if i == 0 else 1, padding="same", activation="relu",
                          name=f"conv_{i + 1}")(x)
        if i < len(filters) - 1:
            x = layers.MaxPooling2D(name=f"pool_{i + 1}")(x)
    x = layers.Conv2D(filters[-1], 3, padding="same", activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Concatenate(name="pooled")([layers.GlobalMaxPooling2D(name="global_max")(x),
                                             layers.GlobalAveragePooling2D(name="global_average")(x)])
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="proba")(x)
    model = keras.Model(inputs, outputs, name="defect_cnn")
    _compile(model, learning_rate, decay_steps)
    return model


def build_plain_cnn(image_size: int, channels: int, n_classes: int):
    """The reference 'plain Keras CNN script': Conv 32-64-64, Dense 64, Adam (defaults)."""
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((image_size, image_size, channels)),
        layers.Rescaling(1.0 / 255.0),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ], name="plain_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load_backbone(input_size: int, *, weights: str | None = None, loader=None):
    """MobileNetV2 without its top, with ImageNet weights; raises BackboneUnavailable when
    the weights cannot be had (offline, firewalled, corrupt cache).  ``loader`` is injectable."""
    import keras

    weights = weights or os.environ.get(WEIGHTS_ENV) or "imagenet"
    loader = loader or keras.applications.MobileNetV2
    try:
        return loader(input_shape=(input_size, input_size, 3), include_top=False, weights=weights)
    except Exception as exc:  # URL errors, HDF5 errors, shape mismatches all mean "no backbone"
        reason = str(exc).split("\n")[0][:200]
        raise BackboneUnavailable(
            f"Pretrained MobileNetV2 weights could not be loaded ({reason}). "
            f"Trained the small CNN from scratch instead. To use the backbone offline, download "
            f"the no-top ImageNet weights file once and set {WEIGHTS_ENV} to its path."
        ) from exc


def build_pretrained(image_size: int, channels: int, n_classes: int, *, augment: bool = True,
                     learning_rate: float = 1e-3, seed: int = 0, weights: str | None = None,
                     loader=None):
    """Frozen MobileNetV2 features plus a small trainable head.  Inputs are resized to at least
    96 pixels (the smallest size with published weights) and grey images repeated to RGB."""
    import keras
    from keras import layers

    size = max(96, image_size)
    backbone = load_backbone(size, weights=weights, loader=loader)
    backbone.trainable = False
    inputs = keras.Input((image_size, image_size, channels), name="image")
    x = _augmentation(seed)(inputs) if augment else inputs
    if size != image_size:
        x = layers.Resizing(size, size, name="resize")(x)
    if channels == 1:
        x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="to_unit_range")(x)  # MobileNetV2 expects [-1, 1]
    x = backbone(x, training=False)
    x = layers.Conv2D(64, 1, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.GlobalMaxPooling2D(name="global_max")(x)
    x = layers.Dropout(0.2, seed=seed, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="proba")(x)
    model = keras.Model(inputs, outputs, name="defect_mobilenetv2")
    _compile(model, learning_rate)
    return model


def _compile(model, learning_rate: float, decay_steps: int | None = None) -> None:
    import keras

    lr = learning_rate
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, int(decay_steps), alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
