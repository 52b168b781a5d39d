"""Labelled image sets for quality inspection: load, decode, resize, validate, split.

Accepted layouts (zip upload, local zip or local folder):

* one folder per class: ``ok/a.png``, ``scratch/b.png`` (a single wrapping folder such as
  ``my_images/ok/a.png`` is fine);
* image files plus one CSV with a file-name column and a label column;
* images flat in one folder with the class in the file name: ``scratches_12.jpg``,
  ``rolled-in_scale_7.jpg``, ``crazing-3.png``, ``Cr_1.bmp`` (see ``core.quality.labels``).

Extra folder levels with generic names (``MT_Crack/Imgs/x.jpg``, ``crack/images/train/x.jpg``) are
skipped: the class is the outermost folder with another name. Masks and annotation images beside
the photos (``x.png`` beside ``x.jpg``, ``ground_truth/``, ``x_mask.png``, two-valued images among
photos) are left out with a notice and recorded in ``ImageDataset.masks`` (``core.quality.masks``).

Grey images stored as RGB (three equal channels, up to JPEG noise) are read as grayscale.
The input size is a number of pixels, ``"native"`` (the images' own size) or ``"auto"`` (the
largest of native / 128 / 96 / 64 that keeps training within the time budget, see
``choose_image_size``).
Images are stored as uint8 arrays (N, S, S, C) to keep memory small; the model rescales.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from core.errors import DataValidationError
from core.quality.archive import ArchiveLimits, read_directory, read_zip
from core.quality.sizing import (  # noqa: F401  (re-exported: the loader's public options)
    IMAGE_SIZES, MAX_SIZE, MIN_SIZE, check_image_size, choose_image_size, is_near_gray, native_size,
)
from core.quality.labels import (  # noqa: F401  (find_ok_class, OK_NAMES re-exported)
    IMAGE_EXTENSIONS, OK_NAMES, find_ok_class, is_flat, labels_from_csv, labels_from_filenames,
    labels_from_folders, scoring_labels, split_common_root,
)
from core.quality.masks import (
    MaskReport, binary_kept_notice, binary_minority, count_levels, describe_masks, leave_out_masks, only_masks_text,
)

MAX_PIXELS = 40_000_000  # a single 40-megapixel image is already far beyond inspection crops
LAYOUTS = {"folders": "one folder per class", "csv": "a labels CSV", "filenames": "the file names"}


@dataclass(frozen=True)
class LoadOptions:
    """How to turn files into a training set."""

    image_size: int | str = "auto"  # pixels (16-256), "native" or "auto"
    color: str = "auto"  # "auto", "grayscale" or "rgb"
    min_per_class: int = 5
    max_images: int = 5_000
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    keep_masks: bool = False  # read images that look like masks as photos (the notice says which)


@dataclass(frozen=True)
class ImageDataset:
    """Decoded images (uint8, N x S x S x C), integer labels and what was noticed on the way."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    names: tuple[str, ...]
    notices: tuple[str, ...] = ()
    layout: str = "folders"  # where the labels came from: "folders", "csv" or "filenames"
    # Masks / annotation images left out: (mask path, its photo's path or ""), for checking heatmaps later.
    masks: tuple[tuple[str, str], ...] = ()
    # SHA-256 of the zip as uploaded, or of a folder's files (``core.report.runsummary.source_sha256``).
    source_sha256: str | None = None

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        c = Counter(self.labels.tolist())
        return {name: int(c.get(i, 0)) for i, name in enumerate(self.class_names)}

    def subset(self, idx) -> "ImageDataset":
        """The images at positions ``idx`` (same classes)."""
        idx = np.asarray(idx, dtype=int)
        return ImageDataset(self.images[idx], self.labels[idx], self.class_names,
                            tuple(self.names[i] for i in idx), self.notices, self.layout, self.masks,
                            self.source_sha256)


def decode_image(data: bytes, *, image_size: int) -> tuple[np.ndarray, tuple[int, int], bool]:
    """Decode one image to an RGB uint8 array resized to ``image_size`` square.

    Returns (pixels, original (width, height), whether the source was grayscale).  Raises
    ``ValueError`` for anything that is not a readable image.
    """
    return decode_with_levels(data, image_size=image_size)[:3]


