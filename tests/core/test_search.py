"""Budgeted model search: the loop (budget, pruning, determinism, fallback), the tabular objective
(test rows never used, same trials for the same seed) and the CLI flag."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.search import check_budget, run_search
from core.search.charts import plot_optimisation_history, plot_param_importance
from core.search.tabular import TabularObjective, split_for_search


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class QuadraticObjective:
    """A network stand-in: the score peaks at x = 0.3, epochs advance a clock."""

    clock: FakeClock | None = None
    epoch_seconds: float = 1.0
    epochs: int = 5
    name: str = "toy"
    metric: str = "score"
    metric_label: str = "validation score"
    direction: str = "maximize"
    real_sleep: float = 0.0
    values: bool = True  # report a value each epoch (lets the pruner act)

    def default_params(self) -> dict:
        return {"x": 0.9, "k": "a"}

    def suggest(self, trial) -> dict:
        return {"x": trial.suggest_float("x", 0.0, 1.0), "k": trial.suggest_categorical("k", ["a", "b"])}

    def evaluate(self, params, report) -> float:
        final = 1 - (params["x"] - 0.3) ** 2 + (0.05 if params["k"] == "b" else 0)
        for e in range(1, self.epochs + 1):
            if self.clock is not None:
                self.clock.now += self.epoch_seconds
            if self.real_sleep:
                time.sleep(self.real_sleep)
            report(e, final * e / self.epochs if self.values else None)
        return final


def test_budget_is_honoured_a_trial_is_stopped_at_the_first_epoch_past_it():
    clock = FakeClock()
    res = run_search(QuadraticObjective(clock=clock, epoch_seconds=1.0, values=False), budget=23, seed=0,
                     clock=clock)
    # Five one-second epochs a trial: four trials end at 20 s; the fifth is stopped at its epoch
    # ending at 24 s, the first past the budget.
    assert [t.state for t in res.trials] == ["complete"] * 4 + ["stopped"]
    assert res.trials[-1].epochs == 4
    assert res.seconds == 24 <= 23 * 1.1
    assert res.found and res.best.score >= res.default_score


def test_no_trial_starts_that_could_not_reach_its_first_epoch():
    clock = FakeClock()
    res = run_search(QuadraticObjective(clock=clock, epoch_seconds=1.0, values=False), budget=20.5, seed=0,
                     clock=clock)
    assert [t.state for t in res.trials] == ["complete"] * 4
    assert res.seconds == 20


def test_the_budget_counts_from_when_the_search_was_asked_for():
    """Preparation before the loop (features, images) and loading TensorFlow are part of the wait:
    with 10 of 23 s already spent when the loop starts, two five-second trials fit, not four."""
    clock = FakeClock()
    asked = clock()
    clock.now += 10.0  # what the scenario prepared before the loop
    res = run_search(QuadraticObjective(clock=clock, epoch_seconds=1.0, values=False), budget=23, seed=0,
                     clock=clock, started=asked)
    assert [t.state for t in res.trials] == ["complete"] * 2 + ["stopped"]
    assert res.seconds == 24 <= 23 * 1.1


def test_budget_with_the_real_clock_ends_the_search():
    """The loop on the real clock (the fake-clock tests above check where it stops)."""
    res = run_search(QuadraticObjective(real_sleep=0.05, epochs=4), budget=1, seed=0)
    assert len(res.trials) >= 1  # it may end before the budget rather than start a trial it cannot finish
    assert res.trials[-1].state in {"stopped", "pruned", "complete"}
    assert all(t.state != "failed" for t in res.trials)


def test_same_seed_gives_the_same_trials_and_best_trial():
    a = run_search(QuadraticObjective(clock=FakeClock()), budget=600, seed=7, n_trials=12, clock=FakeClock())
    b = run_search(QuadraticObjective(clock=FakeClock()), budget=600, seed=7, n_trials=12, clock=FakeClock())
    c = run_search(QuadraticObjective(clock=FakeClock()), budget=600, seed=8, n_trials=12, clock=FakeClock())
    assert len(a.trials) == 12
    assert [(t.params, t.state, t.score) for t in a.trials] == [(t.params, t.state, t.score) for t in b.trials]
    assert a.best.number == b.best.number and a.best_params == b.best_params
    assert [t.params for t in a.trials[1:]] != [t.params for t in c.trials[1:]]
    # Trial 0 is today's recipe, whatever the seed.
    assert a.trials[0].params == c.trials[0].params == {"x": 0.9, "k": "a"}


def test_search_beats_the_recipe_and_prunes_weak_trials():
    res = run_search(QuadraticObjective(), budget=600, seed=0, n_trials=25)
    assert res.best.score > res.default_score
    assert abs(res.best_params["x"] - 0.3) < 0.25
    assert any(t.state == "pruned" for t in res.trials)
    assert set(res.importances) == {"x", "k"}
    frame = res.trials_frame()
    assert list(frame.columns[:5]) == ["trial", "state", "validation score", "seconds", "epochs"]
    assert len(frame) == len(res.trials)


def test_budget_too_small_for_one_trial_keeps_todays_recipe():
    clock = FakeClock()
    res = run_search(QuadraticObjective(clock=clock, epoch_seconds=2.0), budget=1, seed=0, clock=clock)
    assert not res.found
    assert [t.state for t in res.trials] == ["stopped"]
    assert res.best_params == {"x": 0.9, "k": "a"}
    assert any("too small for one trial" in n and "today's recipe" in n for n in res.notices)
    d = res.to_dict()
    assert d["best_trial"] is None and d["best_params"] == d["recipe_params"]


def test_a_failing_setting_is_recorded_and_the_search_goes_on():
    class Picky(QuadraticObjective):
        def evaluate(self, params, report):
            if params["k"] == "b":
                raise DataValidationError("SMOTE needs at least 6 rows of the rare class")
            return super().evaluate(params, report)

    res = run_search(Picky(), budget=600, seed=0, n_trials=8)
    failed = [t for t in res.trials if t.state == "failed"]
    assert failed and "SMOTE" in failed[0].note
    assert res.found and res.best.params["k"] == "a"


def test_progress_reports_epochs_and_trials():
    events = []
    run_search(QuadraticObjective(), budget=600, seed=0, n_trials=2, progress=events.append)
    kinds = [e.kind for e in events]
    assert kinds.count("trial") == 2 and kinds.count("epoch") >= 5
    last = events[-1]
    assert last.trials_done == 2 and last.best is not None


@pytest.mark.parametrize("budget", [0, -5, "soon", float("nan"), 10 ** 6])
def test_budget_errors(budget):
    with pytest.raises(DataValidationError, match="search budget must be between 1 and 21600 seconds"):
        check_budget(budget)


def test_trial_cap_error():
    with pytest.raises(DataValidationError, match="trial cap must be 1 or more; got 0"):
        run_search(QuadraticObjective(), budget=10, n_trials=0)


def test_charts_from_the_trials():
    res = run_search(QuadraticObjective(), budget=600, seed=0, n_trials=8)
    hist = plot_optimisation_history(res)
    scores = [t.score for t in res.trials if t.state == "complete"]
    best_line = [tr for tr in hist.data if tr.name == "best so far"][0]
    assert max(best_line.y) == pytest.approx(max(scores))
    assert list(best_line.y) == sorted(best_line.y)
    imp = plot_param_importance(res)
    assert sorted(imp.data[0].customdata) == sorted(res.importances)  # raw names on hover, plain names on the axis


# ---------------------------------------------------------------- the tabular objective
def _credit_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"income": rng.normal(50, 10, n), "debt": rng.normal(size=n),
                       "region": rng.choice(["north", "south", "east"], n)})
    logit = 0.08 * (50 - df["income"]) + df["debt"] - 1.2
    df["default"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def test_split_for_search_by_time_keeps_the_latest_rows_for_validation():
    y = np.array([0, 1] * 10)
    times = np.arange(20)[::-1]  # the first rows are the latest
    fit, val = split_for_search(y, times=times, val_fraction=0.2)
    assert sorted(val.tolist()) == [0, 1, 2, 3]
    assert times[val].min() > times[fit].max()


def test_split_for_search_needs_both_outcomes():
    with pytest.raises(DataValidationError, match="at least 2 rows of each outcome in its validation rows"):
        split_for_search(np.array([1, 1] + [0] * 18), times=np.arange(20), val_fraction=0.2)


def test_unknown_search_metric():
    from core.ml.tabular import TabularConfig

    df = _credit_frame(40)
    with pytest.raises(DataValidationError, match="search metric must be one of"):
        TabularObjective(df, df["default"].to_numpy(), df, df["default"].to_numpy(), ["income"], [],
                         TabularConfig(), metric="accuracy")


def test_best_trial_replaces_the_recipe_only_outside_the_noise():
    from core.ml.tabular import TabularConfig

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(150, int), np.ones(50, int)]
    df = pd.DataFrame({"a": rng.normal(size=200)})
    obj = TabularObjective(df, y, df, y, ["a"], [], TabularConfig())
    recipe = rng.random(200)
    clear_lead = y * 0.6 + rng.random(200) * 0.5
    keep, details = obj.confirm(clear_lead, recipe)
    assert keep and details["low"] > 0
    # Predictors that ignore the outcome: whichever leads, the lead is chance, and it should
    # replace the recipe about 5 % of the time (the upper tail of a 90 % interval).
    leads = []
    for _ in range(40):
        chance = rng.random(200)
        keep, details = obj.confirm(chance, recipe)
        if details["difference"] > 0:
            leads.append(keep)
    assert len(leads) >= 10 and sum(leads) <= 0.2 * len(leads)


def test_the_check_is_stricter_for_the_best_of_many_trials():
    """The best of 11 settings must lead by more than one setting alone: the interval widens from
    90 % to 1 - 0.1 / 11 (99.1 %), so a lead that passes for one comparison can fail for eleven."""
    from core.search.engine import confirm_boots, confirm_level
    from core.ml.tabular import TabularConfig

    assert confirm_level(1) == pytest.approx(0.9) and confirm_level(11) == pytest.approx(1 - 0.1 / 11)
    assert confirm_boots(0.9) == 300 and confirm_boots(confirm_level(11)) == 2000
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(120, int), np.ones(40, int)]
    df = pd.DataFrame({"a": rng.normal(size=160)})
    obj = TabularObjective(df, y, df, y, ["a"], [], TabularConfig())
    recipe = y * 0.3 + rng.random(160)
    found = None
    for k in range(200):  # a modest lead: above zero at 90 %, not at 99.1 %
        noise = np.random.default_rng(k).random(160)
        best = 0.7 * recipe + 0.3 * noise + y * 0.05
        one = obj.confirm(best, recipe)
        many = obj.confirm(best, recipe, comparisons=11)
        if one[0] and not many[0]:
            found = (one, many)
            break
    assert found is not None
    one, many = found
    assert one[1]["low"] > 0 >= many[1]["low"] and many[1]["low"] < one[1]["low"]
    assert one[1]["sentence"].startswith("90% interval") and many[1]["sentence"].startswith("99.1% interval")


def test_recipe_kept_when_the_best_lead_is_noise():
    @dataclass
    class Noisy(QuadraticObjective):
        def evaluate(self, params, report):
            return super().evaluate(params, report), params["x"]

        def confirm(self, best, recipe, *, comparisons=1):
            seen.append(comparisons)
            return False, {"sentence": "90% interval of the difference -0.01 to +0.02"}

    seen = []
    res = run_search(Noisy(), budget=600, seed=0, n_trials=6)
    # The best trial was picked from the 5 completed trials besides the recipe.
    assert seen == [sum(t.state == "complete" and t.number != 0 for t in res.trials)] and seen[0] >= 2
    assert res.best.number != 0 and res.selected.number == 0
    assert res.to_dict()["selection"]["comparisons"] == seen[0]
    assert any(f"the best of {seen[0]} settings compared with it" in n for n in res.notices)
    assert res.best_params == res.default_params
    assert any("inside the noise" in n and "today's recipe is kept" in n for n in res.notices)
    assert res.to_dict()["selected_trial"] == 0


def _recording_train_tabular(calls):
    """Stands in for core.ml.tabular.train_tabular: records the rows it gets, scores by a formula."""

    def fake(train_df, y_train, test_df, y_test, *, numeric, categorical, config, progress=None, status=None):
        calls.append((train_df.index.to_numpy(), test_df.index.to_numpy()))
        score = 0.7 + 0.1 * config.dropout - 0.01 * config.depth
        for e in range(1, 4):
            if progress is not None:
                progress(e, 3, {"val_roc_auc": score, "val_pr_auc": score / 2})
        # Network and baselines: the outcome plus independent noise, so a blend is better than each.
        y = np.asarray(y_test, dtype=float)
        proba = {name: y + np.random.default_rng(i).normal(0, 0.8, len(y))
                 for i, name in enumerate(("network", *config.baselines))}
        return SimpleNamespace(metrics={"network": {"roc_auc": score, "pr_auc": score / 2}}, proba=proba)

    return fake


def test_credit_search_never_touches_the_test_rows(monkeypatch):
    import core.ml.tabular
    from core.credit.pipeline import prepare_credit_data, split_rows
    from core.credit.search import search_credit

    calls = []
    monkeypatch.setattr(core.ml.tabular, "train_tabular", _recording_train_tabular(calls))
    df = _credit_frame(400)
    search = search_credit(df, target="default", budget=600, n_trials=6, test_size=0.25, ensemble=True)
    _, y, _ = prepare_credit_data(df, target="default")
    train_rows, test_rows = split_rows(y, test_size=0.25, seed=0)
    assert len(calls) == 7  # six trials and the ensemble check, all on the same fitting / validation rows
    assert all(np.array_equal(c[0], calls[0][0]) and np.array_equal(c[1], calls[0][1]) for c in calls)
    seen = set()
    for fit_idx, val_idx in calls:
        assert not set(fit_idx) & set(test_rows)
        assert not set(val_idx) & set(test_rows)
        assert not set(fit_idx) & set(val_idx)
        seen |= set(fit_idx) | set(val_idx)
    assert seen == set(train_rows)
    assert search.result.found and search.result.trials[0].params["depth"] == 2
    ens = search.ensemble
    sc = ens["validation_scores"]
    assert ens["use"] and sc["ensemble"] > max(sc["network"], sc["logistic_regression"], sc["gradient_boosting"])
    assert ens["weight"] in (0.25, 0.5, 0.75) and ens["baseline"] in ("logistic_regression", "gradient_boosting")
    assert len(ens["candidates"]) == 6 and ens["label"].startswith("Ensemble: ")
    assert search.result.to_dict()["ensemble"]["use"]


def test_fraud_search_validates_on_the_latest_training_days_only(monkeypatch):
    import core.ml.tabular
    from core.fraud.columns import make_columns, prepare_log
    from core.fraud.split import split_by_time
    from core.fraud.search import search_fraud

    import core.fraud.pipeline  # noqa: F401  imported before the patch, so it keeps the real train_tabular

    calls = []
    monkeypatch.setattr(core.ml.tabular, "train_tabular", _recording_train_tabular(calls))
    raw = pd.read_csv("sample_data/fraud_transactions.csv.gz")
    cols = make_columns(raw)
    search, config = search_fraud(raw, cols, budget=600, n_trials=3)
    log = prepare_log(raw, cols)
    split = split_by_time(log, cols)
    times = log[cols.time].to_numpy()
    for fit_idx, val_idx in calls:
        assert set(fit_idx) | set(val_idx) <= set(split.train_idx)
        assert not (set(fit_idx) | set(val_idx)) & set(split.test_idx)
        assert times[val_idx].min() >= times[fit_idx].max()
    assert search.result.metric == "pr_auc"
    chosen = search.result.selected
    assert (config.tabular.dropout == chosen.params["dropout"]) if chosen.number else config.auto_batch


def test_tabular_search_is_deterministic_for_the_same_seed():
    from core.credit.pipeline import default_credit_config
    from core.credit.search import search_credit

    df = _credit_frame(240)
    cfg = default_credit_config(epochs=2)
    runs = [search_credit(df, target="default", budget=600, n_trials=2, config=cfg).result for _ in range(2)]
    a, b = runs
    assert [t.state for t in a.trials] == ["complete"] * 2
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.score for t in a.trials] == [t.score for t in b.trials]
    assert a.best.number == b.best.number


# ---------------------------------------------------------------- ensemble
def _auc(y):
    from sklearn.metrics import roc_auc_score

    return lambda p: float(roc_auc_score(y, p))


def sc_net_below(ens) -> bool:
    return ens["validation_scores"]["network"] < ens["validation_scores"]["ensemble"]


def test_ensemble_is_used_when_it_beats_the_network_on_validation_and_says_whether_it_beats_the_baseline():
    from core.search.ensemble import choose_ensemble

    y = np.tile([0, 1], 100)
    net = y + np.random.default_rng(0).normal(0, 0.8, len(y))
    weak = y + np.random.default_rng(1).normal(0, 2.0, len(y))
    good = y + np.random.default_rng(2).normal(0, 0.8, len(y))
    ens = choose_ensemble(_auc(y), net, {"weak": weak, "good": good}, direction="maximize")
    sc = ens["validation_scores"]
    assert ens["use"] and ens["beats_baseline"] and ens["best_baseline"] == "good" and ens["baseline"] == "good"
    assert sc["ensemble"] == max(c["score"] for c in ens["candidates"]) > max(sc["network"], sc["good"])
    assert ens == choose_ensemble(_auc(y), net, {"weak": weak, "good": good}, direction="maximize")
    # A baseline that ranks every row right cannot be beaten, but a blend with it beats the network: the blend
    # is used (the better of network and blend), and the result says the baseline alone scored higher.
    perfect = choose_ensemble(_auc(y), net, {"perfect": y + 0.0}, direction="maximize")
    assert perfect["use"] and not perfect["beats_baseline"]
    assert sc_net_below(perfect) and perfect["validation_scores"]["ensemble"] <= perfect["validation_scores"]["perfect"]
    # A network that ranks every row right cannot be beaten (a tie is not a win): no ensemble.
    assert not choose_ensemble(_auc(y), y + 0.0, {"weak": weak}, direction="maximize")["use"]
    # Lower is better for errors; a tie between weights keeps the plain average.
    mae = lambda p: float(np.abs(p - 10).mean())  # noqa: E731
    e = choose_ensemble(mae, np.full(4, 12.0), {"naive": np.full(4, 8.0)}, direction="minimize")
    assert e["use"] and e["weight"] == 0.5 and e["validation_scores"]["ensemble"] == 0
    assert choose_ensemble(mae, np.full(4, 12.0), {}, direction="minimize") == {
        "checked": False, "use": False, "note": "No baseline to blend with."}


def test_ensemble_weight_is_used_for_the_test_figures_and_label():
    from core.search.ensemble import ensemble_label
    from core.search.tabular import ensemble_metrics, ensemble_proba

    tab = SimpleNamespace(proba={"network": np.array([0.2, 0.4, 0.9, 0.6]),
                                 "gradient_boosting": np.array([0.6, 0.0, 0.5, 1.0])},
                          y_test=np.array([0, 0, 1, 1]))
    ens = {"use": True, "baseline": "gradient_boosting", "weight": 0.75, "threshold": 0.5}
    assert ensemble_proba(tab, ens) == pytest.approx([0.3, 0.3, 0.8, 0.7])
    assert ensemble_metrics(tab, ens)["roc_auc"] == 1.0
    assert ensemble_metrics(tab, {**ens, "use": False}) is None
    assert ensemble_label(ens) == "Ensemble: 75 % Keras network + 25 % gradient boosting"
    assert ensemble_label({**ens, "weight": 0.5}) == "Ensemble: Keras network averaged with gradient boosting"


def test_ensemble_lines_on_the_page():
    from ui.search import ensemble_test_text, ensemble_text

    ens = {"use": True, "baseline": "seasonal_naive", "best_baseline": "moving_average", "weight": 0.25,
           "label": "Ensemble: 25 % Keras network's forecast + 75 % seasonal naive",
           "validation_scores": {"network": 9.0, "seasonal_naive": 8.5, "moving_average": 8.0, "ensemble": 7.0}}
    line = ensemble_text(ens, "validation MAE of P50")
    assert line.startswith("**Ensemble used — Ensemble: 25 % Keras network's forecast + 75 % seasonal naive**")
    assert "best baseline (moving average) 8.0000" in line and "25 % network + 75 % seasonal naive 7.0000" in line
    assert "it beats the network and the best baseline on the validation data" in line
    assert ensemble_text({**ens, "use": False}, "x").startswith("Ensemble not used: no blend beats the network")
    behind = ensemble_text({**ens, "beats_baseline": False}, "x")
    assert "it beats the network on the validation data, though moving average alone scored higher there" in behind
    assert ensemble_test_text({"mae": 7.126, "mase": 0.7, "n": 4}) == "MAE of P50 7.13, MASE 0.700"


# ---------------------------------------------------------------- CLI
def test_cli_search_flag_errors(capsys):
    from core.cli import main

    assert main(["train", "--scenario", "credit", "--data", "sample_data/credit_applications.csv",
                 "--search-budget", "0"]) == 1
    assert "search budget must be between 1" in capsys.readouterr().err
    assert main(["train", "--scenario", "quality", "--data", "sample_data/quality_images",
                 "--backbone", "mobilenetv2", "--search-budget", "30"]) == 1
    assert "model search tunes the small CNN; got backbone 'mobilenetv2'" in capsys.readouterr().err


def test_cli_credit_search_section(tmp_path, capsys):
    from core.cli import main

    path = tmp_path / "credit.csv"
    _credit_frame(240).to_csv(path, index=False)
    code = main(["train", "--scenario", "credit", "--data", str(path), "--target", "default", "--epochs", "2",
                 "--search-budget", "300", "--search-trials", "1", "--ensemble", "--no-explain",
                 "--sensitive", "none", "--json", "--save", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    s = result["search"]
    assert s["trials_run"] == 1 and len(s["trials"]) == 1  # the trial cap (one trial: the check needs no more)
    assert s["recipe_params"] == s["trials"][0]["params"]
    assert s["best_validation_score"] == max(t["score"] for t in s["trials"] if t["state"] == "complete")
    ens = s["ensemble"]
    assert ens["checked"] and set(ens["validation_scores"]) >= {"network", "ensemble"}
    assert ens["weight"] in (0.25, 0.5, 0.75) and len(ens["candidates"]) == 6
    assert ("test_metrics" in ens and ens["label"].startswith("Ensemble: ")) == ens["use"]
    assert "search trial 0:" in out.err
    meta = json.loads((tmp_path / "run" / "metadata.json").read_text())
    ws = meta.get("workspace", meta)
    assert ws["params"]["search"]["trials_run"] == 1
    from core.workspace.report import build_report_html

    card = build_report_html(tmp_path / "run")
    assert "<h3>Model search</h3>" in card and "Settings used" in card
    assert f"1 / {s['trials_complete']} / {s['trials_pruned']}" in card
    assert ("Ensemble: " in card) == ens["use"]
    # The recommended model is the one the ensemble check chose; it is the one saved, with its test figures.
    rec = result["recommended"]
    assert rec["model"] == ("ensemble" if ens["use"] else "network")
    assert rec["metrics"] == (ens["test_metrics"] if ens["use"] else result["metrics"])
    assert ws["headline"]["recommended"] == rec
    assert ("blend" in meta) == ens["use"] and ("baseline.joblib" in meta["files"]) == ens["use"]
    assert f"<b>Recommended model</b> (saved, scored and explained): {rec['label']}" in card
    assert "Recommended: " in out.err


def test_cli_no_ensemble_recommends_the_network(tmp_path, capsys):
    from core.cli import main

    path = tmp_path / "credit.csv"
    _credit_frame(240).to_csv(path, index=False)
    code = main(["train", "--scenario", "credit", "--data", str(path), "--target", "default", "--epochs", "1",
                 "--no-ensemble", "--no-explain", "--sensitive", "none", "--json", "--save", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    assert result["recommended"] == {"model": "network", "label": "Keras network", "metrics": result["metrics"]}
    assert "the ensemble check is off" in out.err
    meta = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert "blend" not in meta and meta["config"]["ensemble"] is False


def test_importing_the_search_loads_neither_optuna_nor_tensorflow():
    import subprocess
    import sys

    code = ("import sys, core.search, core.search.charts, core.search.scenarios, core.search.tabular, "
            "core.demand.search, core.quality.search; "
            "print(sorted(m for m in ('optuna', 'tensorflow', 'keras', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_trial_is_stopped_mid_epoch_when_a_batch_ends_past_the_budget():
    """An objective whose one long 'epoch' raises from inside (as a Keras fit does under
    training_deadline) is recorded as stopped, and the search ends within the budget."""
    from core.ml.training import TrainingDeadlineExceeded, _DEADLINE

    clock = FakeClock()

    class LongEpochs(QuadraticObjective):
        def evaluate(self, params, report):
            deadline, tick = _DEADLINE.get()
            for _batch in range(1000):  # one epoch of 1000 batches of 0.1 s
                clock.now += 0.1
                if tick() > deadline:
                    raise TrainingDeadlineExceeded()
            report(1, 0.5)
            return 0.5

    res = run_search(LongEpochs(), budget=30, seed=0, clock=clock)
    assert [t.state for t in res.trials] == ["stopped"]
    assert 30 < res.seconds <= 30.1 + 1e-9
    assert not res.found and any("too small for one trial" in n for n in res.notices)


def test_keras_fit_stops_at_the_first_batch_past_the_deadline():
    import time as _time

    from core.ml.training import TrainingDeadlineExceeded, train_keras, training_deadline

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2000, 4)).astype("float32"), (rng.random(2000) < 0.3).astype("float32")
    batches = []

    def build():
        import keras

        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        m.compile(optimizer="adam", loss="binary_crossentropy")
        return m

    class CountingClock:
        def __call__(self):
            batches.append(1)
            return _time.perf_counter() + (1000 if len(batches) > 3 else 0)

    with training_deadline(_time.perf_counter() + 500, CountingClock()):
        with pytest.raises(TrainingDeadlineExceeded):
            train_keras(build, X, y, X[:100], y[:100], epochs=5, batch_size=32)
    assert len(batches) == 4  # three batches within the deadline, the fourth past it


def test_smote_is_offered_only_when_it_has_few_rows_to_make():
    from core.search.tabular import MAX_SYNTHETIC_ROWS
    from core.ml.tabular import TabularConfig

    def choices(n_major, n_minor):
        y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]
        df = pd.DataFrame({"a": np.arange(len(y), dtype=float)})
        return TabularObjective(df, y, df, y, ["a"], [], TabularConfig()).imbalance_choices

    assert "smote" in choices(300, 100)
    big = choices(MAX_SYNTHETIC_ROWS + 200, 100)
    assert "smote" not in big and {"class_weight", "undersample", "none"} <= set(big)
