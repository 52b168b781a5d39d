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
):
    """A feed-forward network for binary classification on a tabular matrix.

    Width halves with each hidden layer. The output layer is float32 so that mixed precision on a
    GPU does not round the probabilities.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    for i in range(depth):
        units = max(8, int(width) // (2**i))
        x = layers.Dense(units, kernel_regularizer=reg, name=f"dense_{i}")(x)
        x = layers.BatchNormalization(name=f"bn_{i}")(x)
        x = layers.Activation("relu", name=f"relu_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="probability")(x)
    model = keras.Model(inputs, outputs, name="tabular_network")
    # No Keras metrics here: streaming AUC metrics doubled the training time on a CPU. Validation
    # ROC-AUC and PR-AUC are computed once per epoch instead (core.training.ValidationAUC).
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return model


def predict_batched(model, X, batch_size: int = 8192):
    """Probabilities from a Keras model in large batches with one graph call per batch.

    ``model(x, training=False)`` avoids ``predict``'s per-call set-up cost, which dominates when
    SHAP or a slider asks for many small predictions.
    """
    import numpy as np

    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        return np.zeros(0, dtype=float)
    out = [np.asarray(model(X[i : i + batch_size], training=False)).reshape(-1)
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out).astype(float)
