"""Write the bundled quality-inspection sample: sample_data/quality_images/<class>/<name>.png.

Deterministic: the same seed gives byte-identical PNG files.  Run from the repo root:

    python scripts/make_quality_sample.py [--out sample_data/quality_images] [--seed 0] [--size 64]

Also writes sample_data/quality_new_batch.zip: 80 new parts off the line (other images than the sample's,
drawn with the next seed), in class folders so the Score page's "Use the sample batch" compares its
verdicts with their labels. The zip's bytes are the same on every run (fixed entry times and order).
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


BATCH_COUNTS = {"ok": 66, "scratch": 5, "pit": 5, "crack": 4}  # about the sample's 13 % defects


def write_batch(out: Path, *, seed: int = 1, size: int = 64) -> int:
    """Write the scoring batch as a zip of ``<class>/<name>.png``; returns the image count."""
    import io
    import zipfile

    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for image in generate_sample(counts=BATCH_COUNTS, size=size, seed=seed):
            idx = counts.get(image.label, 0)
            counts[image.label] = idx + 1
            buf = io.BytesIO()
            Image.fromarray(np.round(image.pixels * 255).astype(np.uint8), mode="L").save(buf, format="PNG",
                                                                                         optimize=True)
            info = zipfile.ZipInfo(f"{image.label}/new_{image.label}_{idx:04d}.png", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
    return sum(counts.values())


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
    batch = args.out.parent / "quality_new_batch.zip"
    print(f"wrote {write_batch(batch, seed=args.seed + 1, size=args.size)} images to {batch}")


if __name__ == "__main__":
    main()
