import io

import numpy as np
import pytest
from PIL import Image

from core.errors import DataValidationError
from core.quality.data import (
    LoadOptions,
    decode_image,
    find_ok_class,
    load_image_dataset,
    load_single_image,
    split_indices,
)
from tests.quality.conftest import make_zip, png_bytes, sample_entries


def _img(size=(20, 30), mode="L", value=128, fmt="PNG"):
    arr = np.full((size[1], size[0]) + ((3,) if mode == "RGB" else ()), value, np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format=fmt)
    return buf.getvalue()


def test_folder_per_class_zip_with_wrapping_folder(small_zip):
    ds = load_image_dataset(small_zip, options=LoadOptions(image_size=32))
    assert ds.class_names == ("ok", "pit", "scratch")
    assert ds.counts() == {"ok": 60, "pit": 12, "scratch": 12}
    assert ds.images.shape == (84, 32, 32, 1) and ds.images.dtype == np.uint8
    assert ds.names[0].startswith("ok/")
    assert ds.notices == ()


def test_mixed_sizes_are_resized_and_noticed():
    entries = {f"ok/{i}.png": _img((40 + i, 25)) for i in range(5)}
    entries |= {f"bad/{i}.jpg": _img((100, 100), fmt="JPEG") for i in range(5)}
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=24))
    assert ds.images.shape == (10, 24, 24, 1)
    assert any("resized to 24×24" in n for n in ds.notices)


def test_colour_images_keep_three_channels_and_grayscale_mode_converts():
    entries = {f"ok/{i}.png": _img(mode="RGB", value=100) for i in range(5)}
    rgb = np.zeros((30, 20, 3), np.uint8)
    rgb[..., 0] = 255  # pure red: channels differ
    entries |= {f"dent/{i}.png": png_bytes(rgb, "RGB") for i in range(5)}
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert ds.channels == 3
    gray = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16, color="grayscale"))
    assert gray.channels == 1
    red = gray.images[gray.labels == gray.class_names.index("dent")]
    assert int(red[0, 0, 0, 0]) == round(255 * 0.299)


def test_grayscale_stored_as_rgb_is_detected_as_grayscale():
    entries = {f"{c}/{i}.png": _img(mode="RGB", value=50 + i) for c in ("ok", "nok") for i in range(5)}
    assert load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16)).channels == 1


def test_corrupt_and_non_image_files_are_skipped_with_notice():
    entries = sample_entries({"ok": 6, "pit": 6}, size=16)
    entries["ok/broken.png"] = b"\x89PNG\r\n\x1a\n not really"
    entries["pit/notes.txt"] = b"hello"
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert len(ds.labels) == 12
    assert any("could not be read as images" in n and "ok/broken.png" in n for n in ds.notices)
    assert any("not images and were skipped" in n and "pit/notes.txt" in n for n in ds.notices)


def test_class_with_too_few_images_is_left_out_with_notice():
    entries = sample_entries({"ok": 8, "pit": 8, "crack": 2}, size=16)
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16, min_per_class=5))
    assert ds.class_names == ("ok", "pit")
    assert any("fewer than 5 images were left out: crack (2)" in n for n in ds.notices)


def test_fewer_than_two_usable_classes_is_an_error():
    entries = sample_entries({"ok": 8, "pit": 2}, size=16)
    with pytest.raises(DataValidationError, match="at least two classes with 5\\+ images each; got ok: 8, pit: 2"):
        load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))


def test_labels_csv_layout():
    entries = {f"img/{i}.png": _img(value=10 * i) for i in range(12)}
    csv = "filename,label\n" + "".join(f"{i}.png,{'good' if i % 2 else 'dent'}\n" for i in range(12))
    entries["img/labels.csv"] = csv.encode()
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert ds.counts() == {"dent": 6, "good": 6}
    assert find_ok_class(ds.class_names) == "good"


def test_labels_csv_missing_files_and_bad_columns():
    entries = {f"{i}.png": _img() for i in range(10)}
    csv = "file,class\n" + "".join(f"{i}.png,{'ok' if i < 5 else 'nok'}\n" for i in range(10)) + "gone.png,ok\n"
    ds = load_image_dataset(make_zip(entries | {"labels.csv": csv.encode()}), options=LoadOptions(image_size=16))
    assert any("were not found in the upload" in n and "gone.png" in n for n in ds.notices)
    bad = "picture,verdict,extra\n0.png,ok,1\n"
    with pytest.raises(DataValidationError, match="needs a file name column"):
        load_image_dataset(make_zip(entries | {"labels.csv": bad.encode()}), options=LoadOptions(image_size=16))
    with pytest.raises(DataValidationError, match="at most one labels CSV"):
        load_image_dataset(make_zip(entries | {"a.csv": b"x", "b.csv": b"y"}), options=LoadOptions(image_size=16))


