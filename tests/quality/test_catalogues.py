"""Image catalogues as they are downloaded: masks beside the photos, extra folder levels, the good
class named with a prefix (the magnetic-tile look-alike of tests/quality/mtlike.py, MVTec- and
DAGM-like layouts, photo-only catalogues that must lose nothing, the real NEU folder)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.errors import DataValidationError
from core.quality.data import LoadOptions, find_ok_class, load_image_dataset, load_images_for_scoring
from core.quality.evaluate import get_task
from core.quality.labels import folder_class, is_generic_folder, ok_name_rank
from tests.quality.conftest import make_zip
from tests.quality.mtlike import COUNTS, ROOT, magnetic_tile_files, photo_count

OPTS = LoadOptions(image_size=16)


def photo(seed: int, size: int = 24, *, mode: str = "L", fmt: str = "PNG", low: int = 40, high: int = 220) -> bytes:
    """A photo-like image: many grey levels (or colours), never two-valued."""
    rng = np.random.default_rng(seed)
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(low, high, shape).astype(np.uint8), mode=mode).save(buf, format=fmt)
    return buf.getvalue()


def mask(seed: int, size: int = 24, *, fmt: str = "PNG", blank: bool = False) -> bytes:
    """A binary mask (0 / 255), or an all-black one."""
    arr = np.zeros((size, size), np.uint8)
    if not blank:
        rng = np.random.default_rng(seed)
        y, x = rng.integers(2, size - 8, 2)
        arr[y:y + 6, x:x + 6] = 255
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def mt_files() -> dict[str, bytes]:
    return magnetic_tile_files(seed=0)


# ---------------------------------------------------------------- the magnetic-tile look-alike
def test_magnetic_tile_lookalike_reads_the_photos_once_and_leaves_the_masks_out(mt_files):
    n = photo_count(mt_files)
    assert n == sum(COUNTS.values()) and len(mt_files) == 2 * n + 1  # photos, masks, README
    data = load_image_dataset(make_zip(mt_files), options=OPTS)
    assert len(data.labels) == n  # N photos, not 2N
    assert all(name.endswith(".jpg") for name in data.names)
    assert data.layout == "folders" and data.counts() == dict(sorted(COUNTS.items()))
    assert data.channels == 1
    notice = next(t for t in data.notices if "mask or annotation image(s) were left out" in t)
    assert notice.startswith(f"{n} mask or annotation image(s) were left out, not read as photos: {n} have the same "
                             "name as a photo beside them with another extension")
    assert "--keep-masks" in notice and "MT_Blowhole/Imgs/" in notice
    assert any("Folder level(s) Imgs have generic names" in t for t in data.notices)
    # Every mask is recorded with its photo (for checking heatmaps against it later).
    assert len(data.masks) == n
    assert all(m.endswith(".png") and p == m[:-4] + ".jpg" for m, p in data.masks)
    assert find_ok_class(data.class_names) == "MT_Free"
    assert get_task(find_ok_class(data.class_names)) == "inspection"


def test_keep_masks_reads_every_image_and_says_so(mt_files):
    data = load_image_dataset(make_zip(mt_files), options=LoadOptions(image_size=16, keep_masks=True))
    assert len(data.labels) == 2 * photo_count(mt_files) and data.masks == ()
    assert any("look like masks or annotations" in t and "kept as photos, as asked" in t for t in data.notices)


def test_magnetic_tile_lookalike_through_the_cli(mt_files, tmp_path, capsys):
    """--data of the catalogue as downloaded trains an inspection with MT_Free as the good class; the
    saved run records the masks left out; --ok-class still picks another class."""
    zpath = tmp_path / "mt.zip"
    zpath.write_bytes(make_zip(mt_files))
    n = photo_count(mt_files)
    code = main(["train", "--scenario", "quality", "--data", str(zpath), "--image-size", "16", "--epochs", "1",
                 "--save", str(tmp_path / "run"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    assert res["task"] == "inspection" and res["decision"]["ok_class"] == "MT_Free"
    assert res["data"]["images"] == n and res["data"]["masks_left_out"] == n
    assert "Good-part class: MT_Free (recognised by its name" in err
    assert f"{n} mask or annotation image(s) left out" in err
    from core.store.registry import read_metadata

    masks = read_metadata(tmp_path / "run")["workspace"]["dataset"]["masks"]
    assert masks["left_out"] == n and len(masks["by_photo"]) == n and masks["without_photo"] == []
    assert masks["by_photo"][f"{data_name(mt_files, 'MT_Crack')}.jpg"] == f"{data_name(mt_files, 'MT_Crack')}.png"

    code = main(["train", "--scenario", "quality", "--data", str(zpath), "--image-size", "16", "--epochs", "1",
                 "--ok-class", "MT_Uneven", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["decision"]["ok_class"] == "MT_Uneven"
    assert "Good-part class: MT_Uneven (chosen with --ok-class)" in err


def data_name(files: dict[str, bytes], cls: str) -> str:
    """The first photo of ``cls`` without its extension, as the loader names it (wrapper dropped)."""
    first = sorted(p for p in files if f"/{cls}/" in p and p.endswith(".jpg"))[0]
    return first[len(ROOT) + 1:-4]


def test_scoring_the_catalogue_leaves_the_masks_out_and_labels_by_the_nearest_folder(mt_files):
    classes = tuple(sorted(COUNTS))
    images, names, labels, notices = load_images_for_scoring(make_zip(mt_files), image_size=16, channels=1,
                                                             class_names=classes)
    n = photo_count(mt_files)
    assert len(images) == len(names) == n and labels is not None
    assert [classes[i] for i in labels] == [name.split("/")[0] for name in names]
    assert any(t.startswith(f"{n} mask or annotation image(s) were left out") for t in notices)
    kept = load_images_for_scoring(make_zip(mt_files), image_size=16, channels=1, class_names=classes,
                                   keep_masks=True)
    assert len(kept[0]) == 2 * n


def test_a_single_class_test_folder_keeps_its_label_through_the_wrapper(mt_files):
    """A test set of MT_Free only (``MT_Free/Imgs/...``): the wrapper folder is the class."""
    free = {p[len(ROOT) + 1:]: b for p, b in mt_files.items() if "/MT_Free/" in p}
    data = load_image_dataset(make_zip(free), options=LoadOptions(image_size=16, min_per_class=1),
                              class_names=tuple(sorted(COUNTS)))
    assert data.counts()["MT_Free"] == COUNTS["MT_Free"] and len(data.labels) == COUNTS["MT_Free"]


# ---------------------------------------------------------------- photos that must stay
def test_a_png_only_photo_catalogue_loses_nothing():
    """Grey and colour PNG photos, a low-contrast grey class, a class named 'label', and the same grey
    photo saved twice (x.png + x.bmp): every image is a photo, none is dropped, no mask notice."""
    entries = {}
    for i in range(6):
        entries[f"ok/{i:03d}.png"] = photo(i)
        entries[f"scratch/{i:03d}.png"] = photo(100 + i, mode="RGB")
        entries[f"label/{i:03d}.png"] = photo(200 + i)  # a class of photos that happens to be called "label"
        entries[f"faint/{i:03d}.png"] = photo(300 + i, low=118, high=130)  # a grey, low-contrast photo
        entries[f"dark/img_{i}.png"] = photo(400 + i, low=0, high=60)
    entries["ok/dup.png"] = photo(7)
    entries["ok/dup.bmp"] = photo(7, fmt="BMP")
    data = load_image_dataset(make_zip(entries), options=OPTS)
    assert len(data.labels) == len(entries)
    assert data.masks == ()
    assert not any("mask" in t for t in data.notices)


def test_same_name_pairs_drop_only_the_mask_like_one():
    entries = {}
    for i in range(5):
        # Colour photo + a grey, many-level annotation of the same name: the single-channel one goes.
        entries[f"rust/{i}.jpg"] = photo(i, mode="RGB", fmt="JPEG")
        entries[f"rust/{i}.png"] = photo(50 + i)
        # A mask saved as JPEG (near-binary, not exactly two-valued) beside a PNG photo.
        entries[f"dent/{i}.png"] = photo(60 + i)
        entries[f"dent/{i}.jpg"] = mask(i, fmt="JPEG")
        # A grey photo saved as JPEG and as PNG: neither is a mask.
        entries[f"ok/{i}.jpg"] = photo(70 + i, fmt="JPEG")
        entries[f"ok/{i}.png"] = photo(70 + i)
    data = load_image_dataset(make_zip(entries), options=LoadOptions(image_size=16, color="grayscale"))
    assert sorted(m for m, _ in data.masks) == sorted([f"rust/{i}.png" for i in range(5)]
                                                       + [f"dent/{i}.jpg" for i in range(5)])
    assert dict(data.masks)["dent/0.jpg"] == "dent/0.png" and dict(data.masks)["rust/0.png"] == "rust/0.jpg"
    assert data.counts() == {"dent": 5, "ok": 10, "rust": 5}


def test_mvtec_like_layout_ground_truth_masks_and_split_folders():
    """``bottle/train/good``, ``bottle/test/{good,broken}``, ``bottle/ground_truth/broken/*_mask.png``:
    classes good / broken (train and test pooled), masks left out and matched to their photos."""
    entries = {}
    for i in range(6):
        entries[f"bottle/train/good/{i:03d}.png"] = photo(i, mode="RGB")
        entries[f"bottle/test/good/{i:03d}.png"] = photo(20 + i, mode="RGB")
        entries[f"bottle/test/broken/{i:03d}.png"] = photo(40 + i, mode="RGB")
        entries[f"bottle/ground_truth/broken/{i:03d}_mask.png"] = mask(i)
    data = load_image_dataset(make_zip(entries), options=OPTS)
    assert data.counts() == {"broken": 6, "good": 12}
    assert find_ok_class(data.class_names) == "good"
    assert dict(data.masks)["ground_truth/broken/002_mask.png"] == "test/broken/002.png"
    notice = next(t for t in data.notices if "were left out" in t)
    assert "6 are in a mask / annotation folder (ground_truth/)" in notice
    assert any("Folder level(s) test, train have generic names" in t for t in data.notices)


def test_dagm_like_label_folder_and_label_suffix():
    entries = {}
    for c in ("Class1", "Class2"):
        for i in range(6):
            entries[f"{c}/Train/{i:04d}.PNG"] = photo(i + (50 if c == "Class2" else 0))
            entries[f"{c}/Train/Label/{i:04d}_label.PNG"] = mask(i)
        entries[f"{c}/Train/{9:04d}_label.PNG"] = mask(9)  # a mask beside the photos, named as one
    data = load_image_dataset(make_zip(entries), options=OPTS)
    assert data.counts() == {"Class1": 6, "Class2": 6} and len(data.masks) == 14
    reasons = next(t for t in data.notices if "were left out" in t)
    assert "12 are in a mask / annotation folder (Label/)" in reasons and "2 are named as masks" in reasons


def test_a_mask_word_in_a_name_needs_mask_like_pixels():
    """``label_missing`` photos and ``gt`` photos keep their images: the name alone is not enough."""
    entries = {f"label_missing/{i}.png": photo(i) for i in range(5)}
    entries |= {f"gt/{i}_mask.png": photo(10 + i) for i in range(5)}
    data = load_image_dataset(make_zip(entries), options=OPTS)
    assert data.counts() == {"gt": 5, "label_missing": 5} and data.masks == ()


def test_two_valued_images_among_photos_are_left_out_but_a_black_and_white_catalogue_is_kept():
    entries = {f"{c}/{i}.png": photo(i + 10 * k) for k, c in enumerate(("ok", "pit")) for i in range(8)}
    stray = {"ok/extra_a.png": mask(1), "pit/extra_b.png": mask(2, blank=True)}
    data = load_image_dataset(make_zip(entries | stray), options=OPTS)
    assert len(data.labels) == 16 and sorted(m for m, _ in data.masks) == sorted(stray)
    assert any("2 are black-and-white (two-valued) images among photos" in t for t in data.notices)

    binary = {f"{c}/{i}.png": mask(i + 10 * k) for k, c in enumerate(("ok", "pit")) for i in range(8)}
    data = load_image_dataset(make_zip(binary), options=OPTS)
    assert len(data.labels) == 16 and data.masks == () and not any("mask" in t for t in data.notices)

    half = {f"ok/{i}.png": photo(i) for i in range(8)} | {f"pit/{i}.png": mask(i) for i in range(8)}
    data = load_image_dataset(make_zip(half), options=OPTS)
    assert len(data.labels) == 16
    assert any(t.startswith("8 of 16 images are black-and-white (two-valued)") and "kept" in t for t in data.notices)


def test_an_upload_of_masks_only_is_refused_with_the_fix():
    only = {f"{c}/{i}_mask.png": mask(i) for c in ("ok", "pit") for i in range(5)}
    with pytest.raises(DataValidationError, match=r"no labelled images \(10 image\(s\) were left out as masks or "
                                                  r"annotations, e\.g\. ok/0_mask\.png; if they are photos, keep them "
                                                  r"with 'Keep mask-like images as photos' on the page or --keep-masks"):
        load_image_dataset(make_zip(only), options=OPTS)
    assert len(load_image_dataset(make_zip(only), options=LoadOptions(image_size=16, keep_masks=True)).labels) == 10


def test_scoring_masks_only_is_refused_with_the_fix():
    only = {f"lot/{i}_mask.png": mask(i) for i in range(4)}
    with pytest.raises(DataValidationError, match=r"no images \(4 image\(s\) were left out as masks .*--keep-masks"):
        load_images_for_scoring(make_zip(only), image_size=16, channels=1, class_names=("ok", "pit"))


def test_dask_listing_of_masks_only_is_refused_with_the_fix(tmp_path):
    from core.quality.scale import list_images

    for i in range(3):
        (tmp_path / "lot" / "gt").mkdir(parents=True, exist_ok=True)
        (tmp_path / "lot" / "gt" / f"{i}.png").write_bytes(mask(i))
    with pytest.raises(DataValidationError, match=r"got 3 file\(s\) and no images \(3 image\(s\) were left out as "
                                                  r"masks .*--keep-masks on the command line\)\. Fix: point --data"):
        list_images(tmp_path / "lot")
    assert len(list_images(tmp_path / "lot", keep_masks=True)[0]) == 3


# ---------------------------------------------------------------- folder levels
def test_class_images_train_layout_and_train_test_splits_are_pooled():
    entries = {}
    for k, c in enumerate(("ok", "scratch")):
        for i in range(4):
            entries[f"parts/{c}/images/train/{i}.png"] = photo(i + 10 * k)
            entries[f"parts/{c}/images/test/{i}.png"] = photo(i + 10 * k + 5)
    data = load_image_dataset(make_zip(entries), options=OPTS)
    assert data.counts() == {"ok": 8, "scratch": 8}
    flipped = {f"{split}/{c}/{i}.png": photo(i + 10 * k) for split in ("train", "val")
               for k, c in enumerate(("ok", "scratch")) for i in range(3)}
    assert load_image_dataset(make_zip(flipped), options=OPTS).counts() == {"ok": 6, "scratch": 6}


@pytest.mark.parametrize("path, root, expected", [
    ("MT_Crack/Imgs/x.jpg", (), "MT_Crack"),
    ("crack/images/train/x.jpg", (), "crack"),
    ("train/crack/x.jpg", (), "crack"),
    ("crack/Train_Images/x.jpg", (), "crack"),
    ("Imgs/x.jpg", ("MT_Free",), "MT_Free"),
    ("Imgs/x.jpg", (), None),
    ("0/x.png", (), "0"),  # classes named by numbers stay classes
    ("x.jpg", (), None),
    # Sub-folders inside a class folder (batches, lots, dates) belong to that class.
    ("ok/batch1/x.png", (), "ok"),
    ("scratch/lot_7/Imgs/x.png", (), "scratch"),
    ("ok/x.png", ("my_upload",), "ok"),
])
def test_folder_class_is_the_outermost_non_generic_folder(path, root, expected):
    assert folder_class(path, root) == expected


@pytest.mark.parametrize("name", ["Imgs", "images", "IMG", "train", "Test", "val", "data", "Train_Images", "images2"])
def test_generic_folder_names(name):
    assert is_generic_folder(name)


@pytest.mark.parametrize("name", ["MT_Free", "scratch", "crack_images", "2023", "label", "good"])
def test_class_folder_names_are_not_generic(name):
    assert not is_generic_folder(name)


# ---------------------------------------------------------------- the good class
@pytest.mark.parametrize("name", [
    "ok", "OK", "good", "Normal", "pass", "passed", "free", "defect-free", "defect_free", "DefectFree", "no_defect",
    "nodefect", "non_defective", "non-defective", "intact", "clean", "MT_Free", "class_ok", "OK_parts", "okParts",
    "Good parts", "part-ok-2", "no-defects",
])
def test_good_class_names_are_recognised(name):
    assert ok_name_rank(name) is not None
    assert find_ok_class(["scratch", name, "dent"]) == name


@pytest.mark.parametrize("name", [
    "broken", "freeze", "passivation", "bypass", "abnormal", "uncleaned", "not_ok", "NotOK", "NOK", "NG", "no_good",
    "non_clean", "defect", "defective", "MT_Blowhole", "goods_damaged", "negative_print", "intactness", "okra",
    "cleaning_mark", "spoke",
])
def test_defect_names_are_not_good_classes(name):
    assert ok_name_rank(name) is None
    assert find_ok_class(["scratch", name]) is None


def test_a_whole_good_name_wins_over_a_prefixed_one():
    assert find_ok_class(["OK_front", "dent", "ok"]) == "ok"
    assert find_ok_class(["MT_Crack", "MT_Free"]) == "MT_Free"


# ---------------------------------------------------------------- the real NEU folder
@pytest.mark.realdata
def test_real_neu_folder_still_reads_as_defect_typing(shared_data):
    data = load_image_dataset(shared_data("quality_inspection/neu_surface_defects/images"), options=OPTS)
    assert len(data.labels) == 1_800 and len(data.class_names) == 6
    assert set(data.counts().values()) == {300}
    assert data.masks == () and not any("mask" in t for t in data.notices)
    assert find_ok_class(data.class_names) is None and get_task(None) == "defect_typing"
