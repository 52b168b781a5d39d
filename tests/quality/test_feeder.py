"""Training at full resolution: the size rules, the feeder's flips and quarter turns, the stride-2
first convolution, and scoring parity of a run read at stride 2 (and of runs saved before)."""

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.quality.feeder import augment_batch, dihedral, make_feeder
from core.quality.sizing import PIXEL_BUDGET, choose_image_size, choose_stem_stride, stride_notice


# ------------------------------------------------------------------ the size rules
def test_auto_size_keeps_neu_like_images_at_their_own_resolution():
    # 1,800 grey images of 200 px (NEU): read at 200 px, where the old rule shrank them to 64.
    assert choose_image_size(200, 1_800) == 200
    assert choose_image_size(64, 1_000) == 64  # the bundled sample stays at its own 64 px
    assert choose_image_size(400, 1_344) == 256  # large images are capped at 256
    assert choose_image_size(200, 5_000) == 128  # more images, a smaller size within the budget
    assert choose_image_size(200, 20_000) == 128  # none fits: 128 at stride 2 costs what 64 does
    assert choose_image_size(100, 20_000) == 64
    assert choose_image_size(24, 100) == 24  # never larger than the images


def test_stem_stride_for_neu_like_inputs():
    # NEU's 1,224 training images of 200 px do not fit the budget whole: stride 2.
    assert choose_stem_stride(200, 1_224) == 2
    assert choose_stem_stride(200, 340) == 1  # few images fit whole
    assert choose_stem_stride(64, 650) == 1  # the bundled sample
    # Small images are never read at stride 2 (the layers after it would see less than 64 px).
    assert choose_stem_stride(96, PIXEL_BUDGET // (96 * 96) + 1) == 1
    assert choose_stem_stride(128, PIXEL_BUDGET // (128 * 128) + 1) == 2
    assert "200×200 images at stride 2, so the layers after it work at 100×100" in stride_notice(200)


# ------------------------------------------------------------------ the feeder
def test_dihedral_gives_the_eight_symmetries_of_a_square():
    p = np.arange(9).reshape(3, 3, 1)
    views = {dihedral(p, k).tobytes() for k in range(8)}
    assert len(views) == 8
    assert np.array_equal(dihedral(p, 4)[..., 0], p[..., 0].T)


def test_augmented_images_are_symmetries_of_their_own_image():
    images = np.arange(3 * 5 * 5, dtype=np.int64).reshape(3, 5, 5, 1)
    plain = augment_batch(images, [2, 0], np.random.default_rng(0), augment=False)
    assert np.array_equal(plain, images[[2, 0]])
    turned = augment_batch(images, [1] * 40, np.random.default_rng(1))
    views = {dihedral(images[1], k).tobytes() for k in range(8)}
    assert all(t.tobytes() in views for t in turned)
    assert len({t.tobytes() for t in turned}) == 8  # forty draws show every symmetry


def test_feeder_batches_labels_and_reproducibility():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    # Each image's pixels hold its label, so a batch shows whether images and labels stayed paired.
    images = (labels[:, None, None, None] * 50 + rng.integers(0, 5, (7, 8, 8, 1))).astype(np.uint8)
    idx = np.array([0, 1, 2, 3, 4, 5, 6, 1])  # an over-sampled image appears twice
    feeder = make_feeder(images, idx, labels[idx], batch_size=3, seed=4)
    assert len(feeder) == 3
    batches = [feeder[i] for i in range(len(feeder))]
    assert [len(y) for _, y in batches] == [3, 3, 2]
    for x, y in batches:
        assert x.shape[1:] == (8, 8, 1) and x.dtype == np.uint8
        assert np.array_equal(x.reshape(len(y), -1).min(axis=1) // 50, y)
    assert sorted(np.concatenate([y for _, y in batches]).tolist()) == sorted(labels[idx].tolist())
    again = make_feeder(images, idx, labels[idx], batch_size=3, seed=4)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, (again[i] for i in range(3))))
    feeder.on_epoch_end()
    assert not all(np.array_equal(feeder[i][0], batches[i][0]) for i in range(3))  # a new epoch, a new draw


# ------------------------------------------------------------------ the CNN, training and scoring
def test_stride_two_cnn_halves_the_resolution_after_its_first_convolution():
    from core.quality.models import build_cnn

    model = build_cnn(128, 1, 3, stem_stride=2)
    assert model.get_layer("conv_1").strides == (2, 2)
    assert tuple(model.get_layer("conv_1").output.shape[1:3]) == (64, 64)
    assert tuple(model.get_layer("feature_maps").output.shape[1:3]) == (8, 8)  # Grad-CAM's map
    p = model.predict(np.zeros((2, 128, 128, 1), np.uint8), verbose=0)
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert not any("random" in layer.name for layer in model.layers)  # augmentation is the feeder's
    with pytest.raises(DataValidationError, match="stride must be 1 or 2; got 3"):
        build_cnn(128, 1, 3, stem_stride=3)


@pytest.fixture(scope="module")
def strided_run(typing_zip):
    """A defect-typing run on 128-px images with a pixel budget so small that the first convolution
    reads at stride 2, two epochs."""
    from core.quality import sizing
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality

    data = load_image_dataset(typing_zip, options=LoadOptions(image_size=128))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sizing, "PIXEL_BUDGET", 128 * 128)
        return data, train_quality(data, config=QualityConfig(epochs=2, batch_size=16, seed=2))


