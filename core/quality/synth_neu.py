"""Deterministic NEU-like steel-surface images: six texture-defect classes, no 'good part' class.

The NEU surface-defect set (hot-rolled steel strip; 300 grey 200x200 images per class) is what
analysts bring for multi-class defect typing.  This generator makes look-alikes for tests and the
benchmark, where the real set is not available:

* ``crazing``          a fine network of short, branching hairline cracks over the whole surface;
* ``inclusion``        a few dark, elongated spots with ragged edges, aligned with the rolling direction;
* ``patches``          large blotchy regions, darker or brighter than the rest, with soft edges;
* ``pitted_surface``   many small round pits, scattered or in clusters;
* ``rolled-in_scale``  many small flakes (mixed dark and bright), elongated along the rolling
                       direction, often in bands;
* ``scratches``        one to four long thin lines, nearly parallel, bright or dark.

Every image shares the same nuisance factors, so no class can be told by its brightness alone:
a random grey level, a linear illumination gradient in a random direction, low-frequency shading,
a rolling grain along a random direction, and sensor noise of random strength.  Defect contrast,
size, count and orientation are drawn per image and some defects are faint, so the set is
learnable but not trivially so (logistic regression on thumbnails or on pixel statistics stays
well below a small CNN; see bench/bench_quality.py --neu-like).

Images are 200x200 grey, written as RGB JPEG (quality 90) the way the NEU set is often
redistributed, in one flat folder with the class in the file name (``crazing_12.jpg``,
``rolled-in_scale_7.jpg``).  Each image comes from its own child generator
``default_rng([seed, class index, image index])``, so an image does not change when the number
of images per class does.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from core.quality.synth import _smooth_field

NEU_CLASSES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
NEU_SIZE = 200


def _add_patch(img: np.ndarray, y0: int, x0: int, patch: np.ndarray) -> None:
    """img[y0:, x0:] += patch, clipped at the image border (in place)."""
    h, w = patch.shape
    H, W = img.shape
    ya, xa = max(y0, 0), max(x0, 0)
    yb, xb = min(y0 + h, H), min(x0 + w, W)
    if ya < yb and xa < xb:
        img[ya:yb, xa:xb] += patch[ya - y0:yb - y0, xa - x0:xb - x0]


def _line(img: np.ndarray, p0, p1, width: float, contrast: float) -> None:
    """Anti-aliased segment p0-p1 (y, x), drawn only in its bounding box (in place)."""
    (y0, x0), (y1, x1) = p0, p1
    m = width / 2 + 2
    top, left = int(np.floor(min(y0, y1) - m)), int(np.floor(min(x0, x1) - m))
    bottom, right = int(np.ceil(max(y0, y1) + m)), int(np.ceil(max(x0, x1) + m))
    yy, xx = np.mgrid[top:bottom, left:right].astype(np.float64)
    dy, dx = y1 - y0, x1 - x0
    t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0.0, 1.0)
    dist = np.hypot(yy - (y0 + t * dy), xx - (x0 + t * dx))
    _add_patch(img, top, left, contrast * np.clip(width / 2 + 0.5 - dist, 0.0, 1.0))


def _blob(img: np.ndarray, cy: float, cx: float, length: float, width: float, angle: float,
          contrast: float, rng: np.random.Generator, ragged: float = 0.0) -> None:
    """Soft elliptical spot (Gaussian profile), optionally with a ragged edge (in place)."""
    r = int(np.ceil(max(length, width) * 1.6)) + 2
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    yy -= cy - np.floor(cy)
    xx -= cx - np.floor(cx)
    c, s = np.cos(angle), np.sin(angle)
    u, v = xx * c + yy * s, -xx * s + yy * c
    d2 = (u / max(length / 2, 0.5)) ** 2 + (v / max(width / 2, 0.5)) ** 2
    if ragged:
        d2 = d2 * (1 + ragged * rng.normal(0, 1, d2.shape))
    _add_patch(img, int(np.floor(cy)) - r, int(np.floor(cx)) - r, contrast * np.exp(-1.5 * np.clip(d2, 0, None)))


def _background(rng: np.random.Generator, size: int) -> tuple[np.ndarray, float]:
    """Steel surface without a defect, and its rolling direction (radians)."""
    base = rng.uniform(0.3, 0.65)
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    g = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(g) * xx + np.sin(g) * yy) * rng.uniform(0.0, 0.25)
    shading = _smooth_field(rng, size, cells=int(rng.integers(2, 6))) * rng.uniform(0.01, 0.05)
    # Rolling grain: noise smoothed along one direction (drawn along x, then rotated by a
    # transpose / flip, which keeps the cost at one 1-D convolution per row).
    k = int(rng.integers(9, 31))
    rows = rng.normal(0, 1, (size, size + k - 1))
    grain = np.apply_along_axis(lambda r: np.convolve(r, np.ones(k) / np.sqrt(k), mode="valid"), 1, rows)
    grain *= rng.uniform(0.005, 0.02)
    angle = 0.0
    if rng.random() < 0.5:
        grain, angle = grain.T, np.pi / 2
    noise = rng.normal(0, rng.uniform(0.008, 0.03), (size, size))
    return base + gradient + shading + grain + noise, angle + rng.normal(0, 0.05)


def _crazing(img, rng, angle):
    size = img.shape[0]
    contrast = -rng.uniform(0.04, 0.14)
    for _ in range(int(rng.integers(25, 70))):
        y, x = rng.uniform(0, size, 2)
        heading = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(2, 6))):
            heading += rng.normal(0, 0.7)
            step = rng.uniform(4, 10)
            ny, nx = y + np.sin(heading) * step, x + np.cos(heading) * step
            _line(img, (y, x), (ny, nx), rng.uniform(0.7, 1.3), contrast * rng.uniform(0.6, 1.0))
            y, x = ny, nx


def _inclusion(img, rng, angle):
    size = img.shape[0]
    for _ in range(int(rng.integers(1, 6))):
        cy, cx = rng.uniform(0.1, 0.9, 2) * size
        length = rng.uniform(8, 45)
        _blob(img, cy, cx, length, rng.uniform(2, 6), angle + rng.normal(0, 0.2),
              -rng.uniform(0.08, 0.3), rng, ragged=0.25)


def _patches(img, rng, angle):
    size = img.shape[0]
    field = _smooth_field(rng, size, cells=int(rng.integers(3, 8)))
    cut = np.quantile(field, rng.uniform(0.45, 0.8))
    soft = rng.uniform(0.05, 0.3)
    mask = 1 / (1 + np.exp(-(field - cut) / soft))
    mottle = 1 + 0.3 * _smooth_field(rng, size, cells=int(rng.integers(10, 20)))
    img += rng.choice([-1.0, 1.0], p=[0.7, 0.3]) * rng.uniform(0.06, 0.25) * mask * mottle


def _pitted(img, rng, angle):
    size = img.shape[0]
    n = int(rng.integers(15, 80))
    if rng.random() < 0.5:
        centres = rng.uniform(0.15, 0.85, (int(rng.integers(1, 4)), 2)) * size
        pts = centres[rng.integers(0, len(centres), n)] + rng.normal(0, rng.uniform(8, 30), (n, 2))
    else:
        pts = rng.uniform(0, size, (n, 2))
    for cy, cx in pts:
        r = rng.uniform(1.0, 3.5)
        _blob(img, cy, cx, r * 2, r * 2 * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi),
              -rng.uniform(0.08, 0.3), rng)


def _rolled_in_scale(img, rng, angle):
    size = img.shape[0]
    n = int(rng.integers(20, 70))
    # Scale is pressed in along the rolling direction, often in bands across the strip.
    band_c, band_w = rng.uniform(0.2, 0.8) * size, rng.uniform(0.15, 0.6) * size
    c, s = np.cos(angle), np.sin(angle)
    for _ in range(n):
        along, across = rng.uniform(-0.7, 0.7) * size, band_c - size / 2 + rng.normal(0, band_w / 2)
        cy, cx = size / 2 + along * s + across * c, size / 2 + along * c - across * s
        _blob(img, cy, cx, rng.uniform(4, 14), rng.uniform(1.5, 5), angle + rng.normal(0, 0.25),
              rng.choice([-1.0, 1.0], p=[0.65, 0.35]) * rng.uniform(0.06, 0.22), rng, ragged=0.4)


def _scratches(img, rng, angle):
    size = img.shape[0]
    direction = rng.uniform(0, np.pi)
    sign = rng.choice([-1.0, 1.0])
    for _ in range(int(rng.integers(1, 5))):
        a = direction + rng.normal(0, 0.08)
        length = rng.uniform(0.4, 1.1) * size
        cy, cx = rng.uniform(0.15, 0.85, 2) * size
        dy, dx = np.sin(a) * length / 2, np.cos(a) * length / 2
        bend = rng.normal(0, 2.0, 2)
        pts = [(cy - dy, cx - dx), (cy + bend[0], cx + bend[1]), (cy + dy, cx + dx)]
        width, contrast = rng.uniform(0.8, 2.5), sign * rng.uniform(0.06, 0.3)
        for p0, p1 in zip(pts[:-1], pts[1:]):
            _line(img, p0, p1, width, contrast)


_DRAW = {"crazing": _crazing, "inclusion": _inclusion, "patches": _patches, "pitted_surface": _pitted,
         "rolled-in_scale": _rolled_in_scale, "scratches": _scratches}


def make_neu_like_image(label: str, rng: np.random.Generator, size: int = NEU_SIZE) -> np.ndarray:
    """One grey uint8 image (size x size) of class ``label`` (one of ``NEU_CLASSES``)."""
    if label not in _DRAW:
        raise ValueError(f"Unknown NEU-like class '{label}'; expected one of {', '.join(NEU_CLASSES)}.")
    img, angle = _background(rng, size)
    _DRAW[label](img, rng, angle)
    return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)


def generate_neu_like(*, per_class: int = 300, size: int = NEU_SIZE, seed: int = 0,
                      classes=NEU_CLASSES) -> Iterator[tuple[str, str, np.ndarray]]:
    """(file name, class, grey uint8 image) for ``per_class`` images of each class, in a fixed order."""
    for ci, label in enumerate(NEU_CLASSES):
        if label not in classes:
            continue
        for i in range(per_class):
            rng = np.random.default_rng([seed, ci, i])
            yield f"{label}_{i + 1}.jpg", label, make_neu_like_image(label, rng, size)


def jpeg_rgb_bytes(gray: np.ndarray, quality: int = 90) -> bytes:
    """A grey image saved as an RGB JPEG (three equal channels, then JPEG noise)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(gray, mode="L").convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def neu_like_files(*, per_class: int = 300, size: int = NEU_SIZE, seed: int = 0, classes=NEU_CLASSES,
                   quality: int = 90) -> dict[str, bytes]:
    """``{file name: RGB JPEG bytes}``, flat, the class in each file name."""
    return {name: jpeg_rgb_bytes(img, quality)
            for name, _, img in generate_neu_like(per_class=per_class, size=size, seed=seed, classes=classes)}


def write_neu_like(dest, *, per_class: int = 300, size: int = NEU_SIZE, seed: int = 0, classes=NEU_CLASSES,
                   folder: str = "NEU-like") -> Path:
    """Write the set as ``dest`` (a ``.zip`` path: one flat folder inside; otherwise a flat folder)."""
    dest = Path(dest)
    files = neu_like_files(per_class=per_class, size=size, seed=seed, classes=classes)
    if dest.suffix.lower() == ".zip":
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
            for name, data in files.items():
                zf.writestr(f"{folder}/{name}", data)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (dest / name).write_bytes(data)
    return dest
