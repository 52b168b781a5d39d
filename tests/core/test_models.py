import numpy as np
import pytest

from core.models import build_tabular_model, predict_batched


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
