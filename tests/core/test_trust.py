"""The trust rule (core.report.trust and each scenario's core/<name>/trust.py) on hand-made scores: random
scores are no better than chance, perfect ones too good to be true, a line that declines everyone
degenerate, a forecast worse than repeating last season worse than a naive forecast; honest results
get no flag, and each threshold is checked on both sides of its boundary."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.credit.trust import TOO_GOOD_ROC_AUC, credit_trust
from core.errors import DataValidationError
from core.fraud.trust import fraud_trust
from core.report.trust import (NO_BETTER_THAN_CHANCE, TOO_GOOD, WORSE_THAN_CHANCE, Trust, TrustFlag, check_blanket,
                        check_chance, check_degenerate, check_too_good, share_text, verdict_json)
from core.ml.verdict import compare_binary, roc_auc_interval

COSTS = dict(loss_default=5000.0, margin_good=1000.0)


def _credit(n=2000, seed=0, noise=2.0, rate=0.13):
    """0/1 outcomes and probabilities that rank them with ``noise`` (0: perfectly)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    p = 1 / (1 + np.exp(-(3 * y - 2.5 + noise * rng.normal(size=n))))
    return y, p


def kinds(trust: Trust) -> list[str]:
    return [f.kind for f in trust.flags]


# ---------------------------------------------------------------- the network's own interval
def test_roc_auc_interval_is_sklearns_value_inside_its_interval_and_macro_for_classes():
    y, p = _credit(n=800, noise=1.5)
    value, low, high = roc_auc_interval(y, p)
    assert value == pytest.approx(roc_auc_score(y, p)) and low < value < high
    assert roc_auc_interval(y, p) == (value, low, high)  # seeded
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 600)
    proba = rng.dirichlet(np.ones(3), 600) + np.eye(3)[labels] * 0.3
    macro = np.mean([roc_auc_score(labels == c, proba[:, c]) for c in range(3)])
    assert roc_auc_interval(labels, proba)[0] == pytest.approx(macro)


def test_roc_auc_interval_needs_two_classes():
    with pytest.raises(DataValidationError, match="needs test rows of two or more classes"):
        roc_auc_interval(np.zeros(50, int), np.random.default_rng(0).random(50))


# ---------------------------------------------------------------- chance
def test_random_scores_are_no_better_than_chance_and_reversed_ones_worse():
    y, _ = _credit()
    rand = np.random.default_rng(5).random(len(y))
    trust = credit_trust(y, rand, threshold=0.5, **COSTS)
    assert trust.flags[0].kind == "chance" and trust.flags[0].headline == NO_BETTER_THAN_CHANCE
    assert "holds 0.5, what random scores get" in trust.flags[0].why
    _, p = _credit()
    reversed_ = credit_trust(y, 1 - p, threshold=0.5, **COSTS).flags[0]
    assert reversed_.headline == WORSE_THAN_CHANCE and "wrong way round" in reversed_.why


def test_chance_boundary_is_the_interval_touching_one_half():
    assert check_chance(0.53, 0.5, 0.56).headline == NO_BETTER_THAN_CHANCE  # holds 0.5 at its edge
    assert check_chance(0.53, 0.5001, 0.56) is None
    assert check_chance(0.45, 0.40, 0.4999).headline == WORSE_THAN_CHANCE
    assert check_chance(float("nan"), 0.4, 0.6) is None  # nothing measured, nothing said


# ---------------------------------------------------------------- too good to be true
def test_a_perfect_credit_score_is_too_good_and_the_limit_is_inclusive():
    y, _ = _credit()
    trust = credit_trust(y, y * 0.8 + 0.1, threshold=0.5, **COSTS)
    assert kinds(trust) == ["too_good"] and trust.flags[0].headline == TOO_GOOD
    assert "ROC-AUC of 1.000 is at or above 0.980" in trust.flags[0].why
    kw = dict(metric="ROC-AUC", usual="credit models reach 0.70–0.87")
    assert check_too_good(TOO_GOOD_ROC_AUC, TOO_GOOD_ROC_AUC, **kw) is not None
    assert check_too_good(np.nextafter(TOO_GOOD_ROC_AUC, 0), TOO_GOOD_ROC_AUC, **kw) is None
    # An error is too good at or *below* its limit.
    assert check_too_good(0.3, 0.3, metric="MASE", usual="", higher_is_better=False) is not None
    assert check_too_good(0.31, 0.3, metric="MASE", usual="", higher_is_better=False) is None


