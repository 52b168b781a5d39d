import numpy as np
import pytest

from core.ml.models import build_tabular_model, predict_batched


@pytest.mark.parametrize("batch_norm, wide", [(True, False), (False, False), (False, True), (True, True)])
def test_tabular_model_options(batch_norm, wide):
    model = build_tabular_model(5, width=16, depth=2, batch_norm=batch_norm, wide=wide)
    names = [layer.name for layer in model.layers]
    assert any(n.startswith("bn_") for n in names) == batch_norm
    assert ("wide_logit" in names) == wide
    assert model.output.dtype == "float32" and names[-1] == "probability"
    p = predict_batched(model, np.random.default_rng(0).normal(size=(7, 5)))
    assert p.shape == (7,) and np.all((p > 0) & (p < 1))


def test_wide_part_is_a_linear_skip_to_the_logit():
    # With the deep tower's output weights at zero the network is exactly logistic regression on
    # the inputs: sigmoid(w . x + b) from the wide Dense(1).
    model = build_tabular_model(3, width=8, depth=1, batch_norm=False, wide=True)
    deep = model.get_layer("deep_logit")
    deep.set_weights([np.zeros_like(w) for w in deep.get_weights()])
    w, b = np.array([[0.5], [-1.0], [2.0]], dtype="float32"), np.array([0.25], dtype="float32")
    model.get_layer("wide_logit").set_weights([w, b])
    X = np.random.default_rng(1).normal(size=(20, 3)).astype("float32")
    np.testing.assert_allclose(predict_batched(model, X), 1 / (1 + np.exp(-(X @ w + b).ravel())), atol=1e-6)


def test_predict_batched_splits_into_batches_and_handles_no_rows():
    model = build_tabular_model(4, width=8, depth=1)
    X = np.random.default_rng(2).normal(size=(50, 4))
    np.testing.assert_allclose(predict_batched(model, X, batch_size=7), predict_batched(model, X), atol=1e-6)
    np.testing.assert_allclose(predict_batched(model, X), np.asarray(model(X.astype("float32"))).ravel(),
                               atol=1e-6)
    assert predict_batched(model, X[:0]).shape == (0,)


def test_piecewise_linear_weights_place_a_value_inside_each_bin():
    from core.ml.models import piecewise_linear_weights

    # Column 0: bins [0, 1] and [1, 3]; column 1: one bin [-1, 1]; column 2 (e.g. a one-hot
    # column) gets none; repeated edges of a count that is mostly 0 give no empty bin.
    kernel, bias = piecewise_linear_weights([[0.0, 1.0, 3.0], [-1.0, -1.0, 1.0]], 3)
    assert kernel.shape == (3, 3) and bias.shape == (3,)
    x = np.array([[-5.0, 0.0, 1.0], [0.5, 2.0, 0.0], [2.0, -1.0, 0.0], [9.0, 3.0, 0.0]], dtype=np.float32)
    got = np.clip(x @ kernel + bias, 0, 1)
    np.testing.assert_allclose(got, [[0, 0, 0.5], [0.5, 0, 1], [1, 0.5, 0], [1, 1, 1]], atol=1e-6)


def test_binned_network_encodes_inputs_with_fixed_weights_and_loads_in_safe_mode(tmp_path):
    import keras

    edges = [[-1.0, 0.0, 1.0], [0.0, 2.0]]
    model = build_tabular_model(4, width=8, depth=1, bin_edges=edges)
    bins = model.get_layer("bins")
    assert not bins.trainable and bins.kernel.shape == (4, 3)
    assert all(not v.trainable for v in bins.weights)
    # The deep tower sees the inputs and each bin's fill level (0 .. 1).
    probe = keras.Model(model.input, model.get_layer("inputs_and_bins").output)
    x = np.array([[0.5, 1.0, 7.0, -7.0]], dtype=np.float32)
    np.testing.assert_allclose(np.asarray(probe(x)), [[0.5, 1.0, 7.0, -7.0, 1.0, 0.5, 0.5]], atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    X = np.random.default_rng(3).normal(size=(9, 4))
    np.testing.assert_allclose(predict_batched(loaded, X), predict_batched(model, X), atol=1e-6)


def test_averaged_networks_output_the_mean_probability_and_load_in_safe_mode(tmp_path):
    import keras

    from core.ml.models import average_models

    a = build_tabular_model(3, width=8, depth=1, name="tabular_network_0")
    b = build_tabular_model(3, width=8, depth=1, name="tabular_network_1")
    X = np.random.default_rng(4).normal(size=(11, 3))
    avg = average_models([a, b])
    expected = (predict_batched(a, X) + predict_batched(b, X)) / 2
    np.testing.assert_allclose(predict_batched(avg, X), expected, atol=1e-6)
    assert avg.output.dtype == "float32"
    avg.save(tmp_path / "avg.keras")
    loaded = keras.saving.load_model(tmp_path / "avg.keras", safe_mode=True)
    np.testing.assert_allclose(predict_batched(loaded, X), expected, atol=1e-6)


def test_binned_averaged_network_exports_to_onnx_with_the_same_probabilities():
    from core.ml.models import average_models
    from core.runtime.onnx import _check_against_keras, _convert

    edges = [[-1.0, 0.0, 1.0], [0.0, 0.5, 2.0]]
    nets = [build_tabular_model(5, width=8, depth=2, wide=True, batch_norm=False, bin_edges=edges,
                                name=f"tabular_network_{k}") for k in range(2)]
    model = average_models(nets)
    assert _check_against_keras(model, _convert(model)) < 1e-5
