"""Input size and colour of an image set: the 'auto' / 'native' / pixel size choice, the stride of
the CNN's first convolution, and grey images stored as RGB (three channels equal within JPEG noise)."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np

from core.errors import DataValidationError

# A grey image saved as RGB by a camera or converter differs between channels by JPEG noise only:
# a few levels at most, almost nowhere.  A real colour cast (rust, paint) goes beyond either bound.
GRAY_MAX_SPREAD = 6
GRAY_MEAN_SPREAD = 1.0
IMAGE_SIZES = ("auto", "native", 64, 96, 128)
MIN_SIZE, MAX_SIZE = 16, 256
# Training cost grows with the pixels the CNN's layers work on per epoch.  This budget (1,800 images
# of 128 px) keeps 60 epochs within a few minutes on 2 CPU cores; NEU's 1,224 training images of
# 200 px read at stride 2 use 12 million of its 29 (bench/bench_quality.py).
PIXEL_BUDGET = 1_800 * 128 * 128
# The first convolution reads at stride 2 only where the layers after it still see 64 pixels.
MIN_STRIDED = 128


def choose_stem_stride(image_size: int, n_images: int) -> int:
    """The stride of the CNN's first convolution for ``n_images`` training images of ``image_size``
    pixels: 1 when their pixels fit ``PIXEL_BUDGET``; otherwise 2 (images of ``MIN_STRIDED`` pixels
    or more), so the first convolution reads every pixel and the layers after it work at half the
    side.  On NEU (200 px; validation images cut from the training split, three seeds) this reached
    99.0 % against 98.5 % for random 128-px patches at full resolution, with 40 % less CPU per epoch."""
    size = int(image_size)
    if int(n_images) * size * size <= PIXEL_BUDGET or size < MIN_STRIDED:
        return 1
    return 2


def stride_notice(image_size: int) -> str:
    """What the stride-2 first convolution means, for the run's notices."""
    s = int(image_size)
    return (f"The first convolution reads every pixel of the {s}×{s} images at stride 2, so the layers after it "
            f"work at {s // 2}×{s // 2} and training stays within a few minutes.")


def _cost(size: int, n_images: int) -> int:
    """Pixels per epoch the CNN's layers work on for images of ``size`` (after the first convolution)."""
    side = size // 2 if size >= MIN_STRIDED else size
    return int(n_images) * side * side


def check_image_size(image_size) -> int | str:
    """``image_size`` as the loader takes it (an int of 16-256 pixels, "auto" or "native"), or an error."""
    if isinstance(image_size, str) and image_size.strip().lower() in ("auto", "native"):
        return image_size.strip().lower()
    try:
        size = int(image_size)
        ok = float(image_size) == size and MIN_SIZE <= size <= MAX_SIZE
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataValidationError(
            f"Image size must be 'auto', 'native' or a number of pixels between {MIN_SIZE} and {MAX_SIZE}; "
            f"got {image_size!r}. Use 'auto' (fits the time budget), 64 for small crops or 128 for fine texture."
        )
    return size


def choose_image_size(native: int, n_images: int) -> int:
    """The 'auto' input size: the largest of native (up to 256) / 128 / 96 / 64 whose training fits
    the pixel budget, counting the stride-2 first convolution large images get
    (``choose_stem_stride``); when none fits, 128 (at stride 2 it costs what 64 costs at stride 1,
    and its first convolution sees four times the pixels).  Never larger than the images themselves,
    never below 16.  Fine texture is kept: the NEU steel set (1,800 images of 200 px) is read at
    200 px, where the old rule, which shrank every image to the budget, chose 64."""
    native = int(min(max(native, MIN_SIZE), MAX_SIZE))
    for size in sorted({native, 128, 96, 64}, reverse=True):
        if size <= native and _cost(size, n_images) <= PIXEL_BUDGET:
            return size
    return min(native, 128 if native >= 128 else 64)


def native_size(files: dict[str, bytes], paths) -> int:
    """The most common side length (the longer side) among the images, read from headers only."""
    from PIL import Image

    sides = Counter()
    for p in paths:
        try:
            with Image.open(io.BytesIO(files[p])) as im:
                sides[max(im.size)] += 1
        except Exception:  # unreadable files are reported by the decoder later
            continue
    return sides.most_common(1)[0][0] if sides else 64


def is_near_gray(rgb: np.ndarray) -> bool:
    """Three channels equal within JPEG noise (see GRAY_MAX_SPREAD / GRAY_MEAN_SPREAD)."""
    arr = np.asarray(rgb, dtype=np.int16)
    spread = arr.max(axis=-1) - arr.min(axis=-1)
    return bool(spread.max() <= GRAY_MAX_SPREAD and spread.mean() <= GRAY_MEAN_SPREAD)
