import numpy as np

from core.quality.synth import SAMPLE_COUNTS, generate_sample, make_texture


def test_sample_counts_and_defect_share():
    total = sum(SAMPLE_COUNTS.values())
    defects = total - SAMPLE_COUNTS["ok"]
    assert 900 <= total <= 1100
    assert 0.10 <= defects / total <= 0.15


def test_generation_is_deterministic_and_seed_dependent():
    a = generate_sample(counts={"ok": 2, "crack": 2}, size=32, seed=3)
    b = generate_sample(counts={"ok": 2, "crack": 2}, size=32, seed=3)
    c = generate_sample(counts={"ok": 2, "crack": 2}, size=32, seed=4)
    assert all(np.array_equal(x.pixels, y.pixels) for x, y in zip(a, b))
    assert not np.array_equal(a[0].pixels, c[0].pixels)
    assert [x.label for x in a] == ["ok", "ok", "crack", "crack"]


def test_defects_change_the_surface_locally():
    # Same generator state for texture, so the difference is the defect alone.
    for label in ("scratch", "pit", "crack"):
        img = generate_sample(counts={label: 1}, size=64, seed=0)[0].pixels
        rng = np.random.default_rng([0, ["ok", "scratch", "pit", "crack"].index(label), 0])
        plain = np.clip(make_texture(rng, 64), 0, 1)
        diff = np.abs(img - plain)
        assert diff.max() > 0.05, label
        assert (diff > 0.03).mean() < 0.2, label  # local: most of the surface is untouched
