"""The Overview's words for the scenarios come from the registry: a scenario registered (here a toy without a
demo) is counted and named, and the demo button's words count the demos, not the scenarios."""

from __future__ import annotations

import pytest

from core.store.scenarios import ScenarioBase, ScenarioSpec, register, unregister
from core.workspace.overview import (count_word, demo_runs_phrase, demos_scope, join_names, run_demos_label,
                                     scenarios_sentence)

BUILT_IN = "Four scenarios: credit scoring, fraud detection, demand forecasting and quality inspection."


class _Churn(ScenarioBase):
    key, title, order = "churn_words", "Customer churn", 50
    spec = ScenarioSpec("churn_words", "Customer churn", ":material/person_remove:", "Who leaves?", "A toy.",
                        "CSV", "pages/none.py")

    def build_summary(self, run, **settings):
        return {}

    def score(self, run_dir, meta, df, s, *, progress, reason_rows):
        raise NotImplementedError


@pytest.fixture
def churn():
    register(_Churn())
    yield
    unregister("churn_words")


def test_the_built_in_scenarios_are_counted_and_named():
    assert scenarios_sentence() == BUILT_IN
    assert run_demos_label() == "Run all four demos" and run_demos_label(again=True) == "Run all four demos again"
    assert demos_scope() == "every scenario" and demo_runs_phrase() == "the four demo runs"


def test_a_registered_fifth_scenario_is_counted_and_named_and_the_demos_stay_four(churn):
    assert scenarios_sentence() == ("Five scenarios: credit scoring, fraud detection, demand forecasting, quality "
                                    "inspection and customer churn.")
    assert run_demos_label() == "Run all four demos"  # the toy has no demo
    assert demos_scope() == ("each scenario with a demo (credit scoring, fraud detection, demand forecasting and "
                             "quality inspection)")


def test_numbers_and_lists_in_words():
    assert [count_word(n) for n in (1, 2, 5, 12, 13, 1200)] == ["one", "two", "five", "twelve", "13", "1,200"]
    assert [join_names(x) for x in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == ["", "a", "a and b", "a, b and c"]
