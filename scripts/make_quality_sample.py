"""Write the bundled quality-inspection sample: sample_data/quality_images/<class>/<name>.png.

Deterministic: the same seed gives byte-identical PNG files.  Run from the repo root:

    python scripts/make_quality_sample.py [--out sample_data/quality_images] [--seed 0] [--size 64]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.quality.synth import SAMPLE_CLASSES, generate_sample  # noqa: E402


def write_sample(out: Path, *, seed: int = 0, size: int = 64) -> dict[str, int]:
    """Regenerate ``out`` from scratch and return the image count per class."""
    if out.exists():
        shutil.rmtree(out)
    counts: dict[str, int] = {}
    for image in generate_sample(size=size, seed=seed):
        folder = out / image.label
        folder.mkdir(parents=True, exist_ok=True)
        idx = counts.get(image.label, 0)
        counts[image.label] = idx + 1
        pixels = np.round(image.pixels * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{image.label}_{idx:04d}.png", optimize=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("sample_data/quality_images"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    counts = write_sample(args.out, seed=args.seed, size=args.size)
    total = sum(counts.values())
    defects = total - counts.get("ok", 0)
    print(f"wrote {total} images to {args.out} ({defects / total:.1%} defects): "
          + ", ".join(f"{c}={counts.get(c, 0)}" for c in SAMPLE_CLASSES))


if __name__ == "__main__":
    main()
