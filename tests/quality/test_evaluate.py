import numpy as np
import pytest

from core.errors import DataValidationError
from core.quality.evaluate import (
    compute_cost_analysis,
    compute_defect_metrics,
    compute_multiclass_metrics,
    get_defect_labels,
    get_defect_scores,
    get_error_gallery,
    get_predictions_frame,
)

CLASSES = ("crack", "ok", "pit")


def test_multiclass_metrics_by_hand():
    y = np.array([0, 0, 1, 1, 1, 2])
    # predictions: 0, 1, 1, 1, 0, 2
    proba = np.array([[.8, .1, .1], [.3, .6, .1], [.1, .8, .1], [.2, .7, .1], [.5, .4, .1], [.1, .1, .8]])
    m = compute_multiclass_metrics(y, proba, CLASSES)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["crack"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["crack"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["ok"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["pit"]["f1"] == pytest.approx(1.0)
    assert m["macro_recall"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert m["confusion"] == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert m["per_class"]["pit"]["roc_auc"] == pytest.approx(1.0)
    assert 0 < m["roc_auc"] <= 1


def test_multiclass_shape_checks():
    with pytest.raises(DataValidationError, match="one probability per class"):
        compute_multiclass_metrics([0, 1], np.ones((2, 2)), CLASSES)
    with pytest.raises(DataValidationError, match="at least one test image"):
        compute_multiclass_metrics([], np.ones((0, 3)), CLASSES)


def test_defect_scores_and_labels():
    proba = np.array([[.1, .9, 0], [.5, .2, .3]])
    assert get_defect_scores(proba, CLASSES, "ok") == pytest.approx([0.1, 0.8])
    assert get_defect_labels([1, 0, 2], CLASSES, "ok").tolist() == [0, 1, 1]
    with pytest.raises(DataValidationError, match="none is marked as OK"):
        get_defect_scores(proba, CLASSES, None)


def test_defect_metrics_escape_rate():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([.9, .8, .4, .1, .6, .2, .1, .1, .0, .3])
    m = compute_defect_metrics(y, p, threshold=0.5)
    assert m["defect_recall"] == pytest.approx(0.5)
    assert m["escape_rate"] == pytest.approx(0.5)
    assert m["false_reject_rate"] == pytest.approx(1 / 6)
    assert m["reject_rate"] == pytest.approx(0.3)
    assert (m["escapes"], m["false_rejects"], m["caught"]) == (2, 1, 2)


def test_cost_curve_and_optimal_threshold():
    y = np.array([1, 1, 0, 0, 0, 0])
    p = np.array([.7, .35, .5, .2, .1, .0])
    a = compute_cost_analysis(y, p, cost_escape=10, cost_false_reject=1, threshold=0.6)
    # At 0.6: one escape (p=.35) -> 10 / 6 per part.
    assert a.cost_at_threshold == pytest.approx(10 / 6)
    # Best: reject .35 and above -> one false reject (p=.5) -> 1 / 6.
    assert a.best_cost == pytest.approx(1 / 6)
    assert 0.2 < a.best_threshold <= 0.35
    row = a.curve.loc[(a.curve["threshold"] - 0.6).abs().idxmin()]
    assert row["reject_rate"] == pytest.approx(1 / 6)
    # Expensive false rejects: reject only the sure defect (p=.7), let the other escape.
    b = compute_cost_analysis(y, p, cost_escape=0.1, cost_false_reject=5, threshold=0.5)
    assert 0.5 < b.best_threshold <= 0.7 and b.best_cost == pytest.approx(0.1 / 6)


def test_cost_validation():
    with pytest.raises(DataValidationError, match="Threshold must be between 0 and 1"):
        compute_cost_analysis([0, 1], [0.1, 0.9], cost_escape=1, cost_false_reject=1, threshold=1.5)
    with pytest.raises(DataValidationError, match="must be zero or more"):
        compute_cost_analysis([0, 1], [0.1, 0.9], cost_escape=-1, cost_false_reject=1)


def test_error_gallery_orders_most_wrong_first():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([.6, .9, .1, .2, .05, .8])
    g = get_error_gallery(y, p, 0.5)
    assert g["false_rejects"].tolist() == [1, 0]
    assert g["escapes"].tolist() == [4, 3]


def test_predictions_frame():
    proba = np.array([[.1, .9, 0], [.5, .2, .3]])
    df = get_predictions_frame(["a.png", "b.png"], [1, 2], proba, CLASSES, "ok", 0.5)
    assert df["predicted"].tolist() == ["ok", "crack"]
    assert df["actual"].tolist() == ["ok", "pit"]
    assert df["verdict"].tolist() == ["pass", "reject"]
    assert df["p_defect"].tolist() == pytest.approx([0.1, 0.8])


def test_optimal_threshold_is_the_middle_of_a_tied_range():
    # Perfect separation between 0.2 and 0.8: every threshold in (0.2, 0.8] costs nothing.
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([.0, .1, .2, .8, .9, 1.0])
    a = compute_cost_analysis(y, p, cost_escape=10, cost_false_reject=1)
    assert a.best_cost == 0
    assert a.best_threshold == pytest.approx(0.5, abs=0.011)
