"""Fixtures for the quality tests: small synthetic image zips and one tiny trained run."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.quality.synth import generate_sample


def png_bytes(pixels: np.ndarray, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def sample_entries(counts: dict[str, int], *, size: int = 32, seed: int = 0, prefix: str = "") -> dict[str, bytes]:
    """Synthetic surfaces as PNG bytes under ``prefix<class>/<n>.png``."""
    out = {}
    for i, img in enumerate(generate_sample(counts=counts, size=size, seed=seed)):
        out[f"{prefix}{img.label}/{i:04d}.png"] = png_bytes(np.round(img.pixels * 255).astype(np.uint8))
    return out


@pytest.fixture(scope="session")
def small_zip() -> bytes:
    return make_zip(sample_entries({"ok": 60, "scratch": 12, "pit": 12}, size=32, prefix="parts/"))


@pytest.fixture(scope="session")
def tiny_run(small_zip):
    """One model trained for twelve epochs on 84 images of 32x32 (enough to tell parts apart, so
    explanations have something to explain): fast, shared by many tests."""
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality

    data = load_image_dataset(small_zip, options=LoadOptions(image_size=32))
    return train_quality(data, config=QualityConfig(epochs=12, batch_size=16, seed=1))


@pytest.fixture(scope="session")
def typing_zip() -> bytes:
    """A small NEU-like defect-typing set: six defect classes, no good class, flat RGB JPEGs with the
    class in the file name, inside one wrapping folder."""
    from core.quality.synth_neu import neu_like_files

    files = neu_like_files(per_class=10, size=48, seed=3)
    return make_zip({f"steel/{name}": data for name, data in files.items()})


@pytest.fixture(scope="session")
def typing_run(typing_zip):
    """A defect-typing model trained for two epochs on 60 images of 32x32."""
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality

    data = load_image_dataset(typing_zip, options=LoadOptions(image_size=32))
    return data, train_quality(data, config=QualityConfig(epochs=2, batch_size=16, seed=1))
