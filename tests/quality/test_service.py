"""Quality's train-and-decide, save, load and explain, written once in core.quality.service for every door."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.errors import DataValidationError


def _fake_run(labels, proba, class_names=("ok", "scratch", "pit"), ok_class="ok", threshold=0.5):
    return SimpleNamespace(test=SimpleNamespace(labels=np.asarray(labels)), test_proba=np.asarray(proba, dtype=float),
                           class_names=class_names, ok_class=ok_class, config=SimpleNamespace(threshold=threshold))


@pytest.fixture(scope="module")
def fake_run():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=200)
    # Defects get a higher P(defect) on average, with overlap, so the cheapest threshold depends on the costs.
    p_ok = np.clip(np.where(labels == 0, 0.7, 0.35) + rng.normal(0, 0.2, size=200), 0.01, 0.99)
    rest = (1 - p_ok)[:, None] * np.array([0.5, 0.5])
    return _fake_run(labels, np.column_stack([p_ok, rest]))


def test_decide_picks_the_cheapest_threshold_and_decision_at_costs_it(fake_run):
    from core.quality.evaluate import compute_cost_analysis
    from core.quality.service import decide, decision_at, defect_scores

    d = decide(fake_run, cost_escape=50, cost_false_reject=2)
    y_def, p_def = defect_scores(fake_run)
    curve = compute_cost_analysis(y_def, p_def, cost_escape=50, cost_false_reject=2).curve
    # No threshold on the grid costs less than the chosen one, and the figures are those at it.
    assert d.cost.cost_at_threshold <= curve["cost_per_part"].min() + 1e-9
    assert d.cost.best_threshold == d.threshold and (d.cost_escape, d.cost_false_reject) == (50.0, 2.0)
    assert decide(fake_run, cost_escape=50, cost_false_reject=2, digits=2).threshold == round(d.threshold, 2)
    # Cheaper escapes reject less: the threshold does not fall.
    assert decide(fake_run, cost_escape=2, cost_false_reject=2).threshold >= d.threshold
    # A named threshold is kept, with the cost there.
    fixed = decide(fake_run, cost_escape=50, cost_false_reject=2, threshold=0.8)
    assert fixed.threshold == 0.8 and fixed == decision_at(fake_run, 0.8, cost_escape=50, cost_false_reject=2)
    rejected = p_def >= 0.8
    expected = ((rejected & (y_def == 0)).sum() * 2 + (~rejected & (y_def == 1)).sum() * 50) / len(y_def)
    assert fixed.cost.cost_at_threshold == pytest.approx(expected)


def test_defect_typing_rejects_nothing_and_keeps_its_threshold():
    from core.quality.service import decide

    run = _fake_run([0, 1, 2], np.eye(3), class_names=("crazing", "pits", "scale"), ok_class=None, threshold=0.4)
    assert decide(run).cost is None and decide(run).threshold == 0.4
    assert decide(run, threshold=0.7).threshold == 0.7


def test_a_verdict_needs_the_baselines(small_zip):
    from core.quality import service

    with pytest.raises(TypeError, match="baselines"):
        service.train_and_decide(None, baselines=False, verdict=True)


@pytest.fixture(scope="module")
def small_data(small_zip):
    from core.quality.data import LoadOptions, load_image_dataset

    return load_image_dataset(small_zip, options=LoadOptions(image_size=32))


def test_train_and_decide_save_load_explain_round_trip(small_data, tmp_path):
    """One service call trains, fits the baselines, decides and judges; the saved run carries that decision and
    loads back to score the same images alike and explain one."""
    from core.quality import service
    from core.quality.engine import QualityConfig
    from core.store.registry import read_metadata

    stages, epochs = [], []
    out = service.train_and_decide(small_data, config=QualityConfig(epochs=2, batch_size=16, seed=1),
                                   cost_escape=40, cost_false_reject=4, digits=2, verdict=True,
                                   status=stages.append, progress=lambda e, n, _l: epochs.append((e, n)))
    assert stages[:3] == [service.PREPARING, service.BLENDING, service.BASELINES]
    assert epochs and epochs[-1][1] == 2
    assert out.decision == service.decide(out.run, cost_escape=40, cost_false_reject=4, digits=2)
    assert set(out.baselines) == set(out.baseline_metrics) == {"majority_class", "logistic_16px"}
    assert out.baselines["logistic_16px"].shape == out.run.test_proba.shape
    assert out.verdict["trust"] and out.trust is not None and out.search is None
    assert out.timings["total"] >= out.timings["baselines"] > 0
    assert out.data is small_data and out.test is None
    folder = service.save(out, tmp_path / "run", name="service test", dataset_name="parts.zip")
    assert folder == tmp_path / "run"
    meta = read_metadata(folder)
    assert meta["workspace"]["decision"]["threshold"] == out.decision.threshold
    assert meta["workspace"]["name"] == "service test"
    record = meta["workspace"]["decision"]  # the costs, saved once in the decision record
    assert (record["cost_escape"], record["cost_false_reject"]) == (40.0, 4.0) and "costs" not in meta
    loaded = service.load(folder)
    images = out.run.test.images[:5]
    assert np.allclose(loaded.predict_proba(images), out.run.predict_proba(images), atol=1e-5)
    scored = service.score_images(loaded, images, [f"i{i}" for i in range(5)], threshold=loaded.threshold)
    assert list(scored["file"]) == [f"i{i}" for i in range(5)] and set(scored["verdict"]) <= {"pass", "reject"}
    ex = service.explain(loaded, images[0], background=out.run.background, nsamples=8)
    mine = service.explain(out.run, images[0], nsamples=8)
    assert ex.predicted == mine.predicted and ex.p_defect == pytest.approx(mine.p_defect, abs=1e-5)
    assert ex.gradcam.maps.shape[1:3] == images.shape[1:3] and np.isfinite(ex.shap.maps).all()
    with pytest.raises(DataValidationError, match="training images .* to explain a saved quality run"):
        service.explain(loaded, images[0])


def test_the_demo_and_the_challenger_train_the_network_alone(small_data):
    """ensemble=False, baselines=False (the demo, the monitor's challenger): no blend check, no baselines,
    the run's record as if no check had run."""
    from core.quality import service
    from core.quality.engine import QualityConfig

    out = service.train_and_decide(small_data, config=QualityConfig(epochs=1, batch_size=16, seed=0),
                                   ensemble=False, baselines=False, threshold=0.3)
    assert out.baselines == {} and out.verdict is None and "baselines" not in out.timings
    assert out.run.recommended == "network" and out.run.ensemble == {} and "blend_check_s" not in out.run.timings
    assert out.decision.threshold == 0.3


def test_a_search_that_picks_another_size_trains_on_the_images_read_again(small_data, monkeypatch):
    """The search's input size reaches the training through ``resize`` (the CLI reads the files again)."""
    import core.quality.search as qsearch
    from core.quality import service
    from core.quality.engine import QualityConfig

    config = QualityConfig(epochs=1, batch_size=16, seed=0)
    found = SimpleNamespace(config=config, image_size=16, ensemble={},
                            result=SimpleNamespace(notices=["kept today's recipe"]))
    monkeypatch.setattr(qsearch, "search_quality", lambda *a, **k: found)
    asked, notes = [], []

    def resize(size):
        asked.append(size)
        return qsearch.resize_dataset(small_data, size), None

    out = service.train_and_decide(small_data, config=config, search_budget=5, resize=resize, baselines=False,
                                   ensemble=False, notice=notes.append)
    assert asked == [16] and notes == ["kept today's recipe"]
    assert out.run.image_size == 16 and out.data.image_size == 16 and out.search is found
