"""The quality demo keeps a few caught defects with their heatmaps for presenter mode."""

import io

import numpy as np


def test_gallery_keeps_the_surest_caught_defects_with_a_map_each(tiny_run, tmp_path):
    from core.quality.evaluate import get_defect_labels, get_defect_scores
    from core.quality.export import GALLERY_FILE, gallery_bytes, save_quality_run

    threshold = 0.5
    y = get_defect_labels(tiny_run.test.labels, tiny_run.class_names, tiny_run.ok_class)
    p = get_defect_scores(tiny_run.test_proba, tiny_run.class_names, tiny_run.ok_class)
    caught = np.flatnonzero((y == 1) & (p >= threshold))
    assert len(caught), "the shared tiny run should catch some defects"
    with np.load(io.BytesIO(gallery_bytes(tiny_run, threshold)), allow_pickle=False) as z:
        assert len(z["images"]) == len(z["maps"]) == min(4, len(caught))
        assert z["maps"].shape[1:] == z["images"].shape[1:3]
        assert all(c != tiny_run.ok_class for c in z["classes"])  # defects only
        assert list(z["p_defect"]) == sorted(z["p_defect"], reverse=True)
        assert z["p_defect"][0] == np.float32(p[caught].max())
    assert (save_quality_run(tmp_path, tiny_run, threshold=threshold, gallery=True) / GALLERY_FILE).is_file()
    assert not (save_quality_run(tmp_path, tiny_run, threshold=threshold) / GALLERY_FILE).exists()


def test_no_gallery_without_a_good_class_or_a_caught_defect(typing_run, tiny_run):
    from core.quality.export import gallery_bytes

    assert gallery_bytes(typing_run[1], 0.5) is None  # defect typing: no good part to tell apart
    assert gallery_bytes(tiny_run, 1.01) is None  # nothing reaches the line
