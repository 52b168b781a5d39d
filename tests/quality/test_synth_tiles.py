import io

import numpy as np
from PIL import Image

from core.quality.synth_tiles import SIDES, TILE_CLASSES, TILE_COUNTS, generate_tiles, make_tile_image, tile_files


def test_default_counts_follow_the_magnetic_tile_catalogue():
    assert sum(TILE_COUNTS.values()) == 1_344
    assert TILE_COUNTS["good"] / min(TILE_COUNTS.values()) > 29  # good class about 30x the rarest defect
    assert round(TILE_COUNTS["good"] / 1_344, 3) == 0.708  # the majority class's share


def test_files_are_grey_jpegs_in_class_folders_of_several_sizes():
    files = tile_files(counts={c: 3 for c in TILE_CLASSES}, seed=1)
    assert sorted(files) == sorted(f"{c}/{c}_{i}.jpg" for c in TILE_CLASSES for i in (1, 2, 3))
    sizes = set()
    for data in files.values():
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG" and im.mode == "L"
            assert set(im.size) <= set(SIDES)
            sizes.add(im.size)
    assert len(sizes) > 3  # not one size, not always square


def test_deterministic_per_image_and_seed_dependent():
    a = {p: img for p, _, img in generate_tiles(counts={"crack": 2}, seed=4)}
    b = {p: img for p, _, img in generate_tiles(counts={"crack": 3, "good": 1}, seed=4)}
    c = {p: img for p, _, img in generate_tiles(counts={"crack": 2}, seed=5)}
    assert np.array_equal(a["crack/crack_2.jpg"], b["crack/crack_2.jpg"])
    assert not np.array_equal(a["crack/crack_2.jpg"], c["crack/crack_2.jpg"])


def test_defects_are_small_and_dark_on_the_same_surface():
    # The same generator state draws the same surface; the defect changes only a small part of it.
    for label in ("blowhole", "crack"):
        good = make_tile_image("good", np.random.default_rng([9, 0]))
        bad = make_tile_image(label, np.random.default_rng([9, 0]))
        changed = np.abs(bad.astype(int) - good.astype(int)) > 12
        assert 0 < changed.mean() < 0.02, label
        assert bad[changed].mean() < good[changed].mean(), label