# ---------------------------------------------------------------- degenerate decisions
def test_a_line_declining_everyone_or_no_one_is_degenerate_with_its_share():
    y, p = _credit()
    everyone = credit_trust(y, p, threshold=0.0, **COSTS)
    # Declining everyone earns nothing where approving everyone earns (87 % repay at a 1:5 margin).
    assert kinds(everyone) == ["below_blanket", "degenerate"]
    assert everyone.flags[0].headline == "Worse than approving everyone"
    assert everyone.flags[1].headline == "Declines 100.0 % of applicants"
    assert "declines almost all applicants" in everyone.flags[1].why
    nobody = credit_trust(y, p, threshold=1.0, **COSTS)
    assert "degenerate" in kinds(nobody) and nobody.flags[-1].headline == "Declines 0.0 % of applicants"


def test_degenerate_boundaries_follow_the_share_and_the_prevalence():
    kw = dict(verb="declines", rows="applicants", at="the decline threshold 0.5")
    assert check_degenerate(0.95, 0.10, **kw).headline == "Declines 95.0 % of applicants"
    assert check_degenerate(0.9499, 0.10, **kw) is None
    assert check_degenerate(0.005, 0.10, **kw) is not None
    assert check_degenerate(0.0051, 0.10, **kw) is None
    # A fraud policy alerting on 0.4 % of a log with 0.2 % fraud is what it should be...
    assert check_degenerate(0.004, 0.002, verb="alerts on", rows="transactions", at="t") is None
    # ... on 0.01 % of it, almost no one.
    assert check_degenerate(0.0001, 0.002, verb="alerts on", rows="transactions", at="t").headline == \
        "Alerts on 0.01 % of transactions"
    # Rejecting 96 % of parts when 97 % are defective is not rejecting "almost everyone".
    assert check_degenerate(0.96, 0.97, verb="rejects", rows="parts", at="t") is None


def test_share_text_keeps_small_shares_visible():
    assert share_text(0.998) == "99.8 %" and share_text(0.0004) == "0.04 %" and share_text(0.0) == "0.0 %"
    assert share_text(0.9996) == "99.96 %" and share_text(1.0) == "100.0 %"


# ---------------------------------------------------------------- worse than a blanket rule
def test_a_line_earning_less_than_declining_everyone_is_flagged_and_a_tie_is_not():
    y, p = _credit(rate=0.3)  # 30 % default: above 1 in 6, approving everyone loses money
    trust = credit_trust(y, p, threshold=0.95, **COSTS)  # approves nearly every defaulter at €5,000 each
    flag = next(f for f in trust.flags if f.kind == "below_blanket")
    assert flag.headline == "Worse than declining everyone" and "against €0 for declining everyone" in flag.why
    money = str
    assert check_blanket(10.0, {"declining everyone": 10.0}, measure="profit", at="t", money=money) is None
    assert check_blanket(9.0, {"declining everyone": 10.0}, measure="profit", at="t", money=money) is not None
    # Lower is better for a cost: passing every part at 0.5 per part beats a line costing 0.6.
    worse = check_blanket(0.6, {"passing every part": 0.5, "rejecting every part": 1.8}, measure="cost per part",
                          at="t", money=money, higher_is_better=False)
    assert worse.headline == "Worse than passing every part"


def test_a_test_set_of_one_outcome_is_judged_on_its_decision_only():
    y, p = _credit()
    none_default = y[y == 0], p[y == 0]  # no ranking to judge: no chance and no too-good flag, no error
    # With no defaulter to catch, every decline costs a margin: the line loses to approving everyone.
    assert kinds(credit_trust(*none_default, threshold=0.3, **COSTS)) == ["below_blanket"]
    assert kinds(credit_trust(*none_default, threshold=0.0, **COSTS)) == ["below_blanket", "degenerate"]
    assert fraud_trust(*none_default, np.ones(len(none_default[0])), review_threshold=1.0, review_fee=5.0).trusted


