"""The model search's tables and importance chart in plain words: settings under their plain names
(raw name on hover), values in words, and a dash where a trial has no value."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from core.search.charts import plot_param_importance
from ui.search import settings_frame, trials_table

METRIC = "validation PR-AUC"


def _frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"trial": 0, "state": "complete", METRIC: 0.41234, "seconds": 3.2, "epochs": 5, "learning_rate": 0.001,
         "l2": 1e-4, "imbalance": "class_weight", "wide": False, "image_size": 64},
        {"trial": 1, "state": "pruned", METRIC: None, "seconds": 1.0, "epochs": 2, "learning_rate": 0.003,
         "l2": 1e-3, "imbalance": "smote", "wide": True, "image_size": 96},
    ])


def test_trials_table_headers_and_values():
    shown, config = trials_table(_frame(), METRIC)
    labels = {c: config[c]["label"] for c in shown.columns}
    assert labels["learning_rate"] == "Learning rate" and labels["l2"] == "L2 penalty"
    assert labels["imbalance"] == "Imbalance handling" and labels["trial"] == "Trial"
    assert labels[METRIC] == "Validation PR-AUC"
    assert config["learning_rate"]["help"] == "Setting `learning_rate`."
    assert list(shown["imbalance"]) == ["Class weights", "SMOTE"]
    assert list(shown["wide"]) == ["No", "Yes"] and list(shown["image_size"]) == ["64×64", "96×96"]
    assert list(shown[METRIC]) == ["0.4123", "—"]  # a pruned trial has no score: a dash, not None
    assert shown["state"].iloc[1].startswith("Pruned")
    assert not shown.isna().any().any()


def test_chosen_settings_in_words():
    table = settings_frame({"imbalance": "smote", "wide": True, "batch_size": 256},
                           {"imbalance": "class_weight", "wide": False})
    assert list(table.columns) == ["Setting", "Today's recipe", "Chosen"]
    assert list(table["Setting"]) == ["Imbalance handling", "Wide & deep (linear skip)", "Batch size"]
    assert list(table["Today's recipe"]) == ["Class weights", "No", "—"]
    assert list(table["Chosen"]) == ["SMOTE", "Yes", "256"]


def test_importance_chart_axis_in_plain_names():
    fig = plot_param_importance(SimpleNamespace(importances={"learning_rate": 0.6, "n_layers": 0.3, "l2": 0.1}))
    bar = fig.data[0]
    assert list(bar.y) == ["L2 penalty", "Hidden layers", "Learning rate"]
    assert list(bar.customdata) == ["l2", "n_layers", "learning_rate"]  # raw names on hover
