"""Input size and colour of an image set: the 'auto' / 'native' / pixel size choice, and grey
images stored as RGB (three channels equal within JPEG noise)."""

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
# Training cost grows with images x pixels.  This budget (1,800 images of 64x64 per epoch, x 1.5)
# keeps a from-scratch run of 60 epochs within a few minutes on 2 busy CPU cores
# (bench/bench_quality.py --neu-like; 1,800 images at 96 px took over 5 minutes there).
AUTO_PIXEL_BUDGET = int(1.5 * 1_800 * 64 * 64)


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
    """The 'auto' input size: the largest of native / 128 / 96 / 64 whose pixels per epoch fit the
    budget (never larger than the images themselves, never below 16)."""
    native = int(min(max(native, MIN_SIZE), MAX_SIZE))
    for size in sorted({native, 128, 96, 64}, reverse=True):
        if size <= native and n_images * size * size <= AUTO_PIXEL_BUDGET:
            return size
    return min(native, 64)


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
