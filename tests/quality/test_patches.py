"""Training at full resolution: the size rules, random patches, the feeder, the size-free CNN and
scoring parity of a run trained on patches."""

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.quality.patches import dihedral, make_feeder, random_patches
from core.quality.sizing import PIXEL_BUDGET, TrainingView, choose_image_size, choose_training_view


# ------------------------------------------------------------------ the size rules
def test_auto_size_keeps_neu_like_images_at_their_own_resolution():
    # 1,800 grey images of 200 px (NEU): read at 200 px, where the old rule shrank them to 64.
    assert choose_image_size(200, 1_800) == 200
    assert choose_image_size(64, 1_000) == 64  # the bundled sample stays at its own 64 px
    assert choose_image_size(400, 1_344) == 256  # large images are capped at 256
    assert choose_image_size(200, 5_000) == 128  # more images, a smaller size within the budget
    assert choose_image_size(200, 20_000) == 64
    assert choose_image_size(24, 100) == 24  # never larger than the images


def test_training_view_for_neu_like_inputs():
    # NEU's 1,224 training images of 200 px: 128-px patches at stride 1 for defect typing.
    assert choose_training_view(200, 1_224, task="defect_typing") == TrainingView(128, 1, 200)
    # The same images with a good class: never patches (a patch may miss the defect); a stride-2 stem.
    assert choose_training_view(200, 1_224, task="inspection") == TrainingView(200, 2, 200)
    # Few images fit the budget whole; the bundled sample is read whole at stride 1.
    assert choose_training_view(200, 340, task="defect_typing") == TrainingView(200, 1, 200)
    assert choose_training_view(64, 650, task="inspection") == TrainingView(64, 1, 64)
    # A patch must cover 64 % of the side: 128 of 256 does not, so large typing images get the stride-2 stem.
    assert choose_training_view(256, 1_000, task="defect_typing") == TrainingView(256, 2, 256)
    # Small images are never read at stride 2 (the layers after it would see less than 64 px).
    n = PIXEL_BUDGET // (96 * 96) + 1
    assert choose_training_view(96, n, task="inspection") == TrainingView(96, 1, 96)
    # A forced patch side, never larger than the image.
    assert choose_training_view(200, 10, task="inspection", patch=96) == TrainingView(96, 1, 200)
    assert choose_training_view(64, 10, task="inspection", patch=96).whole


def test_training_view_sentences():
    assert "random 128×128 patches of the 200×200 images" in TrainingView(128, 1, 200).describe()
    assert "stride 2" in TrainingView(200, 2, 200).describe()
    assert TrainingView(64, 1, 64).describe() == "Trained on the whole 64×64 images."


# ------------------------------------------------------------------ patches and the feeder
def _numbered(n=3, side=10):
    """Images whose every pixel is unique, so a patch tells where it was cut."""
    return np.arange(n * side * side, dtype=np.int64).reshape(n, side, side, 1) % 100_000


def test_dihedral_gives_the_eight_symmetries_of_a_square():
    p = np.arange(9).reshape(3, 3, 1)
    views = {dihedral(p, k).tobytes() for k in range(8)}
    assert len(views) == 8
    assert np.array_equal(dihedral(p, 4)[..., 0], p[..., 0].T)


def test_random_patches_are_windows_of_their_own_image():
    images = _numbered()
    rng = np.random.default_rng(0)
    out = random_patches(images, [2, 0, 2], 4, rng, augment=False)
    assert out.shape == (3, 4, 4, 1) and out.dtype == images.dtype
    for patch, i in zip(out, [2, 0, 2]):
        (top, left) = np.argwhere(images[i, :, :, 0] == patch[0, 0, 0])[0]
        assert np.array_equal(patch, images[i, top:top + 4, left:left + 4])
    turned = random_patches(images, [1] * 40, 4, np.random.default_rng(1), augment=True)
    windows = {dihedral(images[1, t:t + 4, s:s + 4], k).tobytes() for t in range(7) for s in range(7) for k in range(8)}
    assert all(p.tobytes() in windows for p in turned)
    assert len({p.tobytes() for p in turned}) > 20  # places and turns differ between draws
    # A patch as large as the image is the whole image (turned at most).
    whole = random_patches(images, [0], 10, rng, augment=False)
    assert np.array_equal(whole[0], images[0])


def test_random_patches_refuses_a_patch_larger_than_the_images():
    with pytest.raises(DataValidationError, match="A training patch must be 1 to 10 pixels .* got 12"):
        random_patches(_numbered(), [0], 12, np.random.default_rng(0))


def test_feeder_batches_labels_and_reproducibility():
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    # Each image's pixels hold its label, so a batch shows whether images and labels stayed paired.
    images = (labels[:, None, None, None] * 50 + rng.integers(0, 5, (7, 12, 12, 1))).astype(np.uint8)
    idx = np.array([0, 1, 2, 3, 4, 5, 6, 1])  # an over-sampled image appears twice
    feeder = make_feeder(images, idx, labels[idx], patch=8, batch_size=3, seed=4)
    assert len(feeder) == 3
    batches = [feeder[i] for i in range(len(feeder))]
    assert [len(y) for _, y in batches] == [3, 3, 2]
    for x, y in batches:
        assert x.shape[1:] == (8, 8, 1)
        assert np.array_equal(x.reshape(len(y), -1).min(axis=1) // 50, y)
    assert sorted(np.concatenate([y for _, y in batches]).tolist()) == sorted(labels[idx].tolist())
    again = make_feeder(images, idx, labels[idx], patch=8, batch_size=3, seed=4)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, (again[i] for i in range(3))))
    feeder.on_epoch_end()
    assert not np.array_equal(feeder[0][0], batches[0][0])  # a new epoch, new patches


