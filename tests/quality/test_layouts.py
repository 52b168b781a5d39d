"""Labels from file names (images flat in one folder), grey images stored as RGB, the input-size choice."""

import io

import numpy as np
import pytest
from PIL import Image

from core.errors import DataValidationError
from core.quality.data import (
    LoadOptions, check_image_size, choose_image_size, is_near_gray, load_image_dataset, load_images_for_scoring,
)
from core.quality.labels import class_from_filename, describe_layout, labels_from_filenames
from tests.quality.conftest import make_zip, png_bytes


def _img(seed: int, size: int = 20) -> bytes:
    return png_bytes(np.random.default_rng(seed).integers(0, 255, (size, size), dtype=np.uint8))


def _rgb_jpeg(gray: np.ndarray, *, noise: int = 0, quality: int = 90, seed: int = 0) -> bytes:
    """A grey image written as a colour JPEG, optionally with a little per-channel noise (as some
    cameras and converters add)."""
    rgb = np.repeat(gray[..., None].astype(int), 3, axis=-1)
    if noise:
        rgb = rgb + np.random.default_rng(seed).integers(-noise, noise + 1, rgb.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize("name, expected", [
    ("scratches_12.jpg", "scratches"),
    ("rolled-in_scale_7.jpg", "rolled-in_scale"),
    ("pitted_surface_300.JPG", "pitted_surface"),
    ("crazing-3.png", "crazing"),
    ("Cr_1.bmp", "Cr"),
    ("PS_12.BMP", "PS"),
    ("RS_0007.Jpeg", "RS"),
    ("pit (3).png", "pit"),
    ("scratch_2_10.png", "scratch_2"),  # the prefix before the LAST separator and number
    ("a.jpg", None),
    ("img001.jpg", None),
    ("_12.jpg", None),
    ("12.jpg", None),
])
def test_class_from_filename(name, expected):
    assert class_from_filename(name) == expected


def test_flat_zip_takes_classes_from_file_names_with_mixed_separators_and_case():
    entries = {}
    for i in range(6):
        entries[f"NEU/scratches_{i + 1}.jpg"] = _img(i)
        entries[f"NEU/rolled-in_scale-{i + 1}.JPG"] = _img(10 + i)
        entries[f"NEU/crazing_{i + 1}.Png"] = _img(20 + i)
    data = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert data.layout == "filenames"
    assert data.counts() == {"crazing": 6, "rolled-in_scale": 6, "scratches": 6}
    assert describe_layout(data.layout, data.counts()) == (
        "3 classes taken from the file names: crazing (6), rolled-in_scale (6), scratches (6).")


def test_short_prefixes_differing_in_case_are_one_class_spelt_as_most_files_spell_it(tmp_path):
    for i in range(5):
        (tmp_path / f"Cr_{i + 1}.bmp").write_bytes(_img(i))
        (tmp_path / f"In_{i + 1}.bmp").write_bytes(_img(10 + i))
    (tmp_path / "cr_99.bmp").write_bytes(_img(99))
    data = load_image_dataset(tmp_path, options=LoadOptions(image_size=16))
    assert data.counts() == {"Cr": 6, "In": 5}


def test_names_without_a_class_are_skipped_with_a_notice():
    entries = {f"scratch_{i}.png": _img(i) for i in range(5)} | {f"pit-{i}.png": _img(9 + i) for i in range(5)}
    entries["photo.png"] = _img(50)
    data = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert data.counts() == {"pit": 5, "scratch": 5}
    assert any("have no class in their file name" in n and "photo.png" in n for n in data.notices)


def test_folders_still_win_over_file_names():
    entries = ({f"ok/scratch_{i}.png": _img(i) for i in range(5)}
               | {f"bad/scratch_{i}.png": _img(9 + i) for i in range(5)})
    data = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert data.layout == "folders" and data.counts() == {"bad": 5, "ok": 5}


def test_unlabelled_file_names_are_an_error():
    entries = {f"part{i}.png": _img(i) for i in range(6)}
    with pytest.raises(DataValidationError, match=r"Expected the class in each file name .* got 6 image\(s\) whose "
                                                  r"names carry no class.*Name each file <class>_<number>"):
        load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))


def test_a_single_prefix_is_an_error():
    entries = {f"IMG_{i:04d}.jpg": _img(i) for i in range(6)}
    with pytest.raises(DataValidationError, match=r"got 6 image\(s\) whose names all start with 'IMG', which gives "
                                                  r"a single class.*folder named after the class"):
        labels_from_filenames(entries)


