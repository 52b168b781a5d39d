"""Keras model builders. Small functions; standard layers only, so saved models load in safe mode."""

from __future__ import annotations


def build_tabular_model(
    n_features: int,
    *,
    width: int = 64,
    depth: int = 2,
    dropout: float = 0.2,
    l2: float = 1e-4,
    learning_rate: float = 1e-3,
    batch_norm: bool = True,
    wide: bool = False,
    bin_edges: list[list[float]] | None = None,
    name: str = "tabular_network",
):
    """A feed-forward network for binary classification on a tabular matrix.

    Width halves with each hidden layer. ``batch_norm`` normalises each hidden layer; on small,
    already standardised tables (German credit's 800 training rows) it cost ROC-AUC, so credit
    turns it off. ``wide`` adds a linear skip ("wide & deep"): a Dense(1) on the inputs is added
    to the deep tower's logit, so the network starts from what logistic regression sees and the
    hidden layers only have to learn what a linear score misses. ``bin_edges`` (one ascending list
    per leading input column, see ``piecewise_linear_weights``) adds a piecewise-linear encoding of
    those columns beside the inputs of the deep tower. The output is float32 so that mixed
    precision on a GPU does not round the probabilities.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    ple = None
    if bin_edges is not None:
        kernel, bias = piecewise_linear_weights(bin_edges, n_features)
        if kernel.shape[1]:
            # A fixed (non-trainable) Dense maps each value to its position inside every bin and the
            # capped ReLU clips that to 0 .. 1: standard layers only, so the model loads in safe mode.
            ple = layers.Dense(kernel.shape[1], trainable=False, name="bins")
            x = layers.Concatenate(name="inputs_and_bins")([inputs, layers.ReLU(max_value=1.0, name="bin_fill")(
                ple(inputs))])
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    for i in range(depth):
        units = max(8, int(width) // (2**i))
        x = layers.Dense(units, kernel_regularizer=reg, name=f"dense_{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn_{i}")(x)
        x = layers.Activation("relu", name=f"relu_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if wide:
        deep_logit = layers.Dense(1, name="deep_logit")(x)
        wide_logit = layers.Dense(1, kernel_regularizer=reg, name="wide_logit")(inputs)
        logit = layers.Add(name="logit")([deep_logit, wide_logit])
        outputs = layers.Activation("sigmoid", dtype="float32", name="probability")(logit)
    else:
        outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="probability")(x)
    model = keras.Model(inputs, outputs, name=name)
    if ple is not None:
        ple.set_weights([kernel, bias])
    # No Keras metrics here: streaming AUC metrics doubled the training time on a CPU. Validation
    # ROC-AUC and PR-AUC are computed once per epoch instead (core.ml.training.ValidationAUC).
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return model


def piecewise_linear_weights(bin_edges: list[list[float]], n_features: int):
    """Kernel and bias of the Dense layer behind the piecewise-linear encoding.

    For a column with edges b0 < b1 < ... < bk, bin t encodes ``(x - b(t-1)) / (bt - b(t-1))``, which the
    next layer clips to 0 .. 1: 0 below the bin, 1 above it, the position inside it in between
    (Gorishniy et al. 2022, "On Embeddings for Numerical Features in Tabular Deep Learning"). So a
    value becomes "how far up the column's quantiles it lies", which lets a small network draw a
    step or a bend at any quantile as a tree does. Returns float32 arrays (n_features, bins), (bins,).
    """
    import numpy as np

    cols, weights, biases = [], [], []
    for j, edges in enumerate(bin_edges):
        e = np.asarray(edges, dtype=np.float64)
        for lo, hi in zip(e[:-1], e[1:]):
            if hi > lo:
                cols.append(j)
                weights.append(1.0 / (hi - lo))
                biases.append(-lo / (hi - lo))
    kernel = np.zeros((n_features, len(cols)), dtype=np.float32)
    kernel[cols, np.arange(len(cols))] = weights
    return kernel, np.asarray(biases, dtype=np.float32)


def average_models(models, name: str = "averaged_networks"):
    """One Keras model whose output is the mean of ``models``' probabilities (same input width)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=models[0].input_shape[1:], name="features")
    outputs = layers.Average(dtype="float32", name="probability")([m(inputs) for m in models])
    return keras.Model(inputs, outputs, name=name)


def predict_batched(model, X, batch_size: int = 65536):
    """Probabilities from a Keras model in large batches through its compiled predict function.

    ``predict_on_batch`` runs Keras' cached, traced predict function: for SHAP's 750,000
    perturbed rows it was 9x faster than eager ``model(x, training=False)`` calls in 8,192-row
    batches (0.16 s against 1.41 s on 2 cores), with identical outputs, and it avoids
    ``predict``'s per-call set-up cost, which dominates when a slider asks for a few rows.
    """
    import numpy as np

    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        return np.zeros(0, dtype=float)
    out = [np.asarray(model.predict_on_batch(X[i : i + batch_size])).reshape(-1)
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out).astype(float)
