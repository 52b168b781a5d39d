"""Deterministic look-alikes of an inspection catalogue with a good class and heavy imbalance.

Magnetic-tile style inspection sets hold mostly good parts and a few of each defect, each defect
small on a textured surface, in images of several sizes.  This generator makes such a set for
tests and the benchmark (it checks the code path: class weights, balanced early stopping, the
reject decision; no quality figure is claimed on it):

* ``good``      ground tile surface only: grinding marks, shading, a few faint dust specks;
* ``blowhole``  one to three small round holes (dark, with a bright rim), 2-6 px radius;
* ``break``     a chipped corner or edge: a dark wedge cut from the border;
* ``crack``     one thin dark irregular line, 20-70 px long;
* ``fray``      a ragged band along one edge;
* ``uneven``    a low, wide bump or dent of the surface (broad shading stronger than the tile's own).

The default counts follow the magnetic-tile catalogue: 952 good images against 32 of the rarest
defect (about 30 to 1), 1,344 in all.  Images are grey JPEGs of 192 to 256 pixels a side (not
always square) in one folder per class.  Each image comes from its own generator
``default_rng([seed, class index, image index])``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import numpy as np

from core.quality.synth import _smooth_field
from core.quality.synth_neu import _blob, _line

TILE_CLASSES = ("good", "blowhole", "break", "crack", "fray", "uneven")
TILE_COUNTS = {"good": 952, "blowhole": 115, "break": 85, "crack": 57, "fray": 32, "uneven": 103}
SIDES = (192, 224, 256)


def _surface(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A ground tile: grey level, illumination gradient, shading, grinding arcs, dust and noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    g = rng.uniform(0, 2 * np.pi)
    img = rng.uniform(0.35, 0.6) + ((np.cos(g) * xx / w + np.sin(g) * yy / h) - 0.5) * rng.uniform(0, 0.15)
    side = max(h, w)
    img += _smooth_field(rng, side, cells=int(rng.integers(2, 5)))[:h, :w] * rng.uniform(0.01, 0.03)
    # Grinding marks: concentric arcs around a centre far outside the tile, with a noisy phase.
    cy, cx = rng.uniform(-3, 4, 2) * side
    radius = np.hypot(yy - cy, xx - cx)
    period = rng.uniform(2.5, 6.0)
    img += np.sin(2 * np.pi * radius / period + rng.normal(0, 0.6, (h, w))) * rng.uniform(0.008, 0.025)
    for _ in range(int(rng.integers(0, 4))):  # dust: tiny faint specks a good part may carry
        _blob(img, rng.uniform(0, h), rng.uniform(0, w), 1.5, 1.5, 0.0, rng.uniform(0.03, 0.07), rng)
    return img + rng.normal(0, rng.uniform(0.006, 0.02), (h, w))


def _blowhole(img, rng):
    h, w = img.shape
    for _ in range(int(rng.integers(1, 4))):
        cy, cx, r = rng.uniform(0.15, 0.85) * h, rng.uniform(0.15, 0.85) * w, rng.uniform(2, 6)
        _blob(img, cy, cx, 2.8 * r, 2.8 * r, 0.0, rng.uniform(0.05, 0.1), rng)  # bright rim
        _blob(img, cy, cx, 2 * r, 2 * r * rng.uniform(0.75, 1.0), rng.uniform(0, np.pi), -rng.uniform(0.15, 0.35), rng)


def _break(img, rng):
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    # A straight cut across a corner, with a ragged edge: the chipped-off part shows the dark backdrop.
    corner_y, corner_x = rng.choice([0, h]), rng.choice([0, w])
    depth = rng.uniform(0.08, 0.2) * min(h, w)
    d = (np.abs(yy - corner_y) + np.abs(xx - corner_x)) + rng.normal(0, 1.5, (h, w))
    inside = 1 / (1 + np.exp((d - depth) / 1.2))
    img[:] = img * (1 - inside) + inside * rng.uniform(0.02, 0.12)


def _crack(img, rng):
    h, w = img.shape
    y, x = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    heading, contrast = rng.uniform(0, 2 * np.pi), -rng.uniform(0.12, 0.3)
    for _ in range(int(rng.integers(3, 8))):
        heading += rng.normal(0, 0.5)
        step = rng.uniform(5, 10)
        ny, nx = y + np.sin(heading) * step, x + np.cos(heading) * step
        _line(img, (y, x), (ny, nx), rng.uniform(0.8, 1.6), contrast)
        y, x = ny, nx


def _fray(img, rng):
    h, w = img.shape
    width = rng.uniform(4, 12)
    edge = int(rng.integers(0, 4))
    length = h if edge in (0, 1) else w
    profile = width * (1 + 0.5 * np.convolve(rng.normal(0, 1, length + 6), np.ones(7) / 3, mode="valid")[:length])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dist = {0: xx, 1: w - 1 - xx, 2: yy, 3: h - 1 - yy}[edge]
    along = (yy if edge in (0, 1) else xx).astype(int)
    band = 1 / (1 + np.exp((dist - profile[along]) / 1.0))
    img += band * rng.choice([-1.0, 1.0], p=[0.7, 0.3]) * rng.uniform(0.12, 0.25) * (1 + rng.normal(0, 0.3, (h, w)))


def _uneven(img, rng):
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    sy, sx = rng.uniform(0.12, 0.3) * h, rng.uniform(0.12, 0.3) * w
    img += rng.choice([-1.0, 1.0]) * rng.uniform(0.06, 0.14) * np.exp(-((yy - cy) / sy) ** 2 - ((xx - cx) / sx) ** 2)


_DRAW = {"good": lambda img, rng: None, "blowhole": _blowhole, "break": _break, "crack": _crack, "fray": _fray,
         "uneven": _uneven}


def make_tile_image(label: str, rng: np.random.Generator) -> np.ndarray:
    """One grey uint8 image of class ``label`` (one of ``TILE_CLASSES``), 192-256 px a side."""
    if label not in _DRAW:
        raise ValueError(f"Unknown tile class '{label}'; expected one of {', '.join(TILE_CLASSES)}.")
    h, w = (int(v) for v in rng.choice(SIDES, 2))
    img = _surface(rng, h, w)
    _DRAW[label](img, rng)
    return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)


def generate_tiles(*, counts: dict[str, int] | None = None, seed: int = 0) -> Iterator[tuple[str, str, np.ndarray]]:
    """(path ``<class>/<class>_<n>.jpg``, class, grey uint8 image), in a fixed order."""
    counts = TILE_COUNTS if counts is None else counts
    for ci, label in enumerate(TILE_CLASSES):
        for i in range(int(counts.get(label, 0))):
            yield f"{label}/{label}_{i + 1}.jpg", label, make_tile_image(label, np.random.default_rng([seed, ci, i]))


def tile_files(*, counts: dict[str, int] | None = None, seed: int = 0, quality: int = 92) -> dict[str, bytes]:
    """``{path: grey JPEG bytes}`` in one folder per class."""
    from PIL import Image

    out = {}
    for path, _, img in generate_tiles(counts=counts, seed=seed):
        buf = io.BytesIO()
        Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=quality)
        out[path] = buf.getvalue()
    return out


def write_tiles(dest, *, counts: dict[str, int] | None = None, seed: int = 0) -> Path:
    """Write the set into the folder ``dest`` (one sub-folder per class)."""
    dest = Path(dest)
    for path, data in tile_files(counts=counts, seed=seed).items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_bytes(data)
    return dest