def decode_with_levels(data: bytes, *, image_size: int) -> tuple[np.ndarray, tuple[int, int], bool, bool]:
    """``decode_image``, plus whether the image is two-valued (every pixel one of two values, as masks are)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise ValueError(f"{w}x{h} pixels is larger than the {MAX_PIXELS:,}-pixel limit")
        im.load()
        two_valued = count_levels(im) <= 2
        gray = im.mode in ("1", "L", "LA", "I", "I;16", "F")
        if im.mode in ("I", "I;16", "F"):
            # 16-bit / float grayscale: scale to 8 bit by the image's own range.
            arr = np.asarray(im, dtype=np.float64)
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
            im = Image.fromarray(arr.astype(np.uint8), mode="L")
        rgb = im.convert("RGB")
        if rgb.size != (image_size, image_size):
            # Area-averaging (BOX) keeps thin scratches visible when shrinking big images.
            resample = Image.Resampling.BOX if max(w, h) > image_size else Image.Resampling.BILINEAR
            rgb = rgb.resize((image_size, image_size), resample)
        return np.asarray(rgb, dtype=np.uint8), (w, h), gray, two_valued


def read_files(source, *, limits: ArchiveLimits = ArchiveLimits()) -> tuple[dict[str, bytes], list[str]]:
    """Files of a zip (path, bytes or uploaded file object) or of a folder, with skip notices."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return read_directory(path, limits=limits), []
        if not path.exists():
            raise DataValidationError(
                f"Expected a zip file or a folder of images; got '{source}', which does not exist. "
                "Check the path."
            )
        if path.stat().st_size > limits.max_archive_bytes:
            raise DataValidationError(
                f"The archive is {path.stat().st_size / 1024**2:,.1f} MB; the limit is "
                f"{limits.max_archive_bytes / 1024**2:,.1f} MB. Upload fewer or smaller images."
            )
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif hasattr(source, "getvalue"):
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read()
    else:
        raise DataValidationError(
            f"Expected a zip upload, a zip path or a folder; got {type(source).__name__}. "
            "Upload a .zip of class folders."
        )
    files, damaged = read_zip(data, limits=limits)
    notices = []
    if damaged:
        notices.append(f"{len(damaged)} damaged archive member(s) were skipped: {', '.join(damaged[:5])}.")
    return files, notices


def _skipped(paths, what: str) -> list[str]:
    """'3 file(s) <what>: a, b, c.' for the first five, or nothing."""
    paths = sorted(paths)
    if not paths:
        return []
    return [f"{len(paths)} file(s) {what}: {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''}."]


@dataclass
class _Decoded:
    """The images that decoded, one entry per image in every list."""

    pixels: list  # RGB uint8 arrays, S x S x 3
    names: list  # the paths that decoded, in order
    sizes: list  # original (width, height)
    gray: list  # stored grey, or colour with channels equal within JPEG noise
    stored_rgb: list  # stored as colour
    two_valued: list  # every pixel one of two values (masks are)
    notices: list

    @property
    def all_gray(self) -> bool:
        return all(self.gray)

    @property
    def gray_as_rgb(self) -> int:
        """Images stored as colour whose channels are equal within JPEG noise."""
        return sum(g and c for g, c in zip(self.gray, self.stored_rgb))

    def drop_binary(self, masks: MaskReport, keep: bool) -> None:
        """Two-valued images among photos that are not are masks (``core.quality.masks``): recorded
        in ``masks`` and, unless ``keep``, removed."""
        if not binary_minority(self.two_valued):
            self.notices += binary_kept_notice(sum(self.two_valued), len(self.two_valued))
            return
        for name, two in zip(self.names, self.two_valued):
            if two:
                masks.add(name, "binary")
        if not keep:
            at = [i for i, two in enumerate(self.two_valued) if not two]
            for key in ("pixels", "names", "sizes", "gray", "stored_rgb", "two_valued"):
                setattr(self, key, [getattr(self, key)[i] for i in at])


def _decode_all(files: dict[str, bytes], paths, image_size: int) -> _Decoded:
    """Decode ``paths`` of ``files``; damaged ones are skipped with a notice, none readable is an error."""
    out = _Decoded([], [], [], [], [], [], [])
    bad = []
    for path in paths:
        try:
            arr, size, gray, two = decode_with_levels(files[path], image_size=image_size)
        except Exception as exc:  # PIL raises many error types for broken files
            bad.append(f"{path} ({type(exc).__name__})")
            continue
        out.pixels.append(arr)
        out.names.append(path)
        out.sizes.append(size)
        out.gray.append(gray or is_near_gray(arr))
        out.stored_rgb.append(not gray)
        out.two_valued.append(two)
    out.notices = _skipped(bad, "could not be read as images and were skipped")
    if not out.pixels:
        raise DataValidationError(
            f"Expected readable images (PNG, JPEG, BMP, GIF, TIFF, WebP); got {len(bad)} file(s), none "
            "of which could be decoded. Check that the files are real images, not renamed documents."
        )
    return out


