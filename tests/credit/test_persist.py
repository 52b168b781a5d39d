import io
import json
import zipfile

import numpy as np
import pytest

from core.credit.persist import export_model_zip, load_credit_model, save_credit_run
from core.credit.scorecard import ScorecardConfig
from core.errors import DataValidationError


def test_save_load_round_trip(credit_run, tmp_path):
    sc = ScorecardConfig(base_score=500, base_odds=20, pdo=40, grade_cuts=(450, 500))
    folder = save_credit_run(credit_run, tmp_path / "model", threshold=0.3, scorecard=sc)
    assert folder == tmp_path / "model"
    assert sorted(f.name for f in folder.iterdir()) == ["metadata.json", "model.keras", "monitor_reference.parquet",
                                                        "train_row_hashes.npy", "training_rows.parquet"]
    assert not any(f.suffix in (".pkl", ".pickle") for f in folder.iterdir())
    # The monitor's reference is the test rows; the training rows are kept for a challenger.
    import pandas as pd

    ref = pd.read_parquet(folder / "monitor_reference.parquet")
    np.testing.assert_allclose(ref["score"], credit_run.p_test)
    np.testing.assert_array_equal(ref["label"], credit_run.y_test)
    assert len(pd.read_parquet(folder / "training_rows.parquet")) == len(credit_run.train_df) + len(credit_run.test_df)
    assert json.loads((folder / "metadata.json").read_text())["monitor"]["training_source"]["kind"] == "copy"
    loaded = load_credit_model(folder)
    assert loaded.threshold == 0.3 and loaded.scorecard == sc
    np.testing.assert_allclose(loaded.predict(credit_run.test_df), credit_run.p_test, atol=1e-6)
    values, names = loaded.explain_fn(credit_run.test_df.iloc[:2])
    assert values.shape == (2, len(names)) and names == credit_run.tabular.preprocessor.columns


def test_today_credit_save_writes_the_decision_record_once(credit_run, tmp_path):
    from core.store import registry
    from core.store.runmeta import SCHEMA_KEY, SCHEMA_VERSION

    sc = ScorecardConfig(base_score=500, pdo=40)
    folder = save_credit_run(credit_run, tmp_path / "c", threshold=0.4, scorecard=sc, monitor=False)
    saved = json.loads((folder / registry.META_FILE).read_text())
    assert saved[SCHEMA_KEY] == SCHEMA_VERSION
    assert "threshold" not in saved["credit"] and "scorecard" not in saved["credit"]
    assert saved["workspace"]["decision"]["threshold"] == 0.4
    loaded = load_credit_model(folder)
    assert loaded.threshold == 0.4 and loaded.scorecard == sc


def test_save_refuses_existing_folder(credit_run, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(DataValidationError, match="already exists"):
        save_credit_run(credit_run, tmp_path / "taken")


def test_load_refuses_other_scenarios(credit_run, tmp_path):
    folder = save_credit_run(credit_run, tmp_path / "m")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["scenario"] = "fraud"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(DataValidationError, match="not a credit model"):
        load_credit_model(folder)


def test_model_zip(credit_run):
    data = export_model_zip(credit_run, threshold=0.25)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(names) == ["credit_model/metadata.json", "credit_model/model.keras",
                            "credit_model/train_row_hashes.npy"]


def test_binned_network_saves_loads_and_scores_the_same(small_df, tmp_path):
    """A credit run whose network has piecewise-linear quantile bins (the default from
    ``BINS_FROM_ROWS`` fitting rows, forced here on a small table) saves, loads and explains."""
    from core.credit.pipeline import default_credit_config, train_credit

    run = train_credit(small_df, target="default",
                       config=default_credit_config(epochs=2, seed=0, bins=4, baselines=("logistic_regression",)))
    assert run.tabular.config.bins == 4
    assert not run.tabular.model.get_layer("bins").trainable
    loaded = load_credit_model(save_credit_run(run, tmp_path / "binned", threshold=0.5))
    np.testing.assert_allclose(loaded.predict(run.test_df), run.p_test, atol=1e-6)
    values, names = loaded.explain_fn(run.test_df.iloc[:2])
    assert values.shape == (2, len(names))


def test_averaged_networks_save_as_one_model_that_loads_explains_and_exports_to_onnx(small_df, tmp_path):
    """Two averaged networks (the default from ``BINS_FROM_ROWS`` fitting rows, forced here on a small
    table) are one Keras model: saved, loaded, scored and explained as one, and its ONNX export gives
    the same probabilities within 1e-5."""
    from core.credit.pipeline import default_credit_config, train_credit

    run = train_credit(small_df, target="default", config=default_credit_config(
        epochs=2, seed=0, bins=4, n_models=2, baselines=("logistic_regression",)))
    assert run.tabular.config.n_models == 2
    names = {layer.name for layer in run.tabular.model.layers}
    assert {"tabular_network_0", "tabular_network_1"} <= names
    folder = save_credit_run(run, tmp_path / "averaged", threshold=0.5)
    assert sorted(f.name for f in folder.iterdir() if f.suffix == ".keras") == ["model.keras"]
    _scores_explains_and_exports_as_trained(run, folder)


def _scores_explains_and_exports_as_trained(run, folder) -> None:
    """The saved run predicts the trained network's probabilities, explains rows, and its ONNX export gives
    the same probabilities within 1e-5."""
    from core.runtime.onnx import OnnxModel, export_onnx

    loaded = load_credit_model(folder)
    np.testing.assert_allclose(loaded.predict(run.test_df), run.p_test, atol=1e-6)
    values, cols = loaded.explain_fn(run.test_df.iloc[:2])
    assert values.shape == (2, len(cols)) and np.isfinite(values).all()
    out = export_onnx(folder)
    assert out["max_abs_diff"] <= 1e-5
    X = run.tabular.preprocessor.encode(run.tabular.preprocessor.transform_codes(run.test_df)).astype(np.float32)
    np.testing.assert_allclose(OnnxModel(out["path"])(X).ravel(), run.tabular.proba["network"], atol=1e-5)


def test_refit_network_is_saved_scored_explained_and_exported_while_choices_stay_validated(small_df, tmp_path):
    """With a refit, the network saved (and scored, explained, exported) is the one trained again on every
    training row; the threshold and the blend are chosen on the validated network's validation scores,
    which are those of the same run without the refit."""
    from core.credit.pipeline import default_credit_config, train_credit
    from core.ml.tabular_fit import refit_epochs
    from core.ml.training import lowest_loss_epoch

    cfg = dict(epochs=3, seed=0, bins=4, baselines=("logistic_regression",))
    plain = train_credit(small_df, target="default", config=default_credit_config(refit="off", **cfg))
    run = train_credit(small_df, target="default", config=default_credit_config(refit="scaled", **cfg))
    tab = run.tabular
    n_val = len(tab.y_val)
    n_fit = len(small_df) - len(run.test_df) - n_val
    lowest = lowest_loss_epoch(tab.history)
    assert len(tab.history["refit_loss"]) == refit_epochs(lowest, n_fit, n_fit + n_val, "scaled") >= 1
    np.testing.assert_allclose(tab.val_proba["network"], plain.tabular.val_proba["network"], atol=1e-5)
    assert tab.threshold == pytest.approx(plain.tabular.threshold)
    assert np.abs(run.p_test - plain.p_test).max() > 1e-4  # the refit network is a different model
    _scores_explains_and_exports_as_trained(run, save_credit_run(run, tmp_path / "refit", threshold=0.5))
