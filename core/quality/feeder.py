"""The CNN's training images, fed to Keras batch by batch with the eight symmetries of a square.

A surface has no canonical orientation, so the flips and quarter turns of an image are
label-preserving, and they are exact: unlike a rotation by any angle, they interpolate nothing and
so never blur the fine texture that tells crazing from pitted surface.  The feeder draws them with
NumPy per batch (cheaper than augmentation layers inside the model, and the saved model holds none)
and reads the images by position, so over-sampled images are repeated without a copy of the set.
"""

from __future__ import annotations

import numpy as np


def dihedral(image: np.ndarray, k: int) -> np.ndarray:
    """One of the eight symmetries of a square (k = 0..7) of an (S, S, C) image: bit 0 flips
    left-right, bit 1 up-down, bit 2 swaps rows and columns."""
    if k & 1:
        image = image[:, ::-1]
    if k & 2:
        image = image[::-1]
    if k & 4:
        image = image.transpose(1, 0, 2)
    return image


def augment_batch(images: np.ndarray, idx, rng: np.random.Generator, *, augment: bool = True) -> np.ndarray:
    """``images[idx]`` (uint8, n x S x S x C), each flipped or turned at random when ``augment``."""
    idx = np.asarray(idx, dtype=int)
    if not augment:
        return np.asarray(images[idx])
    turns = rng.integers(0, 8, len(idx))
    out = np.empty((len(idx), *images.shape[1:]), dtype=images.dtype)
    for j, i in enumerate(idx):
        out[j] = dihedral(images[i], int(turns[j]))
    return out


def make_feeder(images: np.ndarray, idx, labels, *, batch_size: int, seed: int, augment: bool = True):
    """A ``keras.utils.PyDataset`` of (images, labels) batches over ``images[idx]``: a new order
    and new symmetries every epoch, drawn from ``seed``, the epoch and the batch number (so a run is
    the same whatever order Keras asks for the batches in)."""
    import keras

    idx = np.asarray(idx, dtype=int)
    labels = np.asarray(labels)

    class ImageFeeder(keras.utils.PyDataset):
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
            return augment_batch(images, idx[pos], rng, augment=augment), labels[pos]

    return ImageFeeder()
