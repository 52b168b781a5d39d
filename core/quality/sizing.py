"""Input size and colour of an image set: the 'auto' / 'native' / pixel size choice, how the CNN
reads the images in training (whole, or as patches at full resolution; first convolution stride 1
or 2), and grey images stored as RGB (three channels equal within JPEG noise)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.errors import DataValidationError

# A grey image saved as RGB by a camera or converter differs between channels by JPEG noise only:
# a few levels at most, almost nowhere.  A real colour cast (rust, paint) goes beyond either bound.
GRAY_MAX_SPREAD = 6
GRAY_MEAN_SPREAD = 1.0
IMAGE_SIZES = ("auto", "native", 64, 96, 128)
MIN_SIZE, MAX_SIZE = 16, 256
# Training cost grows with the pixels the CNN reads per epoch.  This budget, 1,800 patches of
# 128x128, trains the NEU steel set (1,224 training images of 200 px read as 128-px patches) in
# about two minutes on 2 quiet CPU cores (bench/bench_quality.py --neu).
PIXEL_BUDGET = 1_800 * 128 * 128
PATCH_SIDES = (128, 96, 64)
# A patch covers at least this share of the image's side (128 of 200 pixels, 41 % of the area):
# on NEU, patches of 96 of 200 pixels lost six points of validation accuracy against 128.
MIN_COVER = 0.64
# The first convolution reads at stride 2 only where the layers after it still see 64 pixels.
MIN_STRIDED = 128


@dataclass(frozen=True)
class TrainingView:
    """How the CNN reads the training images: patches of ``patch`` pixels (the whole image when it
    equals the image size) and the stride of its first convolution."""

    patch: int
    stride: int
    image_size: int

    @property
    def whole(self) -> bool:
        return self.patch >= self.image_size

    def describe(self) -> str:
        """One sentence for the notices."""
        s = self.image_size
        if not self.whole:
            return (f"Trained on random {self.patch}×{self.patch} patches of the {s}×{s} images (full resolution, "
                    f"a new patch of every image each epoch); every image is scored whole.")
        if self.stride == 2:
            return (f"The first convolution reads every pixel of the {s}×{s} images at stride 2, so the layers after "
                    f"it work at {s // 2}×{s // 2} and training stays within the time budget.")
        return f"Trained on the whole {s}×{s} images."


def choose_training_view(image_size: int, n_images: int, *, task: str, patch: int | None = None) -> TrainingView:
    """How the CNN reads ``n_images`` training images of ``image_size`` pixels, within ``PIXEL_BUDGET``:

    1. whole images when they fit the budget;
    2. for defect typing (the class is the texture of the whole surface), random patches at full
       resolution: the largest of 128 / 96 / 64 within the budget that covers ``MIN_COVER`` of the side;
    3. otherwise whole images with a first convolution of stride 2 (images of ``MIN_STRIDED`` pixels or
       more): inspection is never trained on patches, since a patch may leave out the one small defect
       that makes an image a reject and would then teach 'defect' on a clean surface.

    ``patch`` (pixels) forces the patch side instead (the whole image when it is not smaller)."""
    size, n = int(image_size), max(int(n_images), 1)
    if patch is not None:
        return TrainingView(min(int(patch), size), 1, size)
    if n * size * size <= PIXEL_BUDGET:
        return TrainingView(size, 1, size)
    if task == "defect_typing":
        for side in PATCH_SIDES:
            if side < size and side >= MIN_COVER * size and n * side * side <= PIXEL_BUDGET:
                return TrainingView(side, 1, size)
    return TrainingView(size, 2 if size >= MIN_STRIDED else 1, size)


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
    """The 'auto' input size: the largest of native (up to 256) / 128 / 96 / 64 that the CNN can read
    within the pixel budget in its cheapest way (whole images at stride 2, ``choose_training_view``),
    never larger than the images themselves and never below 16.  Fine texture is kept: the NEU steel set
    (1,800 images of 200 px) is read at 200 px, where the old rule shrank it to 64."""
    native = int(min(max(native, MIN_SIZE), MAX_SIZE))
    for size in sorted({native, 128, 96, 64}, reverse=True):
        if size <= native and n_images * (size / 2) ** 2 <= PIXEL_BUDGET:
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
