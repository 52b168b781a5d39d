"""The budgeted search loop, generic over a scenario's objective.

An objective says which settings to try (``suggest``), what today's recipe is
(``default_params``, always the first trial, so the search can only match or beat it on
validation) and how to score one set of settings on the training split's validation rows
(``evaluate``), reporting the validation metric after every epoch. The loop runs an Optuna study
with a seeded TPE sampler and a median pruner, and keeps to the time budget: a trial is stopped at
the first epoch (or Keras training batch) that ends past the deadline, and no trial starts that could not reach its first
epoch in the time left. Each trial trains in its own thread: one that cannot stop by itself in time
(a new model's first batch can take tens of seconds on a busy machine) is left to stop in the
background, and the search ends a moment (3 % of the budget, at most 5 s) after the deadline.

Determinism: the sampler is seeded and every trial trains with the same seed, so two searches with
the same seed try the same settings in the same order and score them identically, for every
trial both completed. How many trials fit in a time budget depends on the machine; with a trial
cap (``n_trials``) that the budget does not cut short, the best trial is the same as well.
"""

from __future__ import annotations

import contextvars
import math
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

import pandas as pd

from core.errors import DataValidationError

DEFAULT_PAGE_BUDGET = 60.0
MAX_BUDGET = 6 * 3600.0
# TPE samples at random for its first trials, then models what worked; a short budget fits a
# dozen trials or so, so it starts modelling after five.
N_STARTUP_TRIALS = 5
# The pruner compares a trial with the median of earlier ones at the same epoch once three trials
# have finished, and never before a trial's third epoch (the first epochs are noisy).
PRUNER_STARTUP_TRIALS = 3
PRUNER_WARMUP_STEPS = 2

# How long after the deadline the loop waits for a running trial to stop by itself, as a share
# of the budget (at least 0.05 s, at most 5 s), before it leaves it and ends the search.
GRACE = 0.03
# The best trial replaces today's recipe only when its lead on the validation rows is outside the
# noise: the lower end of a paired bootstrap interval of the difference is above zero. The level
# is 90 % for one comparison and is widened for the number of trials the best one was picked from
# (Bonferroni): the best of a dozen settings, judged on the rows that picked it, leads by chance far
# more often than one setting does. On German credit's 160 validation rows the best of 12 trials
# passed a plain 90 % check and then lost 0.026 ROC-AUC on the test fold.
CONFIRM_LEVEL = 0.9
# Bootstrap resamples for the confirmation: enough for ~10 in the interval's lower tail.
CONFIRM_MAX_BOOT = 2000
STATE_TEXT = {"complete": "complete", "pruned": "pruned (below the median at the same epoch)",
              "stopped": "stopped (budget spent)", "failed": "failed"}

ReportFn = Callable[[int, "float | None"], None]


class SearchObjective(Protocol):
    """What a scenario gives the search loop."""

    name: str  # e.g. "credit network"
    metric: str  # key of the validation score, e.g. "roc_auc"
    metric_label: str  # e.g. "validation ROC-AUC"
    direction: str  # "maximize" or "minimize"

    def default_params(self) -> dict: ...

    def suggest(self, trial) -> dict: ...

    def evaluate(self, params: dict, report: ReportFn) -> float: ...

    # ``evaluate`` may also return (score, payload), e.g. the validation predictions; the loop
    # keeps the payloads of trial 0 and of the best trial for the optional ``confirm(best, recipe)``
    # -> (keep the best trial?, details) that can keep today's recipe when the best trial's lead is
    # inside the noise.
    # Optional: ``warm_up()`` imports what training needs (TensorFlow takes seconds to load), so
    # the budget is spent on trials rather than on start-up.


class _BudgetSpent(Exception):
    """Raised inside a trial when an epoch ends past the deadline."""


@dataclass(frozen=True)
class TrialRecord:
    """One trial: its settings, how it ended and its validation score."""

    number: int
    params: dict
    state: str  # complete | pruned | stopped | failed
    score: float | None
    seconds: float
    epochs: int
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SearchProgress:
    """What a page shows while the search runs: sent after every epoch and every trial."""

    kind: str  # "epoch" or "trial"
    elapsed: float
    budget: float
    trials: list[TrialRecord]
    best: TrialRecord | None
    trial_number: int
    epoch: int = 0
    value: float | None = None
    metric_label: str = "validation score"
    direction: str = "maximize"

    @property
    def trials_done(self) -> int:
        return len(self.trials)

    @property
    def default_score(self) -> float | None:
        first = next((t for t in self.trials if t.number == 0), None)
        return first.score if first is not None and first.state == "complete" else None


