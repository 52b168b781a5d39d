"""German credit (UCI Statlog, 1,000 applicants) through the real credit pipeline.

The target is ``creditability`` with the labels 'good' / 'bad'; the model predicts the probability
of *default*, so 'bad' must be the positive class. One seeded 75/25 split; bench/bench_credit.py
has the 5-fold cross-validated figures.
"""

import numpy as np
import pytest

from core.credit.pipeline import default_credit_config, train_credit
from core.credit.scoring import compute_reasons_for_rows

pytestmark = pytest.mark.realdata

GERMAN = "credit_scoring/german_credit/germancredit.csv"
# On one 250-row test set the network-minus-logistic ROC-AUC gap varies by about +-0.03 from split
# to split (5-fold CV: see the README's benchmark), so the test allows 0.03 below the logistic
# baseline; the 5-fold mean is the figure held to the 0.005.
TOLERANCE = 0.03
FLOOR = 0.72  # published logistic regression / random forest results on this set are 0.68-0.80


@pytest.fixture(scope="module")
def german(shared_data):
    import pandas as pd

    return pd.read_csv(shared_data(GERMAN))


@pytest.fixture(scope="module")
def run(german):
    return train_credit(german, target="creditability", positive="bad", config=default_credit_config(seed=0))


def test_bad_is_the_positive_class(run, german):
    assert run.setup.positive == "bad"
    assert len(run.y_train) + len(run.y_test) == 1000
    assert int(run.y_train.sum() + run.y_test.sum()) == (german["creditability"] == "bad").sum() == 300
    # Sensitive attributes are kept out of the features by default.
    assert "personal_status_and_sex" in run.setup.sensitive
    assert not set(run.setup.sensitive) & set(run.setup.features)
    # Probabilities of default: the bad applicants score higher on average.
    assert run.p_test[run.y_test == 1].mean() > run.p_test[run.y_test == 0].mean() + 0.1


def test_network_is_close_to_the_logistic_baseline(run):
    net = run.tabular.metrics["network"]["roc_auc"]
    lr = run.tabular.metrics["logistic_regression"]["roc_auc"]
    gb = run.tabular.metrics["gradient_boosting"]["roc_auc"]
    assert net > FLOOR, f"network ROC-AUC {net:.4f} is below the floor {FLOOR}"
    assert net >= lr - TOLERANCE, f"network {net:.4f} vs logistic regression {lr:.4f}"
    assert gb > 0.65
    assert 0 < run.tabular.metrics["network"]["brier"] < 0.2


def test_shap_and_reason_codes(run):
    rows = run.test_df.iloc[:40]
    shap = run.explain(rows)
    assert shap.values.shape == (40, len(run.setup.features))
    assert shap.feature_names == run.setup.features
    np.testing.assert_allclose(shap.values.sum(axis=1) + shap.base_value, shap.predictions, atol=1e-4)
    # The account status is the strongest single predictor on this data set in every study of it.
    assert "status_of_existing_checking_account" in shap.importance()["feature"].head(5).tolist()
    declined = np.flatnonzero(run.predict(rows) >= run.threshold)
    assert len(declined) > 0
    reasons = compute_reasons_for_rows(rows, declined[:5], explain_fn=run.explain_fn,
                                       references=run.references)
    for sentences in reasons.values():
        assert 1 <= len(sentences) <= 4
        assert all(isinstance(s, str) and s for s in sentences)


def test_l2_scales_with_the_training_rows(run):
    from core.credit.pipeline import credit_l2

    assert run.tabular.config.l2 == credit_l2(600) == 1e-2  # 750 training rows, 600 after validation
    assert credit_l2(3000) == pytest.approx(1e-2) and credit_l2(19_200) == pytest.approx(1.5625e-3)
    assert credit_l2(10_000_000) == 1e-4
