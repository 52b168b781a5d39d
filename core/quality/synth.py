"""Deterministic synthetic surface images for the quality-inspection sample.

Each image is a textured metal-like surface (low-frequency shading, a brushed
grain and sensor noise).  Defect images carry one of three defect types drawn
with varying size, contrast and position, so the task is learnable but not
trivial: faint, short defects are genuinely hard to spot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_CLASSES = ("ok", "scratch", "pit", "crack")
# About 13 % defects in total, split between the three defect types.
SAMPLE_COUNTS = {"ok": 870, "scratch": 45, "pit": 45, "crack": 40}


@dataclass(frozen=True)
class SyntheticImage:
    """One generated image (float32 in [0, 1], shape (size, size)) and its class."""

    pixels: np.ndarray
    label: str


def _smooth_field(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Random field on a coarse grid, bilinearly upsampled (cheap low-frequency shading)."""
    grid = rng.normal(0.0, 1.0, (cells + 1, cells + 1))
    coords = np.linspace(0, cells, size)
    i0 = np.clip(np.floor(coords).astype(int), 0, cells - 1)
    f = coords - i0
    rows = grid[i0] * (1 - f)[:, None] + grid[i0 + 1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]


def make_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A defect-free surface: base grey level, shading, brushed grain and noise."""
    base = rng.uniform(0.35, 0.65)
    shading = _smooth_field(rng, size, cells=int(rng.integers(2, 5))) * rng.uniform(0.02, 0.06)
    # Brushed grain: 1-D noise along one axis, smoothed, repeated along the other axis.
    grain_1d = np.convolve(rng.normal(0, 1, size + 4), np.ones(5) / 5, mode="valid")[:size]
    grain = np.tile(grain_1d, (size, 1)) * rng.uniform(0.01, 0.035)
    if rng.random() < 0.5:
        grain = grain.T
    noise = rng.normal(0.0, rng.uniform(0.01, 0.035), (size, size))
    return base + shading + grain + noise


def _segment_distance(yy: np.ndarray, xx: np.ndarray, p0, p1) -> np.ndarray:
    """Distance of every pixel centre to the segment p0-p1 (anti-aliased drawing)."""
    (y0, x0), (y1, x1) = p0, p1
    dy, dx = y1 - y0, x1 - x0
    length2 = max(dy * dy + dx * dx, 1e-9)
    t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / length2, 0.0, 1.0)
    return np.hypot(yy - (y0 + t * dy), xx - (x0 + t * dx))


def _draw_polyline(img, points, width, contrast):
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dist = np.full(img.shape, np.inf)
    for p0, p1 in zip(points[:-1], points[1:]):
        dist = np.minimum(dist, _segment_distance(yy, xx, p0, p1))
    # Soft edge of one pixel, so thin lines stay visible after resizing.
    mask = np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)
    return img + contrast * mask


def add_scratch(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thin, nearly straight bright or dark line of random length and angle."""
    size = img.shape[0]
    length = rng.uniform(0.25, 0.8) * size
    angle = rng.uniform(0, np.pi)
    cy, cx = rng.uniform(0.2, 0.8, 2) * size
    dy, dx = np.sin(angle) * length / 2, np.cos(angle) * length / 2
    bend = rng.normal(0, 1.5, 2)
    mid = (cy + bend[0], cx + bend[1])
    points = [(cy - dy, cx - dx), mid, (cy + dy, cx + dx)]
    contrast = rng.uniform(0.07, 0.3) * rng.choice([-1.0, 1.0])
    return _draw_polyline(img, points, rng.uniform(0.8, 1.8), contrast)


def add_pits(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One to three round dark spots with a soft (Gaussian) profile."""
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(0.1, 0.9, 2) * size
        radius = rng.uniform(1.5, 4.5) * size / 64
        depth = rng.uniform(0.1, 0.35)
        img = img - depth * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
    return img


def add_crack(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dark jagged random walk, sometimes with a branch."""
    size = img.shape[0]
    y, x = rng.uniform(0.15, 0.85, 2) * size
    heading = rng.uniform(0, 2 * np.pi)
    steps = int(rng.integers(6, 12))
    step = size / 64 * rng.uniform(3.0, 5.0)
    points = [(y, x)]
    for _ in range(steps):
        heading += rng.normal(0, 0.6)
        y, x = y + np.sin(heading) * step, x + np.cos(heading) * step
        points.append((y, x))
    contrast = -rng.uniform(0.1, 0.35)
    img = _draw_polyline(img, points, rng.uniform(0.7, 1.4), contrast)
    if rng.random() < 0.5:
        start = points[len(points) // 2]
        branch_heading = heading + rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.2)
        branch = [start]
        for _ in range(steps // 2):
            branch_heading += rng.normal(0, 0.5)
            start = (start[0] + np.sin(branch_heading) * step, start[1] + np.cos(branch_heading) * step)
            branch.append(start)
        img = _draw_polyline(img, branch, 0.8, contrast * 0.8)
    return img


_DEFECTS = {"scratch": add_scratch, "pit": add_pits, "crack": add_crack}


def make_image(label: str, rng: np.random.Generator, size: int = 64) -> SyntheticImage:
    """Generate one image of class ``label`` (one of ``SAMPLE_CLASSES``)."""
    img = make_texture(rng, size)
    if label != "ok":
        img = _DEFECTS[label](img, rng)
    return SyntheticImage(np.clip(img, 0.0, 1.0).astype(np.float32), label)


def generate_sample(*, counts: dict[str, int] | None = None, size: int = 64, seed: int = 0) -> list[SyntheticImage]:
    """All sample images, in a fixed order that depends only on ``counts``, ``size`` and ``seed``."""
    counts = dict(SAMPLE_COUNTS if counts is None else counts)
    unknown = set(counts) - set(SAMPLE_CLASSES)
    if unknown:
        raise ValueError(f"Unknown synthetic classes {sorted(unknown)}; expected a subset of {SAMPLE_CLASSES}.")
    # One child generator per image keeps images identical when counts of other classes change.
    out = []
    for class_idx, label in enumerate(SAMPLE_CLASSES):
        for i in range(counts.get(label, 0)):
            rng = np.random.default_rng([seed, class_idx, i])
            out.append(make_image(label, rng, size))
    return out