def check_budget(budget: Any) -> float:
    """The search budget in seconds, checked: a number from 1 s up to six hours."""
    try:
        value = float(budget)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and 1 <= value <= MAX_BUDGET):
        raise DataValidationError(
            f"The search budget must be between 1 and {MAX_BUDGET:.0f} seconds; got {budget!r}. "
            "Fix: give the seconds the search may take, e.g. 60.")
    return value


def confirm_level(comparisons: int, level: float = CONFIRM_LEVEL) -> float:
    """The confirmation's interval level when the best trial was picked from ``comparisons``
    trials besides today's recipe: ``1 - (1 - level) / comparisons`` (90 % for one, 99 % for ten)."""
    return 1 - (1 - level) / max(int(comparisons), 1)


def confirm_boots(level: float) -> int:
    """Bootstrap resamples for an interval at ``level``: about 10 beyond each end, at least 300."""
    from core.ml.verdict import N_BOOT

    return int(min(max(N_BOOT, math.ceil(10 / ((1 - level) / 2))), CONFIRM_MAX_BOOT))


def level_text(level: float) -> str:
    """90 % -> "90%", 99.09 % -> "99.1%"."""
    return f"{level:.0%}" if abs(level * 100 - round(level * 100)) < 1e-9 else f"{level:.1%}"


def confirm_details(v) -> dict:
    """What an objective's ``confirm`` reports of its verdict ``v`` (``core.ml.verdict.Verdict``):
    the difference, its interval and level, and the sentence the notice quotes."""
    return {"difference": v.diff, "low": v.low, "high": v.high, "level": v.level,
            "sentence": f"{level_text(v.level)} interval of the difference {v.low:+.4f} to {v.high:+.4f}"}


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "maximize" else a < b


@dataclass
class SearchResult:
    """Every trial of a search, the best one and today's recipe's score on the same rows."""

    objective: str
    metric: str
    metric_label: str
    direction: str
    budget: float
    seed: int
    n_trials: int | None
    trials: list[TrialRecord]
    default_params: dict
    seconds: float
    importances: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # what the scenario adds (ensemble check, final figures)
    selected_number: int | None = None  # the trial whose settings are used (None: the best)
    # What the selected trial's ``evaluate`` returned besides its score (e.g. its validation
    # predictions, for the ensemble check); not part of the saved summary.
    payload: Any = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state == "complete"]

    @property
    def best(self) -> TrialRecord | None:
        best = None
        for t in self.complete:  # in trial order, so a tie keeps the earlier trial
            if best is None or _better(t.score, best.score, self.direction):
                best = t
        return best

    @property
    def found(self) -> bool:
        return self.best is not None

    @property
    def selected(self) -> TrialRecord | None:
        """The trial whose settings are used: the best one, or trial 0 (today's recipe) when the
        best one's lead over it was inside the noise."""
        if self.selected_number is not None:
            return next(t for t in self.trials if t.number == self.selected_number)
        return self.best

    @property
    def best_params(self) -> dict:
        """The selected trial's settings, or today's recipe when no trial completed."""
        chosen = self.selected
        return dict(chosen.params) if chosen is not None else dict(self.default_params)

    @property
    def default_score(self) -> float | None:
        """Today's recipe's validation score (trial 0), when it completed."""
        first = next((t for t in self.trials if t.number == 0), None)
        return first.score if first is not None and first.state == "complete" else None

    def trials_frame(self) -> pd.DataFrame:
        """One row per trial: number, state, score, seconds, epochs and every setting tried."""
        rows = [{"trial": t.number, "state": t.state, self.metric_label: t.score, "seconds": round(t.seconds, 1),
                 "epochs": t.epochs, **t.params} for t in self.trials]
        return pd.DataFrame(rows)

    def to_dict(self, *, with_trials: bool = True) -> dict:
        """JSON-friendly summary: what the CLI prints and a saved run records."""
        best = self.best
        out = {
            "objective": self.objective, "metric": self.metric, "metric_label": self.metric_label,
            "budget_seconds": self.budget, "seconds": round(self.seconds, 2), "seed": self.seed,
            "n_trials_cap": self.n_trials, "trials_run": len(self.trials),
            "trials_complete": len(self.complete),
            "trials_pruned": sum(t.state == "pruned" for t in self.trials),
            "best_trial": None if best is None else best.number,
            "selected_trial": None if self.selected is None else self.selected.number,
            "best_params": self.best_params,
            "best_validation_score": None if best is None else best.score,
            "recipe_params": dict(self.default_params),
            "recipe_validation_score": self.default_score,
            "importances": dict(self.importances), "notices": list(self.notices), **self.extra,
        }
        if with_trials:
            out["trials"] = [t.to_dict() for t in self.trials]
        return out