def test_an_honest_credit_model_at_a_sensible_line_gets_no_flag():
    y, p = _credit()
    trust = credit_trust(y, p, threshold=0.3, **COSTS)
    assert trust.trusted and trust.flags == () and trust.summary() == ""


# ---------------------------------------------------------------- fraud
def test_fraud_flags_random_scores_and_a_review_line_on_no_transaction():
    rng = np.random.default_rng(2)
    n = 20_000
    y = (rng.random(n) < 0.01).astype(int)
    amounts = rng.exponential(80, n)
    trust = fraud_trust(y, rng.random(n), amounts, review_threshold=0.9999, review_fee=5.0)
    assert kinds(trust)[0] == "chance" and "degenerate" in kinds(trust)
    assert trust.flags[-1].headline.startswith("Alerts on 0.0")
    honest = 1 / (1 + np.exp(-(4 * y - 4 + rng.normal(size=n))))
    assert fraud_trust(y, honest, amounts, review_threshold=0.5, review_fee=5.0).trusted
    leaked = fraud_trust(y, y * 0.98 + 0.01, amounts, review_threshold=0.5, review_fee=5.0)
    assert kinds(leaked) == ["too_good"] and "PR-AUC of 1.000" in leaked.flags[0].why


# ---------------------------------------------------------------- the saved form
def test_flags_round_trip_old_runs_show_nothing_and_a_search_drops_first_try_warnings():
    trust = Trust.of(TrustFlag("degenerate", "Declines 99.8 % of applicants", "why"), None,
                     TrustFlag("chance", NO_BETTER_THAN_CHANCE, "why"),
                     TrustFlag("too_good", TOO_GOOD, "why", first_try=True))
    assert kinds(trust) == ["chance", "too_good", "degenerate"]  # the order of KINDS
    assert Trust.from_saved(trust.to_list()) == trust
    assert Trust.from_saved(None) is None and Trust.from_saved({"kind": "chance"}) is None
    assert Trust.from_saved([]) == Trust() and Trust.from_saved([]).trusted
    assert Trust.from_saved([{"kind": "chance"}, "junk", trust.to_list()[0]]).headlines() == [NO_BETTER_THAN_CHANCE]
    assert kinds(trust.after_search()) == ["chance", "degenerate"]
    assert trust.notices()[0] == f"Warning — {NO_BETTER_THAN_CHANCE}: why"


def test_a_search_run_on_purpose_drops_the_first_try_warnings_of_the_saved_run():
    from core.search.scenarios import attach_search

    flags = [TrustFlag("too_good", TOO_GOOD, "MASE of 0.25", first_try=True).to_dict(),
             TrustFlag("degenerate", "Declines 99.8 % of applicants", "why").to_dict()]
    section = {k: 1 for k in ("budget_seconds", "seconds", "trials_run", "trials_complete", "best_trial", "seed",
                              "best_validation_score", "recipe_validation_score")} | {"metric_label": "MAE"}
    ws = attach_search({"headline": {"trust": flags}}, section)
    assert [f["kind"] for f in ws["headline"]["trust"]] == ["degenerate"] and ws["search"] == section
    assert "trust" not in attach_search({"headline": {}}, section)["headline"]  # an older summary stays as it was


def test_verdict_json_holds_the_verdict_its_interval_and_the_flags():
    y, p = _credit(n=600, noise=1.5)
    verdict = compare_binary(y, p, {"lr": p + np.random.default_rng(0).normal(scale=0.2, size=len(p))})
    flag = TrustFlag("chance", NO_BETTER_THAN_CHANCE, "why")
    out = verdict_json(verdict, Trust.of(flag), more=[verdict])
    assert out["outcome"] == verdict.outcome and out["low"] == verdict.low and out["high"] == verdict.high
    assert out["trusted"] is False and out["trust"] == [flag.to_dict()] and out["sentence"] == verdict.sentence()
    assert out["more"][0]["metric"] == "ROC-AUC"
    assert verdict_json(None, Trust()) == {"outcome": None, "trusted": True, "trust": []}