def test_identifier_like_names_are_an_error():
    entries = {f"part{i}_1.png": _img(i) for i in range(8)}
    with pytest.raises(DataValidationError, match=r"got 8 different prefixes for 8 images \(8 with a single image.*"
                                                  r"look like identifiers rather than classes"):
        labels_from_filenames(entries)


def test_scoring_a_flat_zip_keeps_labels_from_file_names():
    entries = {f"Scratch_{i}.png": _img(i) for i in range(3)} | {f"ok-{i}.png": _img(9 + i) for i in range(2)}
    images, names, labels, _ = load_images_for_scoring(make_zip(entries), image_size=16, channels=1,
                                                       class_names=("ok", "scratch"))
    assert images.shape == (5, 16, 16, 1)
    assert [("ok", "scratch")[i] for i in labels] == ["scratch" if n.startswith("S") else "ok" for n in names]
    # Names that are not all training classes are scored unlabelled.
    _, _, labels, _ = load_images_for_scoring(make_zip(entries | {"dent_1.png": _img(40)}), image_size=16,
                                              channels=1, class_names=("ok", "scratch"))
    assert labels is None


# ---------------------------------------------------------------- grey images stored as RGB
@pytest.mark.parametrize("noise", [0, 2, 3])
def test_grey_rgb_jpegs_are_read_as_grayscale(noise):
    rng = np.random.default_rng(1)
    entries = {f"{c}_{i}.jpg": _rgb_jpeg(rng.integers(40, 200, (40, 40)).astype(np.uint8), noise=noise, seed=i)
               for c in ("crazing", "patches") for i in range(5)}
    data = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=32))
    assert data.channels == 1
    assert any("stored as colour (RGB)" in n and "read as grayscale" in n for n in data.notices)


def test_a_colour_cast_keeps_rgb():
    gray = np.full((40, 40), 120, dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    rgb[10:20, 10:20, 0] = 170  # a rust-coloured spot
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    tinted = np.asarray(Image.open(buf).convert("RGB"))
    assert not is_near_gray(tinted)
    assert is_near_gray(np.asarray(Image.open(io.BytesIO(_rgb_jpeg(gray, noise=2))).convert("RGB")))
    entries = {f"rust_{i}.jpg": buf.getvalue() for i in range(5)} | {f"ok_{i}.jpg": _rgb_jpeg(gray) for i in range(5)}
    assert load_image_dataset(make_zip(entries), options=LoadOptions(image_size=32)).channels == 3


# ---------------------------------------------------------------- input size
@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("Native", "native"), ("64", 64), (96, 96), (128, 128),
                                             (16, 16)])
def test_image_size_choices(value, expected):
    assert check_image_size(value) == expected


@pytest.mark.parametrize("value", [0, 8, 300, "big", "64.5", 64.5, None])
def test_bad_image_size_is_refused(value):
    with pytest.raises(DataValidationError, match=r"Image size must be 'auto', 'native' or a number of pixels "
                                                  r"between 16 and 256; got .*Use 'auto'"):
        check_image_size(value)


def test_bad_image_size_is_refused_by_the_loader():
    with pytest.raises(DataValidationError, match="Image size must be 'auto', 'native'"):
        load_image_dataset(b"unused", options=LoadOptions(image_size=512))


def test_auto_size_fits_the_time_budget():
    assert choose_image_size(200, 1_800) == 200  # NEU-sized: 6 x 300 images of 200 x 200, at full resolution
    assert choose_image_size(200, 5_000) == 128  # many images: a smaller size
    assert choose_image_size(100, 20_000) == 64  # very many: the smallest standard size
    assert choose_image_size(200, 100) == 200  # few: their own size
    assert choose_image_size(48, 5_000) == 48  # never larger than the images
    assert choose_image_size(1024, 50) == 256  # never beyond the loader's limit


def test_native_and_auto_sizes_in_the_loader():
    entries = {f"{c}_{i}.png": png_bytes(np.full((40, 40), 30 * i, dtype=np.uint8))
               for c in ("a", "b") for i in range(5)}
    native = load_image_dataset(make_zip(entries), options=LoadOptions(image_size="native"))
    auto = load_image_dataset(make_zip(entries), options=LoadOptions(image_size="auto"))
    assert native.image_size == 40 == auto.image_size
    assert any("chosen automatically" in n for n in auto.notices)
