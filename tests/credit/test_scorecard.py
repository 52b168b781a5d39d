import math

import numpy as np
import pytest

from core.credit.scorecard import (
    ScorecardConfig,
    assign_grades,
    compute_grade_table,
    describe_grade,
    compute_score_points,
    parse_grade_cuts,
    score_to_probability,
    threshold_to_points,
)
from core.errors import DataValidationError


def test_base_odds_give_base_score_and_pdo_doubles_odds():
    cfg = ScorecardConfig(base_score=600, base_odds=50, pdo=20)
    p_base = 1 / 51  # odds good:bad of 50:1
    p_double = 1 / 101  # odds 100:1
    pts = compute_score_points([p_base, p_double], cfg)
    assert pts[0] == 600
    assert pts[1] == 620


def test_points_decrease_with_risk_and_invert():
    cfg = ScorecardConfig(base_score=500, base_odds=20, pdo=40)
    p = np.array([0.01, 0.1, 0.3, 0.7])
    pts = compute_score_points(p, cfg)
    assert np.all(np.diff(pts) < 0)
    back = score_to_probability(cfg.offset + cfg.factor * np.log((1 - p) / p), cfg)
    np.testing.assert_allclose(back, p, rtol=1e-9)


def test_extreme_probabilities_stay_finite():
    pts = compute_score_points([0.0, 1.0])
    assert np.all(np.isfinite(pts))


def test_default_cuts_and_grades():
    cfg = ScorecardConfig(base_score=600, pdo=20)
    assert cfg.cuts == (480, 500, 520, 540, 560, 580, 600)
    assert cfg.grades == list("ABCDEFGH")
    grades = assign_grades([650, 600, 599, 480, 479], cfg)
    assert list(grades) == ["A", "A", "B", "G", "H"]


def test_custom_cuts():
    cfg = ScorecardConfig(grade_cuts=(500, 550))
    assert list(assign_grades([400, 520, 560], cfg)) == ["C", "B", "A"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(pdo=0), "Points to double the odds must be a positive"),
        (dict(base_odds=-1), "Base odds .* must be a positive"),
        (dict(grade_cuts=(550, 500)), "strictly increasing"),
        (dict(grade_cuts=tuple(range(20))), "must number between 1 and"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        ScorecardConfig(**kwargs)


def test_parse_grade_cuts():
    assert parse_grade_cuts(" 500, 520;540 ") == (500.0, 520.0, 540.0)
    assert parse_grade_cuts("") is None
    with pytest.raises(DataValidationError, match="numbers separated by commas"):
        parse_grade_cuts("500, abc")


def test_threshold_to_points_matches_scores():
    cfg = ScorecardConfig()
    t = 0.2
    cut = threshold_to_points(t, cfg)
    assert compute_score_points([0.19], cfg)[0] > cut > compute_score_points([0.21], cfg)[0]


def test_grade_table_counts_rates_and_decisions():
    cfg = ScorecardConfig(base_score=600, base_odds=50, pdo=20, grade_cuts=(500, 550, 600))
    points = np.array([620, 610, 560, 555, 520, 510, 450, 440])
    p = score_to_probability(points, cfg)
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    # Threshold whose score is 530: band B (550-600) and A approve, C (500-550) is cut, D declines.
    t = float(score_to_probability(530, cfg))
    table = compute_grade_table(points, p, y, threshold=t, config=cfg)
    assert list(table["grade"]) == ["A", "B", "C", "D"]
    assert list(table["count"]) == [2, 2, 2, 2]
    assert list(table["defaults"]) == [0, 1, 1, 2]
    assert table["default_rate"].tolist() == [0.0, 0.5, 0.5, 1.0]
    assert list(table["decision"]) == ["Approve", "Approve", "Split at 530 points", "Decline"]
    # The split grade's applicants follow the one rule (decline at P(default) >= threshold): 560 and 555 pass, 520
    # and 510 are declined, as the scored file and the what-if decide them.
    assert list(table["approved"]) == [2, 2, 0, 0] and list(table["declined"]) == [0, 0, 2, 2]
    from core.credit.scoring import decide

    for grade, row in table.set_index("grade").iterrows():
        in_grade = assign_grades(points, cfg) == grade
        assert (decide(p[in_grade], t) == "decline").sum() == row["declined"]
    assert describe_grade("C", t, cfg).startswith("Grade C is split by the decline line at 530 points")
    assert describe_grade("A", t, cfg) == "Every applicant of grade A is approved."
    assert describe_grade("D", t, cfg) == "Every applicant of grade D is declined."
    assert math.isclose(table["share"].sum(), 1.0)
    assert table["score_range"].iloc[0] == ">= 600"
    assert table["score_range"].iloc[-1] == "< 500"
