"""Training the CNN at the images' own resolution: random patches, fed to Keras batch by batch.

Shrinking a 200-pixel steel texture to 64 pixels throws away what tells crazing from pitted surface
and rolled-in scale. The CNN is fully convolutional (it ends in global pooling), so it can learn on
random square patches cut from the full-resolution images and then score every image whole: each
epoch sees another patch of every image, and the pixels per step stay those of a small image. Every
patch also gets one of the eight flips and quarter turns of a square, which are exact for a surface
(no interpolation blurs its fine texture, unlike a rotation by any angle).

``choose_patch_size`` is the rule for the patch side; ``random_patches`` cuts a batch (NumPy only);
``make_feeder`` wraps them in a ``keras.utils.PyDataset`` (Keras imported when it is called).
"""

from __future__ import annotations

import numpy as np

from core.errors import DataValidationError

PATCH_SIDES = (128, 96, 64)
# Training pixels per epoch the patch rule aims at: 1,800 patches of 128x128 (the NEU steel set, on
# which 60 epochs take a few minutes on 2 CPU cores; bench/bench_quality.py --neu).
PATCH_BUDGET = 1_800 * 128 * 128
# A patch covers at least this share of the image's side (128 of 200 pixels, 41 % of the area):
# patches of 96 of 200 pixels lost seven points of validation accuracy on NEU.
MIN_COVER = 0.64


def choose_patch_size(image_size: int, n_images: int, *, task: str) -> int:
    """The side of the training patches for ``n_images`` images of ``image_size`` pixels: the whole
    image when it fits the budget, and always for inspection (a patch may leave out the one small
    defect that makes an image a reject, and would then teach 'defect' on a clean surface); for
    defect typing, where the class is the texture of the whole surface, the largest of 128 / 96 / 64
    within the budget that still covers ``MIN_COVER`` of each side."""
    size, n = int(image_size), max(int(n_images), 1)
    if task != "defect_typing" or n * size * size <= PATCH_BUDGET:
        return size
    for side in PATCH_SIDES:
        if side < size and n * side * side <= PATCH_BUDGET and side >= MIN_COVER * size:
            return side
    return size


def dihedral(patch: np.ndarray, k: int) -> np.ndarray:
    """One of the eight symmetries of a square (k = 0..7): bit 0 flips left-right, bit 1 up-down,
    bit 2 swaps rows and columns."""
    if k & 1:
        patch = patch[:, ::-1]
    if k & 2:
        patch = patch[::-1]
    if k & 4:
        patch = patch.transpose(1, 0, 2)
    return patch


def random_patches(images: np.ndarray, idx, size: int, rng: np.random.Generator, *,
                   augment: bool = True) -> np.ndarray:
    """``images[idx]`` as random ``size`` x ``size`` patches (uint8, n x size x size x C), each
    flipped or turned at random when ``augment``."""
    images = np.asarray(images)
    idx = np.asarray(idx, dtype=int)
    side = images.shape[1]
    if not 1 <= size <= side:
        raise DataValidationError(f"A training patch must be 1 to {side} pixels for images of {side} pixels; "
                                  f"got {size}. Use a patch no larger than the images.")
    top = rng.integers(0, side - size + 1, len(idx))
    left = rng.integers(0, side - size + 1, len(idx))
    turn = rng.integers(0, 8, len(idx)) if augment else np.zeros(len(idx), dtype=int)
    out = np.empty((len(idx), size, size, images.shape[-1]), dtype=images.dtype)
    for j, i in enumerate(idx):
        out[j] = dihedral(images[i, top[j]:top[j] + size, left[j]:left[j] + size], int(turn[j]))
    return out


def make_feeder(images: np.ndarray, idx, labels, *, patch: int, batch_size: int, seed: int,
                augment: bool = True):
    """A ``keras.utils.PyDataset`` of (patches, labels) batches over ``images[idx]``: a new order
    and new patches every epoch, drawn from ``seed``, the epoch and the batch number (so a run is
    the same whatever order Keras asks for the batches in)."""
    import keras

    idx = np.asarray(idx, dtype=int)
    labels = np.asarray(labels)

    class PatchFeeder(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.epoch = 0
            self.order = np.random.default_rng([seed, 0]).permutation(len(idx))

        def __len__(self):
            return int(np.ceil(len(idx) / batch_size))

        def on_epoch_end(self):
            self.epoch += 1
            self.order = np.random.default_rng([seed, self.epoch]).permutation(len(idx))

        def __getitem__(self, i):
            pos = self.order[i * batch_size:(i + 1) * batch_size]
            rng = np.random.default_rng([seed, self.epoch, int(i), 1])
            return random_patches(images, idx[pos], patch, rng, augment=augment), labels[pos]

    return PatchFeeder()