def load_image_dataset(source, *, options: LoadOptions = LoadOptions(),
                       class_names: tuple[str, ...] | None = None, what: str = "test images") -> ImageDataset:
    """Load a labelled image set from a zip (path / bytes / upload) or a folder.

    Damaged or non-image files are skipped with a notice; classes with fewer than
    ``options.min_per_class`` images are dropped with a notice while at least two classes
    remain.  ``class_names`` fixes the class list (a test set must use the training classes; ``what``
    names the images in the message when they do not).
    """
    size_choice = check_image_size(options.image_size)
    if options.color not in ("auto", "grayscale", "rgb"):
        raise DataValidationError(
            f"Colour mode must be 'auto', 'grayscale' or 'rgb'; got '{options.color}'. Pick one of those."
        )
    files, notices = read_files(source, limits=options.limits)
    from core.report.runsummary import source_sha256

    digest = source_sha256(source, files)  # the zip as uploaded, or the folder's files
    files, root = split_common_root(files)
    files, masks = leave_out_masks(files, keep=options.keep_masks)
    csv_names = sorted(p for p in files if PurePosixPath(p).suffix.lower() == ".csv")
    if csv_names:
        layout, (mapping, more) = "csv", labels_from_csv(files, csv_names)
    elif is_flat(files) and not _folders_name_classes(files, root, class_names):
        layout, (mapping, more) = "filenames", labels_from_filenames(files)
    else:
        layout, (mapping, more) = "folders", labels_from_folders(files, root)
    notices += more
    notices += _skipped([p for p in files if PurePosixPath(p).suffix.lower() not in IMAGE_EXTENSIONS | {".csv"}],
                        "are not images and were skipped")
    if not mapping:
        raise DataValidationError(
            "Expected images in one folder per class (e.g. ok/img1.png, scratch/img2.png), images "
            "named after their class (scratches_12.jpg) or images plus a labels CSV; got "
            f"{len(files) + len(masks.reasons)} file(s) and no labelled images{only_masks_text(masks)}. "
            "Put each class's images in a folder named after the class and zip the folders."
        )
    if len(mapping) > options.max_images:
        # Stratified cap: keep every class's share, keep the choice deterministic.
        rng = np.random.default_rng(0)
        keep = sorted(rng.choice(sorted(mapping), size=options.max_images, replace=False))
        notices.append(f"The upload has {len(mapping):,} images; the first {options.max_images:,} "
                       "(a random, reproducible subset) are used to keep memory within limits.")
        mapping = {p: mapping[p] for p in keep}
    if size_choice in ("auto", "native"):
        native = native_size(files, sorted(mapping))
        image_size = native if size_choice == "native" else choose_image_size(native, len(mapping))
        image_size = int(min(max(image_size, MIN_SIZE), MAX_SIZE))
        if size_choice == "auto":
            notices.append(f"Input size {image_size}×{image_size} chosen automatically for {len(mapping):,} "
                           f"images of {native}×{native} (keeps training within a few minutes on 2 CPU "
                           "cores); pick 64, 96, 128 or native to override.")
    else:
        image_size = size_choice
    decoded = _decode_all(files, sorted(mapping), image_size)
    decoded.drop_binary(masks, keep=options.keep_masks)
    notices += decoded.notices + describe_masks(masks.reasons, kept=options.keep_masks)
    pixels, names, sizes = decoded.pixels, decoded.names, Counter(decoded.sizes)
    labels = [mapping[p] for p in names]
    if len(sizes) > 1 or next(iter(sizes)) != (image_size, image_size):
        notices.append(f"Images came in {len(sizes)} size(s) (e.g. {'×'.join(map(str, sizes.most_common(1)[0][0]))}); "
                       f"all were resized to {image_size}×{image_size}.")
    use_gray = options.color == "grayscale" or (options.color == "auto" and decoded.all_gray)
    if use_gray and options.color == "auto" and decoded.gray_as_rgb:
        notices.append(f"{decoded.gray_as_rgb:,} image(s) are stored as colour (RGB) but their three channels "
                       "are equal within JPEG noise; all images were read as grayscale (one channel).")
    # Per image, so a large set never holds a float copy of every pixel at once.
    images = np.stack([_to_channels(a, 1) for a in pixels] if use_gray else pixels)
    counts = Counter(labels)
    if class_names is None:
        small = sorted(c for c, n in counts.items() if n < options.min_per_class)
        keep_classes = sorted(c for c in counts if c not in small)
        if len(keep_classes) < 2:
            raise DataValidationError(
                f"Training needs at least two classes with {options.min_per_class}+ images each; got "
                + ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
                + ". Add images to the small classes or merge them into a broader class."
            )
        if small:
            notices.append("Class(es) with fewer than "
                           f"{options.min_per_class} images were left out: "
                           + ", ".join(f"{c} ({counts[c]})" for c in small)
                           + ". Add images to train on them.")
        class_names = tuple(keep_classes)
    else:
        unknown = sorted(set(counts) - set(class_names))
        if unknown:
            raise DataValidationError(
                f"The {what} use class(es) the model was not trained on: {', '.join(unknown)}; "
                f"expected only {', '.join(class_names)}. Use the same folder names as the training set."
            )
    index = {c: i for i, c in enumerate(class_names)}
    keep = np.array([lab in index for lab in labels])
    return ImageDataset(
        images=images[keep],
        labels=np.array([index[lab] for lab in labels if lab in index], dtype=np.int64),
        class_names=tuple(class_names),
        names=tuple(n for n, k in zip(names, keep) if k),
        notices=tuple(notices),
        layout=layout,
        masks=() if options.keep_masks else masks.pairs(),
        source_sha256=digest,
    )


