"""A fraud run recommended as a blend with gradient boosting, served one transaction at a time: the service
walks the trees itself (core.ml.treewalk) and gives the risks scikit-learn gives when the same stream is
scored as one file."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd

from tests.scale.conftest import SAMPLES
from tests.scale.test_recommended_blend import saved_fraud_blend

TOL = 1e-6  # the network on one row against a batch (the blend's baseline part is equal to the bit)


def test_a_gradient_boosting_blend_served_row_by_row_scores_as_the_file_does(tmp_path):
    from core.fraud.persist import load_fraud_model
    from core.fraud.service import score_chunk
    from core.fraud.serving import make_predictor
    from core.ml.blend import Blend

    saved_dir = saved_fraud_blend(tmp_path, "gradient_boosting", 0.25, "fraud_gb")
    assert json.loads((saved_dir / "metadata.json").read_text())["blend"]["baseline"] == "gradient_boosting"

    new = (pd.read_csv(SAMPLES / "fraud_new_month.csv.gz").sort_values("timestamp", kind="stable")
           .drop(columns="is_fraud", errors="ignore").head(40).reset_index(drop=True))
    saved = load_fraud_model(saved_dir)
    asked = Blend(saved.blend.baseline, saved.blend.weight, saved.blend.model)
    asked.__dict__["_trees"] = None  # this copy asks scikit-learn, as before the walk
    expected = score_chunk(replace(saved, blend=asked), new, review=0.5, block=0.9)

    predictor = make_predictor(saved_dir, runtime="keras")
    model = predictor.saved.blend.model
    asks = []
    own = model.predict_proba
    model.predict_proba = lambda X: asks.append(len(X)) or own(X)
    served = pd.concat([predictor.predict(new.iloc[[i]][list(predictor.columns())]) for i in range(len(new))],
                       ignore_index=True)
    assert asks == []  # every request walked the trees
    assert np.abs(served["risk"].to_numpy() - expected["risk"].to_numpy()).max() <= TOL
    assert (served["decision"].to_numpy() == expected["decision"].to_numpy()).all()