# ---------------------------------------------------------------- demand (a run's backtest by hand)
def _demand_run(nn_noise: float, *, naive_noise: float = 4.0, mase: float = 0.8, n=3000, seed=0, holiday=False):
    rng = np.random.default_rng(seed)
    y = 100 + 20 * np.sin(np.arange(n) / 3)
    bt = pd.DataFrame({"y": y, "nn_p50": y + rng.normal(scale=nn_noise, size=n) if nn_noise else y.copy(),
                       "seasonal_naive_p50": y + rng.normal(scale=naive_noise, size=n),
                       "moving_average_p50": y + rng.normal(scale=3 * naive_noise, size=n)})
    metrics = pd.DataFrame({"mase": [mase, 1.0, 1.4]},
                           index=["Keras quantile network", "Seasonal naive", "Moving average"])
    return SimpleNamespace(backtest=bt, metrics=metrics, holiday_col=None)


def test_demand_worse_than_naive_no_better_than_naive_too_good_and_honest():
    from core.demand.trust import demand_trust

    worse = demand_trust(_demand_run(8.0))
    assert kinds(worse) == ["below_baseline"] and worse.flags[0].headline == "Worse than a naive forecast"
    assert "for seasonal naive, worse outside the noise" in worse.flags[0].why
    same = demand_trust(_demand_run(4.0, seed=3))
    assert kinds(same) == ["chance"] and same.flags[0].headline == "No better than the naive forecast"
    honest = demand_trust(_demand_run(2.0))
    assert honest.trusted
    leaked = demand_trust(_demand_run(0.0, mase=0.05))
    assert kinds(leaked) == ["too_good"] and leaked.flags[0].first_try and "MASE of 0.05" in leaked.flags[0].why
    assert demand_trust(_demand_run(0.0, mase=0.05), searched=True).trusted  # a search run on purpose


def test_demand_mase_of_one_is_worse_than_naive_unless_the_backtest_says_better():
    from core.demand.trust import demand_trust

    on_par = demand_trust(_demand_run(4.0, seed=3, mase=1.0))
    assert kinds(on_par) == ["below_baseline"] and "MASE is 1.00" in on_par.flags[0].why
    assert kinds(demand_trust(_demand_run(4.0, seed=3, mase=0.99))) == ["chance"]
    assert demand_trust(_demand_run(2.0, mase=1.2)).trusted  # beats the naive forecast outside the noise


# ---------------------------------------------------------------- quality (a run's test images by hand)
def _quality_run(labels, proba, *, ok_class="ok", names=("ok", "pit", "scratch")):
    labels = np.asarray(labels)
    counts = {n: int((labels == i).sum()) for i, n in enumerate(names)}
    return SimpleNamespace(test=SimpleNamespace(labels=labels), test_proba=np.asarray(proba, float),
                           class_names=tuple(names), ok_class=ok_class, counts_before=counts,
                           config=SimpleNamespace(threshold=0.5))


