"""Performance estimated before labels (CBPE) and the calibration it relies on.

Tolerance: CBPE gives the ROC-AUC to *expect* from the scores; the realized ROC-AUC is one draw of
the labels around that expectation, and its spread over draws is what the bootstrap standard error
(SE) of the realized figure measures on the same rows. An estimate within 3 SE is as close as the
labels allow (a normal draw falls outside 3 SE 0.3 % of the time; the seeds fix the draw here); an
estimate more than 5 SE away is wrong, not unlucky. On 3,000 rows the SE is about 0.01, so the
bar is about ±0.03 of ROC-AUC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.monitor.calibration import expected_calibration_error, fit_calibration, get_calibration
from core.monitor.cbpe import expected_confusion, expected_rates, expected_roc_auc
from core.monitor.spec import roc_auc
from core.ml.verdict import _bootstrap_weights, _weighted_binary

N = 3000


def population(seed: int, n: int = N):
    """Latent risk, the true probability and labels drawn from it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.5, 1.2, n)
    p = 1 / (1 + np.exp(-z))
    return z, p, (rng.random(n) < p).astype(int)


def bootstrap_se(y, p) -> float:
    values = np.concatenate([_weighted_binary(y, p, w, "roc_auc") for w in _bootstrap_weights(len(y), 300, 0)])
    return float(values.std())


def test_expected_confusion_sums_the_chances():
    c = expected_confusion([0.9, 0.2, 0.6], [True, False, True])
    assert c == pytest.approx({"tp": 1.5, "fp": 0.5, "fn": 0.2, "tn": 0.8})
    r = expected_rates([0.9, 0.2, 0.6], [True, False, True])
    assert r["precision"] == pytest.approx(0.75) and r["recall"] == pytest.approx(1.5 / 1.7)


def test_with_certain_probabilities_the_expected_roc_auc_is_the_roc_auc():
    rng = np.random.default_rng(1)
    score = rng.integers(0, 20, 500) / 20  # ties included
    y = (rng.random(500) < score).astype(float)
    assert expected_roc_auc(score, y) == pytest.approx(roc_auc(y, score), abs=1e-12)
    assert expected_roc_auc(score, np.zeros(500)) is None  # no expected positive


def test_calibrated_scores_estimate_the_realized_roc_auc_within_the_noise():
    _, p, y = population(0)
    realized, se = roc_auc(y, p), bootstrap_se(y, p)
    assert 0.005 < se < 0.02
    assert abs(expected_roc_auc(p, p) - realized) < 3 * se
    assert fit_calibration(y, p).method == "none"  # nothing to fix


def test_overconfident_scores_mislead_cbpe_until_calibrated_on_reference_rows():
    z, p, y = population(0)
    sharp = 1 / (1 + np.exp(-3 * z))  # the same ranking, over-confident probabilities
    realized, se = roc_auc(y, sharp), bootstrap_se(y, sharp)
    assert realized == pytest.approx(roc_auc(y, p))  # a monotone change leaves the ranking as it was
    assert abs(expected_roc_auc(sharp, sharp) - realized) > 5 * se  # raw: far off
    z_ref, _, y_ref = population(7)  # the run's test rows: the same process, other rows
    cal = fit_calibration(y_ref, 1 / (1 + np.exp(-3 * z_ref)))
    assert cal.method in ("isotonic", "platt") and cal.ece > cal.noise and cal.ece_after < cal.ece / 3
    assert abs(expected_roc_auc(sharp, cal.apply(sharp)) - realized) < 3 * se  # calibrated: close again
    assert "not calibrated" in cal.sentence() and "fitted on those test rows" in cal.sentence()


def test_few_positives_pick_the_calibrator_that_predicts_held_out_rows_better():
    # 0.5 % positives whose scores sit far above the rest: a logistic curve cannot follow them, a step can.
    rng = np.random.default_rng(3)
    n = 4000
    y = (rng.random(n) < 0.005).astype(int)
    score = np.where(y == 1, rng.uniform(0.7, 1.0, n), rng.uniform(0.2, 0.75, n))
    cal = fit_calibration(y, score)
    assert cal.method == "isotonic"
    assert abs(expected_roc_auc(score, cal.apply(score)) - roc_auc(y, score)) < 0.05


def test_the_calibration_is_fitted_once_and_saved(tmp_path):
    z, _, y = population(2, 1500)
    ref = pd.DataFrame({"score": 1 / (1 + np.exp(-3 * z)), "label": y})
    first = get_calibration(tmp_path, ref)
    assert (tmp_path / "calibration.json").is_file()
    again = get_calibration(tmp_path, ref)
    assert again.to_dict() == first.to_dict()
    assert get_calibration(tmp_path, None).method == "unchecked"


def test_ece_is_the_gap_between_mean_score_and_positive_share():
    y = np.tile([1, 0, 0, 0, 0], 20)  # a positive share of 0.2 in each of the ten bins
    assert expected_calibration_error(y, np.full(100, 0.2)) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(y, np.full(100, 0.3)) == pytest.approx(0.1)
