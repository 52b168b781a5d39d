"""A look-alike of the magnetic-tile surface-defect catalogue, as it is downloaded.

The public catalogue (Huang et al., 2018) ships as one folder per class, each with an ``Imgs``
folder that holds every photo as a grey JPEG *and*, under the same name, its pixel-level
ground-truth mask as a PNG::

    Magnetic-tile-defect-datasets/README.md
    Magnetic-tile-defect-datasets/MT_Blowhole/Imgs/exp1_num_4727.jpg   the photo
    Magnetic-tile-defect-datasets/MT_Blowhole/Imgs/exp1_num_4727.png   its mask (0 / 255)
    ...
    Magnetic-tile-defect-datasets/MT_Free/Imgs/exp3_num_2.jpg          a good tile
    Magnetic-tile-defect-datasets/MT_Free/Imgs/exp3_num_2.png          an all-black mask

Six classes with the ``MT_`` prefix (Blowhole, Break, Crack, Fray, Uneven, and Free: no defect),
heavily imbalanced (the real set has 952 Free tiles against 32 to 115 per defect type). This
generator draws the same layout at a small scale: grey tile textures (a brightness gradient, grain
and noise; sizes vary a little, as the real crops do) with a dark defect painted in, saved as
single-channel JPEGs, and beside each a binary PNG mask of the defect (all zero for MT_Free).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

CLASSES = ("MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven", "MT_Free")
COUNTS = {"MT_Free": 30, "MT_Blowhole": 8, "MT_Uneven": 7, "MT_Break": 6, "MT_Crack": 5, "MT_Fray": 5}
ROOT = "Magnetic-tile-defect-datasets"


def _encode(arr: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8), mode="L").save(buf, format=fmt, **kw)
    return buf.getvalue()


def tile(rng, cls: str, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """One grey tile photo (uint8, h x w) and its defect mask (bool)."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.uniform(95, 150) + rng.uniform(-25, 25) * xx / w + rng.normal(0, 9, (h, w))
    base += 6 * np.sin(xx / rng.uniform(2, 5))  # grinding grain
    mask = np.zeros((h, w), bool)
    if cls == "MT_Blowhole":
        cy, cx, r = rng.integers(8, h - 8), rng.integers(8, w - 8), rng.uniform(3, 6)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    elif cls == "MT_Crack":
        y0, slope = rng.integers(5, h - 5), rng.uniform(-0.4, 0.4)
        mask = np.abs(yy - (y0 + slope * (xx - w / 2))) <= 1
    elif cls == "MT_Break":
        mask = (yy + xx) < rng.uniform(0.3, 0.5) * (h + w)
    elif cls == "MT_Fray":
        mask = (xx > w - rng.integers(4, 8)) & (rng.random((h, w)) < 0.6)
    elif cls == "MT_Uneven":
        mask = (np.sin(yy / 3.0) > 0.6) & (xx > w // 3)
    photo = np.where(mask, base - rng.uniform(55, 80), base)
    return np.clip(photo, 0, 255).astype(np.uint8), mask


def magnetic_tile_files(counts: dict[str, int] | None = None, *, seed: int = 0,
                        root: str = ROOT) -> dict[str, bytes]:
    """``{path: bytes}`` of the look-alike catalogue (photos, masks and the README), ready to zip."""
    rng = np.random.default_rng(seed)
    files = {f"{root}/README.md": b"# Magnetic tile defect datasets\n"} if root else {}
    prefix = f"{root}/" if root else ""
    n = 1
    for cls, k in (counts or COUNTS).items():
        for _ in range(k):
            h, w = int(rng.integers(44, 60)), int(rng.integers(44, 60))
            photo, mask = tile(rng, cls, h, w)
            stem = f"{prefix}{cls}/Imgs/exp{int(rng.integers(1, 7))}_num_{n}"
            files[f"{stem}.jpg"] = _encode(photo, "JPEG", quality=92)
            files[f"{stem}.png"] = _encode(mask * 255, "PNG")
            n += 1
    return files


def photo_count(files: dict[str, bytes]) -> int:
    return sum(p.endswith(".jpg") for p in files)