# ------------------------------------------------------------------ the CNN, training and scoring
def test_size_free_cnn_scores_any_size_and_checks_its_stride():
    from core.quality.models import build_cnn

    model = build_cnn(None, 1, 3, stem_stride=2)
    assert tuple(model.inputs[0].shape) == (None, None, None, 1)
    for side in (32, 48):
        p = model.predict(np.zeros((2, side, side, 1), np.uint8), verbose=0)
        assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert model.get_layer("conv_1").strides == (2, 2)
    with pytest.raises(DataValidationError, match="stride must be 1 or 2; got 3"):
        build_cnn(None, 1, 3, stem_stride=3)


def test_config_refuses_a_patch_outside_16_to_256():
    from core.quality.engine import QualityConfig

    with pytest.raises(DataValidationError, match="training patch must be 16 to 256 pixels; got 8"):
        QualityConfig(patch_size=8).validate()


def test_balanced_validation_weights():
    from core.quality.engine import balanced_weights

    w = balanced_weights([0, 0, 0, 1], [0, 1, 1], 3)
    assert np.allclose(w, [4 / 6, 2.0, 2.0])  # n / (k_present x n_c) with 4 images of 2 classes


def test_validation_weights_reach_the_validation_loss():
    from core.training import train_keras

    import keras

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)).astype("float32"), rng.integers(0, 2, 40)
    Xv, yv = rng.normal(size=(10, 3)).astype("float32"), np.array([0] * 8 + [1] * 2)
    w = np.where(yv == 1, 4.0, 0.5)

    def build():
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy")
        return m

    fit = train_keras(build, X, y, Xv, yv, epochs=1, batch_size=64, seed=0, val_sample_weight=w)
    p = fit.model.predict(Xv, verbose=0)[np.arange(10), yv]
    assert fit.history["val_loss"][0] == pytest.approx(float(np.sum(w * -np.log(p)) / 10), rel=1e-4)


@pytest.fixture(scope="module")
def patch_run(typing_zip):
    """A defect-typing run on 48-px images trained on 32-px patches (forced), two epochs."""
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality

    data = load_image_dataset(typing_zip, options=LoadOptions(image_size=48))
    return data, train_quality(data, config=QualityConfig(epochs=2, batch_size=16, seed=2, patch_size=32))


def test_patch_run_scores_whole_images_and_says_how_it_trained(patch_run):
    data, run = patch_run
    assert run.view == TrainingView(32, 1, 48) and run.metadata()["training_view"]["patch"] == 32
    assert tuple(run.model.inputs[0].shape) == (None, None, None, 1)
    assert run.test_proba.shape == (len(run.test.labels), 6)
    assert any("random 32×32 patches of the 48×48 images" in n for n in run.notices)
    # Scoring takes the run's own size only (the whole image), as before.
    with pytest.raises(DataValidationError, match=r"Expected images of shape \(n, 48, 48, 1\)"):
        run.predict_proba(np.zeros((1, 32, 32, 1), np.uint8))
    assert np.allclose(run.predict_proba(run.test.images), run.test_proba, atol=1e-6)


def test_patch_run_saves_loads_and_scores_the_same_through_the_cli(patch_run, typing_zip, tmp_path, capsys):
    from core.cli import main
    from core.quality.export import load_quality_model, save_quality_run

    data, run = patch_run
    path = save_quality_run(tmp_path, run, threshold=0.5)
    saved = load_quality_model(path)
    assert saved.image_size == 48 and np.allclose(saved.predict_proba(run.test.images), run.test_proba, atol=1e-5)
    zip_path = tmp_path / "steel.zip"
    zip_path.write_bytes(typing_zip)
    code = main(["score", "--model", str(path), "--data", str(zip_path), "--out", str(tmp_path / "s.csv"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["rows"] == 60
    scored = pd.read_csv(tmp_path / "s.csv").set_index("file")
    names = [n for n in run.test.names]
    cols = [f"p_{c}" for c in run.class_names]
    assert np.allclose(scored.loc[names, cols].to_numpy(), run.test_proba, atol=1e-3)  # CSV rounds to 4 places


def test_patch_run_explains_whole_images(patch_run):
    from core.quality.explain import compute_gradcam, compute_shap_maps

    _, run = patch_run
    x = run.test.images[:2]
    cam = compute_gradcam(run.model, x, target=run.class_names[0], class_names=run.class_names)
    assert cam.maps.shape == (2, 48, 48) and cam.maps.max() <= 1 + 1e-6
    shap_maps = compute_shap_maps(run.model, x, run.background[:4], target=run.class_names[1],
                                  class_names=run.class_names, nsamples=8)
    assert shap_maps.maps.shape == (2, 48, 48) and np.abs(shap_maps.maps).sum() > 0