def test_strided_run_records_its_stride_and_says_so(strided_run):
    data, run = strided_run
    assert run.stem_stride == 2 and run.metadata()["stem_stride"] == 2
    assert run.model.get_layer("conv_1").strides == (2, 2)
    assert run.test_proba.shape == (len(run.test.labels), 6)
    assert any("128×128 images at stride 2" in n for n in run.notices)
    assert np.allclose(run.predict_proba(run.test.images), run.test_proba, atol=1e-6)


def test_strided_run_saves_loads_and_scores_the_same_through_the_cli(strided_run, typing_zip, tmp_path, capsys):
    from core.cli import main
    from core.quality.export import load_quality_model, save_quality_run

    data, run = strided_run
    path = save_quality_run(tmp_path, run, threshold=0.5)
    saved = load_quality_model(path)
    assert saved.image_size == 128
    assert np.allclose(saved.predict_proba(run.test.images), run.test_proba, atol=1e-5)
    zip_path = tmp_path / "steel.zip"
    zip_path.write_bytes(typing_zip)
    code = main(["score", "--model", str(path), "--data", str(zip_path), "--out", str(tmp_path / "s.csv"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["rows"] == 60
    scored = pd.read_csv(tmp_path / "s.csv").set_index("file")
    names = [n for n in run.test.names]
    cols = [f"p_{c}" for c in run.class_names]
    assert np.allclose(scored.loc[names, cols].to_numpy(), run.test_proba, atol=1e-3)  # CSV rounds to 4 places


def test_strided_run_is_explained_at_full_resolution(strided_run):
    from core.quality.explain import compute_gradcam, compute_shap_maps

    _, run = strided_run
    x = run.test.images[:2]
    cam = compute_gradcam(run.model, x, target=run.class_names[0], class_names=run.class_names)
    assert cam.maps.shape == (2, 128, 128) and cam.maps.max() <= 1 + 1e-6
    shap_maps = compute_shap_maps(run.model, x, run.background[:4], target=run.class_names[1],
                                  class_names=run.class_names, nsamples=8)
    assert shap_maps.maps.shape == (2, 128, 128) and np.abs(shap_maps.maps).sum() > 0


def _model_as_saved_before(image_size: int, channels: int, n_classes: int):
    """The CNN as runs saved before the feeder hold it: augmentation layers inside the model."""
    import keras
    from keras import layers

    from core.quality.models import FEATURE_LAYER, _augmentation

    inputs = keras.Input((image_size, image_size, channels), name="image")
    x = _augmentation(0)(inputs)
    x = layers.LayerNormalization(axis=[1, 2, 3], center=False, scale=False, name="standardise")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_1")(x)
    x = layers.MaxPooling2D(name="pool_1")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Concatenate(name="pooled")([layers.GlobalMaxPooling2D(name="global_max")(x),
                                             layers.GlobalAveragePooling2D(name="global_average")(x)])
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="proba")(x)
    return keras.Model(inputs, outputs, name="defect_cnn")


def test_a_run_saved_with_augmentation_layers_still_loads_and_scores(tiny_run, small_zip, tmp_path, capsys):
    from dataclasses import replace

    from core.cli import main
    from core.quality.export import load_quality_model, save_quality_run

    old = _model_as_saved_before(tiny_run.image_size, tiny_run.channels, len(tiny_run.class_names))
    run = replace(tiny_run, model=old)
    path = save_quality_run(tmp_path, run, threshold=0.5)
    saved = load_quality_model(path)
    expected = old.predict(tiny_run.test.images, verbose=0)
    assert np.allclose(saved.predict_proba(tiny_run.test.images), expected, atol=1e-5)
    zip_path = tmp_path / "parts.zip"
    zip_path.write_bytes(small_zip)
    code = main(["score", "--model", str(path), "--data", str(zip_path), "--out", str(tmp_path / "s.csv"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["rows"] == 84