def test_no_labelled_images_is_an_error():
    with pytest.raises(DataValidationError, match="no labelled images"):
        load_image_dataset(make_zip({"notes/b.txt": b"x", "notes/c.txt": b"y"}), options=LoadOptions(image_size=16))
    # A lone image in no folder and with no class in its name: the file-name layout says what is missing.
    with pytest.raises(DataValidationError, match="Expected the class in each file name"):
        load_image_dataset(make_zip({"a.png": _img(), "b.txt": b"x"}), options=LoadOptions(image_size=16))


def test_only_unreadable_images_is_an_error():
    with pytest.raises(DataValidationError, match="none of which could be decoded"):
        load_image_dataset(make_zip({"ok/a.png": b"junk", "nok/b.png": b"junk"}), options=LoadOptions(image_size=16))


def test_option_validation_and_missing_path(tmp_path):
    with pytest.raises(DataValidationError, match="a number of pixels between 16 and 256; got 8"):
        load_image_dataset(b"", options=LoadOptions(image_size=8))
    with pytest.raises(DataValidationError, match="Colour mode must be"):
        load_image_dataset(b"", options=LoadOptions(color="sepia"))
    with pytest.raises(DataValidationError, match="does not exist"):
        load_image_dataset(tmp_path / "nope.zip")
    with pytest.raises(DataValidationError, match="got int"):
        load_image_dataset(42)


def test_test_set_with_unknown_class_is_refused():
    entries = sample_entries({"ok": 5, "crack": 5}, size=16)
    with pytest.raises(DataValidationError, match="not trained on: crack"):
        load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16), class_names=("ok", "pit"))


def test_max_images_cap_is_stratified_and_noticed():
    entries = sample_entries({"ok": 20, "pit": 20}, size=16)
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16, max_images=30))
    assert len(ds.labels) == 30 and all(n >= 10 for n in ds.counts().values())
    assert any("first 30" in n for n in ds.notices)


def test_directory_source(tmp_path):
    for name, data in sample_entries({"ok": 5, "pit": 5}, size=16).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    assert load_image_dataset(tmp_path, options=LoadOptions(image_size=16)).counts() == {"ok": 5, "pit": 5}


def test_huge_declared_image_is_refused_by_decoder():
    with pytest.raises(ValueError, match="pixel limit"):
        decode_image(_img((8000, 6000)), image_size=16)


def test_single_image_matches_model_input_and_rejects_junk():
    one = load_single_image(_img((50, 40), mode="RGB", value=90), image_size=32, channels=1)
    assert one.shape == (1, 32, 32, 1) and int(one[0, 0, 0, 0]) == 90
    with pytest.raises(DataValidationError, match="cannot be decoded"):
        load_single_image(b"not an image", image_size=32, channels=1)


def test_split_is_stratified_and_disjoint():
    y = np.array([0] * 80 + [1] * 10 + [2] * 10)
    tr, va, te = split_indices(y, seed=0)
    assert len(set(tr) | set(va) | set(te)) == 100 and not (set(tr) & set(te))
    for part in (tr, va, te):
        assert set(y[part]) == {0, 1, 2}


def test_find_ok_class():
    assert find_ok_class(["crack", "OK"]) == "OK"
    assert find_ok_class(["No-Defect", "x"]) == "No-Defect"
    assert find_ok_class(["crazing", "inclusion"]) is None


def test_wrapper_folder_with_stray_files_is_still_stripped():
    entries = sample_entries({"ok": 5, "pit": 5}, size=16, prefix="line3/") | {"line3/readme.txt": b"x"}
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert ds.class_names == ("ok", "pit")
    assert any("readme.txt" in n for n in ds.notices)


def test_wrapper_folder_around_images_and_labels_csv():
    entries = {f"batch/img/{i}.png": _img(value=10 * i) for i in range(10)}
    entries["batch/labels.csv"] = ("filename,label\n" + "".join(
        f"img/{i}.png,{'ok' if i < 5 else 'dent'}\n" for i in range(10))).encode()
    ds = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16))
    assert ds.counts() == {"dent": 5, "ok": 5}


def test_split_of_a_tiny_many_class_set_does_not_fail():
    y = np.repeat(np.arange(4), 5)  # 20 images: a 15 % validation split cannot hold all 4 classes
    tr, va, te = split_indices(y, seed=0)
    assert len(tr) + len(va) + len(te) == 20 and len(va) >= 1 and len(te) >= 1


def test_zip_with_a_csv_and_no_images_is_refused_not_looped(tmp_path):
    import io
    import zipfile

    from core.quality.data import load_image_dataset

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("labels.csv", "file,label\na.png,ok\n")
        zf.writestr("notes.txt", "x")
    with pytest.raises(DataValidationError):
        load_image_dataset(buf.getvalue())