def _folders_name_classes(files, root, class_names) -> bool:
    """A test set in one folder named after a training class (``MT_Free/Imgs/exp1_num_2.jpg``) is
    labelled by that folder, whatever its file names look like."""
    if class_names is None:
        return False
    mapping = labels_from_folders(files, root)[0]
    return bool(mapping) and set(mapping.values()) <= set(class_names)


def split_indices(labels, *, test_size: float = 0.2, val_size: float = 0.15, seed: int = 0):
    """Stratified train / validation / test positions (every class in every split when possible)."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(len(labels))

    def _split(ix, frac):
        strat = labels[ix] if np.min(np.bincount(labels[ix])[np.unique(labels[ix])]) >= 2 else None
        try:
            return train_test_split(ix, test_size=frac, random_state=seed, stratify=strat)
        except ValueError:
            # Too few images for every class to appear in a small split: split without strata.
            return train_test_split(ix, test_size=frac, random_state=seed)

    rest, test = _split(idx, test_size) if test_size > 0 else (idx, idx[:0])
    train, val = _split(rest, val_size / (1 - test_size))
    return np.sort(train), np.sort(val), np.sort(test)


def load_single_image(source, *, image_size: int, channels: int) -> np.ndarray:
    """One uploaded image as a (1, S, S, C) uint8 batch matching a trained model's input."""
    data = source.getvalue() if hasattr(source, "getvalue") else source.read() if hasattr(source, "read") \
        else Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    try:
        arr, _, _ = decode_image(data, image_size=image_size)
    except Exception as exc:  # PIL raises many error types for broken files
        raise DataValidationError(
            f"Expected an image file (PNG, JPEG, BMP, GIF, TIFF, WebP); got a file that cannot be "
            f"decoded ({type(exc).__name__}: {str(exc)[:120]}). Upload the original image."
        ) from exc
    return _to_channels(arr, channels)[None]


def _to_channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """A decoded RGB image with the model's channel count (luma for grayscale models)."""
    if channels == 1:
        return np.round(arr @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None]
    return arr


def load_images_for_scoring(source, *, image_size: int, channels: int, class_names,
                            limits: ArchiveLimits = ArchiveLimits(), max_images: int = 5_000,
                            keep_masks: bool = False):
    """Images to score with a trained model, from a zip or folder, labelled or not.

    Images sorted into folders named after the training classes keep those labels (so the Score
    page can compare); any other layout is scored unlabelled. Damaged files and non-images are
    skipped with a notice, masks beside the photos are left out with one (unless ``keep_masks``).
    Returns ``(images N x S x S x C uint8, names, labels or None, notices)``.
    """
    files, notices = read_files(source, limits=limits)
    files, root = split_common_root(files)
    files, masks = leave_out_masks(files, keep=keep_masks)
    paths = sorted(p for p in files if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS)
    notices += _skipped([p for p in files if PurePosixPath(p).suffix.lower() not in IMAGE_EXTENSIONS],
                        "are not images and were skipped")
    if not paths:
        raise DataValidationError(
            f"Expected image files (PNG, JPEG, BMP, GIF, TIFF, WebP) in the upload; got "
            f"{len(files) + len(masks.reasons)} file(s) and no images{only_masks_text(masks)}. "
            "Zip the images to score (in class folders if you know their labels)."
        )
    if len(paths) > max_images:
        notices.append(f"The upload has {len(paths):,} images; the first {max_images:,} are scored to keep "
                       "memory within limits. Score the rest from the command line.")
        paths = paths[:max_images]
    classes = list(class_names)
    label_of = scoring_labels(paths, classes, root)
    labelled = label_of is not None
    decoded = _decode_all(files, paths, image_size)
    decoded.drop_binary(masks, keep=keep_masks)
    notices += decoded.notices + describe_masks(masks.reasons, kept=keep_masks)
    names = decoded.names
    pixels = [_to_channels(a, channels) for a in decoded.pixels]
    labels = [classes.index(label_of[p]) for p in names] if labelled else None
    return (np.stack(pixels).astype(np.uint8), tuple(names),
            None if labels is None else np.asarray(labels, dtype=int), notices)