def _importances(study, seed: int) -> dict[str, float]:
    """Parameter importance (fANOVA over the completed trials); empty when there are too few."""
    import optuna

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) < 3:
        return {}
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study, evaluator=evaluator).items()}
    except (RuntimeError, ValueError):  # all trials alike: nothing to attribute
        return {}


def wait_for_stopped_trials(timeout: float = 30.0) -> bool:
    """Wait (at most ``timeout`` seconds in all) for trials a search left to stop in the background;
    True when none is still running. Training that must be repeatable (the ensemble check, a
    final model) waits first: a trial still running shares the seeds and the cores."""
    end = time.monotonic() + max(float(timeout), 0.0)
    for t in threading.enumerate():
        if t.name.startswith("search-trial-") and t is not threading.current_thread():
            t.join(max(end - time.monotonic(), 0.0))
    return not any(t.name.startswith("search-trial-") and t.is_alive() for t in threading.enumerate())


def run_search(objective: SearchObjective, *, budget: float, seed: int = 0, n_trials: int | None = None,
               progress: Callable[[SearchProgress], None] | None = None,
               clock: Callable[[], float] = time.perf_counter, started: float | None = None) -> SearchResult:
    """Search ``objective``'s settings for at most ``budget`` seconds (and ``n_trials`` trials).

    The budget counts from ``started`` (a ``clock`` reading; default: now), so what the scenario
    prepared before the loop (features, image resizing) and loading TensorFlow count against it: the
    user waits for all of it. Trial 0 is always today's recipe. ``progress`` receives a ``SearchProgress`` after every epoch
    and every trial. When not even trial 0 completes within the budget, the result has no best
    trial, says so in ``notices``, and its ``best_params`` are today's recipe.
    """
    budget = check_budget(budget)
    if n_trials is not None and int(n_trials) < 1:
        raise DataValidationError(f"The trial cap must be 1 or more; got {n_trials}. Fix: leave it empty "
                                  "for no cap, or give e.g. 20.")
    import optuna

    from core.ml.training import TrainingDeadlineExceeded, training_deadline

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction=objective.direction,
        sampler=optuna.samplers.TPESampler(seed=int(seed), n_startup_trials=N_STARTUP_TRIALS),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS,
                                           n_warmup_steps=PRUNER_WARMUP_STEPS))
    start = clock() if started is None else float(started)
    deadline = start + budget
    default = objective.default_params()
    study.enqueue_trial(default)
    if hasattr(objective, "warm_up"):
        objective.warm_up()
    records: list[TrialRecord] = []
    payloads: dict[int, Any] = {}  # trial 0's and the best trial's
    first_epoch: list[float] = []  # seconds each trial took to reach its first epoch

    def best() -> TrialRecord | None:
        done = [t for t in records if t.state == "complete"]
        out = None
        for t in done:
            if out is None or _better(t.score, out.score, objective.direction):
                out = t
        return out

    def tell(kind: str, number: int, epoch: int = 0, value: float | None = None) -> None:
        if progress is not None:
            progress(SearchProgress(kind=kind, elapsed=clock() - start, budget=budget, trials=list(records),
                                    best=best(), trial_number=number, epoch=epoch, value=value,
                                    metric_label=objective.metric_label, direction=objective.direction))

    def run_trial(trial) -> float:
        params = objective.suggest(trial)
        t0 = clock()
        seen = {"epoch": 0}

        events: queue.Queue = queue.Queue()

        def report(epoch: int, value: float | None) -> None:  # runs in the trial's thread
            if seen["epoch"] == 0:
                first_epoch.append(clock() - t0)
            seen["epoch"] = int(epoch)
            events.put(("epoch", (int(epoch), value)))
            if clock() > deadline:
                raise _BudgetSpent()
            if value is not None and math.isfinite(value):
                trial.report(float(value), int(epoch))
                if trial.should_prune():
                    raise optuna.TrialPruned()

        def record(state: str, score: float | None = None, note: str = "") -> None:
            records.append(TrialRecord(number=trial.number, params=dict(params), state=state, score=score,
                                       seconds=clock() - t0, epochs=seen["epoch"], note=note))
            tell("trial", trial.number)

        def work() -> None:
            try:
                # Keras fits inside the trial stop at the first batch past the deadline, not only
                # at the end of an epoch (an epoch can take minutes on a busy machine).
                with training_deadline(deadline, clock):
                    events.put(("done", objective.evaluate(params, report)))
            except BaseException as exc:  # handed to the search loop, which decides what it means
                events.put(("error", exc))

        # The trial trains in its own thread while this one waits for its epochs, so the search
        # can end on time even when a trial cannot stop by itself: the first batch of a new
        # model (graph tracing) can take tens of seconds on a busy machine. A trial still running
        # a moment past the deadline is left to stop at its next batch, and recorded as stopped.
        # Progress is drawn from this thread (a page can only draw from its own).
        give_up = time.monotonic() + max(deadline - clock(), 0.0) + min(max(GRACE * budget, 0.05), 5.0)
        threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                         name=f"search-trial-{trial.number}").start()
        try:
            while True:
                try:
                    kind, value = events.get(timeout=max(give_up - time.monotonic(), 0.0))
                except queue.Empty:
                    raise _BudgetSpent() from None
                if kind == "epoch":
                    tell("epoch", trial.number, *value)
                    continue
                if kind == "error":
                    raise value
                score = value
                break
            payload = None
            if isinstance(score, tuple):
                score, payload = score
        except (_BudgetSpent, TrainingDeadlineExceeded):
            record("stopped")
            trial.study.stop()
            raise optuna.TrialPruned() from None
        except optuna.TrialPruned:
            record("pruned")
            raise
        except ValueError as exc:  # settings this data cannot take (e.g. SMOTE with too few rare rows)
            record("failed", note=str(exc))
            raise optuna.TrialPruned() from None
        if score is None or not math.isfinite(float(score)):
            record("failed", note="the validation score is not a number")
            raise optuna.TrialPruned()
        previous = best()
        record("complete", float(score))
        if payload is not None and (trial.number == 0 or previous is None
                                    or _better(float(score), previous.score, objective.direction)):
            for n in [n for n in payloads if n not in (0,)]:
                del payloads[n]
            payloads[trial.number] = payload
        return float(score)

    def after_trial(study_, _trial) -> None:
        # Do not start a trial that could not reach its first epoch before the deadline.
        need = min(first_epoch) if first_epoch else 0.0
        if clock() + need > deadline:
            study_.stop()

    study.optimize(run_trial, n_trials=None if n_trials is None else int(n_trials), timeout=max(deadline - clock(), 0.0),
                   callbacks=[after_trial], gc_after_trial=False, show_progress_bar=False)
    seconds = clock() - start
    result = SearchResult(objective=objective.name, metric=objective.metric, metric_label=objective.metric_label,
                          direction=objective.direction, budget=budget, seed=int(seed),
                          n_trials=None if n_trials is None else int(n_trials), trials=records,
                          default_params=dict(default), seconds=seconds, importances=_importances(study, seed))
    best_trial = result.best
    if (best_trial is not None and best_trial.number != 0 and hasattr(objective, "confirm")
            and 0 in payloads and best_trial.number in payloads):
        # Every completed trial besides the recipe was a candidate for the best one.
        comparisons = max(sum(t.state == "complete" and t.number != 0 for t in records), 1)
        keep, details = objective.confirm(payloads[best_trial.number], payloads[0], comparisons=comparisons)
        details = {**details, "comparisons": comparisons}
        result.extra["selection"] = details
        picked = (f"the best of {comparisons} settings compared with it" if comparisons > 1 else "")
        if not keep:
            result.selected_number = 0
            result.notices.append(
                f"Trial {best_trial.number} scored best ({best_trial.score:.4f} against {result.default_score:.4f} "
                f"for today's recipe, {objective.metric_label}), but its lead is inside the noise of the "
                f"validation rows ({details.get('sentence', '')}{'; ' + picked if picked else ''}); "
                "today's recipe is kept.")
    if result.selected is not None:
        result.payload = payloads.get(result.selected.number)
    if not result.found:
        spent = records[0].seconds if records else seconds
        result.notices.append(
            f"The search budget of {budget:.0f} s was too small for one trial: today's recipe alone was still "
            f"training after {spent:.0f} s. The model is trained with today's recipe instead; give the search "
            f"at least {max(30, math.ceil(spent * 4 / 10) * 10)} s to compare settings.")
    elif result.best.number == 0 and len(result.complete) > 1:
        result.notices.append("No setting tried beat today's recipe on validation, so the recipe is kept.")
    return result
