import io

import numpy as np
from PIL import Image

from core.quality.synth_neu import NEU_CLASSES, generate_neu_like, make_neu_like_image, neu_like_files, write_neu_like


def test_names_sizes_and_rgb_jpeg_storage():
    files = neu_like_files(per_class=2, size=40, seed=0)
    assert list(files) == [f"{c}_{i}.jpg" for c in NEU_CLASSES for i in (1, 2)]
    with Image.open(io.BytesIO(files["rolled-in_scale_1.jpg"])) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and im.size == (40, 40)


def test_deterministic_per_image_and_seed_dependent():
    a = {n: img for n, _, img in generate_neu_like(per_class=2, size=40, seed=5)}
    b = {n: img for n, _, img in generate_neu_like(per_class=3, size=40, seed=5, classes=("scratches",))}
    c = {n: img for n, _, img in generate_neu_like(per_class=2, size=40, seed=6)}
    assert np.array_equal(a["scratches_2.jpg"], b["scratches_2.jpg"])  # independent of other counts
    assert not np.array_equal(a["scratches_2.jpg"], c["scratches_2.jpg"])


def test_classes_cannot_be_told_by_brightness_alone():
    means = {c: [make_neu_like_image(c, np.random.default_rng([0, k, i]), 64).mean() for i in range(12)]
             for k, c in enumerate(NEU_CLASSES)}
    lows, highs = [min(v) for v in means.values()], [max(v) for v in means.values()]
    assert max(lows) < min(highs)  # every class's brightness range overlaps every other's


def test_write_zip_and_folder(tmp_path):
    z = write_neu_like(tmp_path / "set.zip", per_class=1, size=24)
    d = write_neu_like(tmp_path / "set", per_class=1, size=24)
    import zipfile

    assert sorted(zipfile.ZipFile(z).namelist()) == sorted(f"NEU-like/{c}_1.jpg" for c in NEU_CLASSES)
    assert sorted(p.name for p in d.iterdir()) == sorted(f"{c}_1.jpg" for c in NEU_CLASSES)
