"""Quality's recommended model: by default the blend of the CNN with the best baseline is checked on the
validation images, and the recommended model (network or blend, written as one Keras model) is the one
saved and scored by every door; --no-ensemble keeps the CNN; runs saved before load as before."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.store.runmeta import SCHEMA_KEY
from tests.quality.conftest import make_zip, sample_entries


@pytest.fixture(scope="module")
def parts_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("blend") / "parts.zip"
    path.write_bytes(make_zip(sample_entries({"ok": 30, "pit": 10, "crack": 10}, size=24, seed=1)))
    return path


def _train(parts_zip, tmp_path, capsys, *more):
    code = main(["train", "--scenario", "quality", "--data", str(parts_zip), "--image-size", "24", "--epochs", "1",
                 "--seed", "3", "--save", str(tmp_path / "runs" / "q"), "--json", *more])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def _layers(run_dir):
    from core.store.registry import load_run

    return {layer.name for layer in load_run(run_dir).model.layers}


def test_default_run_checks_the_blend_on_validation_and_saves_what_it_recommends(parts_zip, tmp_path, capsys):
    out, err = _train(parts_zip, tmp_path, capsys)
    rec = out["recommended"]
    assert rec["model"] in ("network", "ensemble") and rec["saved"] == rec["model"]
    assert "Recommended:" in err
    meta = json.loads((tmp_path / "runs" / "q" / "metadata.json").read_text())
    ens = meta["ensemble"]
    # The check ran on the validation images: the CNN's, each baseline's and the best blend's log loss.
    assert ens["checked"] and set(ens["validation_scores"]) == {"network", "majority_class", "logistic_16px",
                                                                "ensemble"}
    scores = ens["validation_scores"]
    wins = scores["ensemble"] < scores["network"] and scores["ensemble"] < scores[ens["best_baseline"]]
    assert ens["use"] == wins and meta["recommended"] == rec["model"] == ("ensemble" if wins else "network")
    assert ("ensemble_blend" in _layers(tmp_path / "runs" / "q")) == wins
    assert meta["workspace"]["headline"]["recommended"]["model"] == rec["model"]
    assert out["timings"]["blend_check_s"] >= 0
    # The recommended model's metrics are those of the saved file's predictions.
    code = main(["score", "--model", out["saved_to"], "--data", str(parts_zip), "--out", str(tmp_path / "s.csv"),
                 "--json"])
    assert code == 0
    capsys.readouterr()
    saved = pd.read_csv(tmp_path / "runs" / "q" / "test_predictions.csv")
    scored = pd.read_csv(tmp_path / "s.csv").set_index("file").loc[saved["file"]]
    np.testing.assert_allclose(scored["p_defect"].to_numpy(), saved["p_defect"].to_numpy(), atol=1e-5)
    assert rec["metrics"]["accuracy"] == pytest.approx((saved["actual"] == saved["predicted"]).mean())


def test_no_ensemble_saves_the_network(parts_zip, tmp_path, capsys):
    out, err = _train(parts_zip, tmp_path, capsys, "--no-ensemble")
    assert out["recommended"]["model"] == "network" == out["recommended"]["saved"]
    assert out["recommended"]["metrics"]["accuracy"] == out["metrics"]["accuracy"]
    assert "switched off" in err
    meta = json.loads((tmp_path / "runs" / "q" / "metadata.json").read_text())
    assert meta["recommended"] == "network" and meta["ensemble"] == {}
    assert "ensemble_blend" not in _layers(tmp_path / "runs" / "q")


@pytest.fixture(scope="module")
def blended(parts_zip, tmp_path_factory):
    """A one-epoch run made into the blend of its CNN with the thumbnail regression (75 % CNN), saved."""
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.export import save_quality_run
    from core.quality.recommend import apply_blend
    from core.quality.summary import build_quality_summary

    data = load_image_dataset(parts_zip, options=LoadOptions(image_size=24))
    config = QualityConfig(epochs=1, batch_size=16, seed=2)
    run = train_quality(data, config=config)
    network_proba = run.test_proba.copy()
    apply_blend(run, data, config, {"use": True, "baseline": "logistic_16px", "weight": 0.75,
                                    "label": "Ensemble: 75 % CNN + 25 % logistic regression on 16×16 thumbnails"})
    ws = build_quality_summary(run, name="blend", threshold=0.5, cost_escape=50, cost_false_reject=2, data=data)
    root = tmp_path_factory.mktemp("saved")
    path = save_quality_run(root, run, threshold=0.5, extra_metadata=ws, run_id="blend")
    return run, data, network_proba, path


def test_a_blended_run_is_the_blend_of_its_cnn_and_regression(blended):
    from core.quality.baselines import fit_baselines
    from core.quality.recommend import _split
    from core.search.ensemble import blend

    run, data, network_proba, _ = blended
    tr, _ = _split(data, run.config, None)
    base, _ = fit_baselines(data.images[tr], data.labels[tr], run.test.images, len(run.class_names))
    np.testing.assert_allclose(run.test_proba, blend(network_proba, base["logistic_16px"], 0.75), atol=2e-5)
    assert run.network_metrics is not None and run.recommended == "ensemble"
    assert not np.allclose(run.test_proba, network_proba, atol=1e-3)


@pytest.mark.parametrize("runtime", ["keras", "onnx"])
def test_a_saved_blend_scores_the_same_through_every_door(blended, runtime):
    from core.quality.serving import make_predictor

    run, _, _, path = blended
    served = make_predictor(path, runtime=runtime).saved  # what python -m core serve scores with
    np.testing.assert_allclose(served.predict_proba(run.test.images), run.test_proba, atol=1e-5)


def test_a_saved_blend_exports_to_one_onnx_graph_and_its_card_names_it(blended):
    import onnx

    from core.store.registry import load_run
    from core.runtime.onnx import export_onnx
    from core.workspace.runs import get_metrics, get_recommended_text

    run, _, _, path = blended
    done = export_onnx(path)
    assert done["max_abs_diff"] <= 1e-5
    graph = onnx.load(done["path"]).graph
    assert len(graph.input) == 1 and len(graph.output) == 1
    meta = load_run(path).metadata
    assert get_recommended_text(meta).startswith("Ensemble: 75 % CNN")
    assert get_metrics(meta)["defect_roc_auc"] == pytest.approx(run.metrics["defect_roc_auc"])  # the blend's


def test_a_blend_has_grad_cam_of_its_cnn_and_shap_of_the_whole(blended):
    from core.quality.explain import compute_gradcam, compute_shap_maps

    run, _, _, _ = blended
    img = run.test.images[:1]
    cam_blend = compute_gradcam(run.model, img, class_names=run.class_names, ok_class=run.ok_class).maps
    cam_cnn = compute_gradcam(run.network, img, class_names=run.class_names, ok_class=run.ok_class).maps
    assert cam_blend.shape == cam_cnn.shape == (1, 24, 24)
    maps = compute_shap_maps(run.model, img, run.background, class_names=run.class_names, ok_class=run.ok_class,
                             nsamples=8, seed=0)
    assert np.isfinite(np.asarray(maps.maps)).all()


def test_a_run_saved_before_recommendations_loads_and_scores_as_before(blended, tmp_path):
    from core.quality.export import load_quality_model, save_quality_run
    from core.workspace.runs import get_metrics, get_recommended_text

    run, data, network_proba, _ = blended
    from dataclasses import replace

    old = replace(run, model=run.network, test_proba=network_proba, metrics=run.network_metrics,
                  recommended="network", ensemble={}, network=None, network_metrics=None)
    path = save_quality_run(tmp_path, old, threshold=0.4, run_id="old")
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["workspace"] == {"decision": {"threshold": 0.4}} and "threshold" not in meta  # written once
    for key in ("recommended", "ensemble", SCHEMA_KEY):
        meta.pop(key)  # as written before the blend was saved, and before the schema version
    meta["threshold"] = meta.pop("workspace")["decision"]["threshold"]  # and before the one decision record
    (path / "metadata.json").write_text(json.dumps(meta))
    loaded = load_quality_model(path)
    np.testing.assert_allclose(loaded.predict_proba(run.test.images), network_proba, atol=1e-5)
    assert loaded.threshold == 0.4  # the old run's top-level threshold, read through the record
    scored = loaded.score(run.test)
    assert (scored["verdict"] == np.where(scored["p_defect"] >= 0.4, "reject", "pass")).all()
    assert get_recommended_text(meta) is None
    assert get_metrics({"workspace": {"metrics": {"network": {"accuracy": 0.5}}}}) == {"accuracy": 0.5}


def test_a_saved_blend_is_named_in_its_trust_flags_and_card_and_keeps_its_threshold_once(blended, tmp_path,
                                                                                        monkeypatch):
    import core.ml.verdict
    from core.quality.export import save_quality_run
    from core.quality.summary import build_quality_summary
    from core.store.registry import load_run
    from core.workspace.report import build_report_html
    from core.workspace.runs import get_trust, recommended_verdict_name

    run, data, _, saved = blended
    meta = json.loads((saved / "metadata.json").read_text())
    assert "threshold" not in meta and meta["workspace"]["decision"]["threshold"] == 0.5
    name = "The blend of the CNN with the thumbnail regression"
    assert recommended_verdict_name(load_run(saved, load_model=False).metadata) == name
    # A defect ROC-AUC interval holding 0.5 is flagged as chance, on the saved model: the blend.
    monkeypatch.setattr(core.ml.verdict, "roc_auc_interval", lambda *a, **k: (0.52, 0.41, 0.63))
    ws = build_quality_summary(run, name="blend", threshold=0.3, cost_escape=50, cost_false_reject=2, data=data)
    path = save_quality_run(tmp_path, run, threshold=0.3, extra_metadata=ws, run_id="flagged")
    flags = get_trust(load_run(path, load_model=False).metadata).flags
    assert flags[0].kind == "chance" and flags[0].why.startswith(f"{name}'s defect ROC-AUC is 0.520")
    card = build_report_html(path)
    assert f"{name}&#x27;s defect ROC-AUC" in card and "The CNN&#x27;s" not in card
    assert json.loads((path / "metadata.json").read_text())["workspace"]["decision"]["threshold"] == 0.3
