"""The NEU steel surface-defect set as the benchmark reads it: the reader with the defaults, the
reference split and the first convolution's stride the defaults give (no training here:
bench/bench_quality.py)."""

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.realdata

NEU = "quality_inspection/neu_surface_defects/images"
CLASSES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def _bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_quality.py"
    spec = importlib.util.spec_from_file_location("bench_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def neu(shared_data):
    from core.quality.data import LoadOptions, load_image_dataset

    return load_image_dataset(shared_data(NEU), options=LoadOptions(max_images=20_000))


def test_neu_reads_at_full_resolution_with_the_defaults(neu):
    assert neu.layout == "filenames" and neu.class_names == CLASSES
    assert neu.counts() == {c: 300 for c in CLASSES}
    # Grey images stored as RGB JPEGs are read as one channel, at their own 200 px (auto).
    assert neu.images.shape == (1_800, 200, 200, 1) and neu.images.dtype == np.uint8
    assert any("Input size 200×200 chosen automatically" in n for n in neu.notices)


def test_reference_split_and_stem_stride(neu):
    from core.quality.data import split_indices
    from core.quality.engine import QualityConfig
    from core.quality.sizing import choose_stem_stride

    train, test = _bench().reference_split(neu.names)
    assert len(train) == 1_440 and len(test) == 360 and not set(train) & set(test)
    assert sorted(np.r_[train, test]) == list(range(1_800))
    again, _ = _bench().reference_split(list(reversed(neu.names)))  # the order files arrive in does not matter
    assert sorted(neu.names[i] for i in train) == sorted(list(reversed(neu.names))[i] for i in again)
    per_class = Counter(neu.class_names[c] for c in neu.labels[test])
    assert set(per_class) == set(CLASSES) and 45 <= min(per_class.values()) and max(per_class.values()) <= 75
    # What the studio trains on: 85 % of the training images, whole, read at stride 2 by the first convolution.
    cfg = QualityConfig()
    fit, val, _ = split_indices(neu.labels[train], test_size=0.0, val_size=cfg.val_size, seed=cfg.seed)
    assert len(fit) == 1_224 and len(val) == 216
    assert choose_stem_stride(200, len(fit)) == 2