def _labels(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(3, size=n, p=[0.6, 0.2, 0.2])


NEU = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def _typing_run(n, wrong=0, seed=0):
    """A defect-typing run on ``n`` balanced test images of six classes, ``wrong`` of them misread."""
    y = np.random.default_rng(seed).permutation(np.arange(n) % 6)
    pred = y.copy()
    pred[:wrong] = (y[:wrong] + 1) % 6
    return _quality_run(y, np.eye(6)[pred] * 0.9 + 0.1 / 6, ok_class=None, names=NEU)


def test_quality_genuine_neu_scores_on_360_test_images_are_not_too_good():
    """The CNN reaches 99.2-99.7 % on NEU's 360 test images, and a model that good is sometimes right on
    all of them: neither 99 % nor a perfect score on so few images says the split leaks."""
    from core.quality.trust import quality_trust

    for wrong in (4, 1, 0):  # 98.9 %, 99.7 %, 100 %
        assert quality_trust(_typing_run(360, wrong)).trusted, wrong


def test_quality_perfect_on_a_thousand_test_images_is_too_good_and_the_bound_decides():
    from core.quality.trust import ACCURACY_CEILING, accuracy_lower_bound, quality_trust

    perfect = quality_trust(_typing_run(1000))
    assert kinds(perfect) == ["too_good"] and "accuracy of 100.0% is at or above 99.9%" in perfect.flags[0].why
    assert "on 1,000 test images even the low end of this score's 95% interval, 99.70%" in perfect.flags[0].why
    assert "near-copy images" in perfect.flags[0].why
    # The bound crosses the ceiling between 997 and 998 images all right; one error needs 1,580.
    assert accuracy_lower_bound(997, 997) < ACCURACY_CEILING <= accuracy_lower_bound(998, 998)
    assert accuracy_lower_bound(360, 360) == pytest.approx(0.05 ** (1 / 360))
    assert accuracy_lower_bound(0, 10) == 0.0 and accuracy_lower_bound(5, 0) == 0.0
    assert quality_trust(_typing_run(997)).trusted
    assert quality_trust(_typing_run(1000, wrong=1)).trusted
    assert kinds(quality_trust(_typing_run(1600, wrong=1))) == ["too_good"]
    # A test set nearly all of one class: always naming it is almost as good, no leak is implied.
    y = np.r_[np.zeros(1900, int), np.ones(50, int), np.full(50, 2)]
    assert quality_trust(_quality_run(y, np.eye(3)[y] * 0.9 + 0.1 / 3)).trusted


def test_quality_always_the_majority_class_and_random_answers():
    from core.quality.trust import quality_trust

    y = _labels(300, seed=1)
    rng = np.random.default_rng(4)
    # Ranks defects well but always names 'ok': its answers are the majority rule's.
    p_ok = 0.9 - 0.3 * (y != 0) + rng.normal(scale=0.02, size=len(y))
    proba = np.c_[p_ok, (1 - p_ok) / 2, (1 - p_ok) / 2]
    trust = quality_trust(_quality_run(y, proba))
    assert kinds(trust) == ["below_baseline"] and trust.flags[0].headline == "No better than the majority class"
    assert "always answering 'ok'" in trust.flags[0].why
    noise = rng.dirichlet(np.ones(3), len(y))
    assert kinds(quality_trust(_quality_run(y, noise)))[:2] == ["chance", "below_baseline"]
    assert quality_trust(_quality_run(y, noise)).flags[1].headline == "Worse than the majority class"


def test_quality_flags_name_the_saved_model_the_cnn_or_its_blend():
    from core.quality.trust import quality_trust

    y = _labels(300, seed=1)
    noise = np.random.default_rng(4).dirichlet(np.ones(3), len(y))
    cnn = quality_trust(_quality_run(y, noise))
    assert kinds(cnn)[:2] == ["chance", "below_baseline"]
    assert all(f.why.startswith("The CNN's ") for f in cnn.flags[:2])
    blend = _quality_run(y, noise)
    blend.recommended, blend.ensemble = "ensemble", {"baseline": "logistic_16px", "weight": 0.75}
    named = quality_trust(blend)
    assert kinds(named) == kinds(cnn)
    assert all(f.why.startswith("The blend of the CNN with the thumbnail regression's ") for f in named.flags[:2])
    assert not any("The CNN's" in f.why for f in named.flags)


def test_quality_reject_line_on_every_part_is_degenerate_and_costs_more_than_passing_all():
    from core.quality.trust import quality_trust

    y = _labels(150, seed=2)
    rng = np.random.default_rng(0)
    proba = np.eye(3)[y] * 0.6 + rng.dirichlet(np.ones(3), len(y)) * 0.4
    good = quality_trust(_quality_run(y, proba), threshold=0.5, cost_escape=50.0, cost_false_reject=2.0)
    assert good.trusted
    everyone = quality_trust(_quality_run(y, proba), threshold=0.0, cost_escape=1.0, cost_false_reject=50.0)
    assert kinds(everyone) == ["below_blanket", "degenerate"]
    assert everyone.flags[0].headline == "Worse than passing every part"
    assert everyone.flags[1].headline == "Rejects 100.0 % of parts"


def test_a_baseline_named_inside_a_sentence_reads_in_lower_case_unless_it_starts_with_an_acronym():
    from core.report.trust import check_below_baseline, mid_sentence
    from core.ml.verdict import Verdict

    worse = Verdict("error rate", 0.955, "Majority class", 0.13, 0.825, 0.7, 0.9, higher_is_better=False)
    flag = check_below_baseline(worse, headline="Worse than the majority class", advice="train longer.",
                                model="The CNN", fmt=".1%")
    assert "against 13.0% for majority class, worse outside the noise" in flag.why
    assert mid_sentence("HGB on 16×16 thumbnails") == "HGB on 16×16 thumbnails"
    assert mid_sentence("Logistic regression") == "logistic regression"
