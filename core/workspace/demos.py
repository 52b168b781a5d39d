"""Run all demos: train every scenario with a demo on its bundled sample with fast settings and save it.

``run_all_demos`` is what the overview's demo button ("Run all four demos") calls. Each scenario's ``demo``
hook (``core.store.scenarios.Demo``, e.g. ``core.credit.scenario.run_demo``) trains on its sample data
with few epochs, picks its decision the way the page's "use the optimal ..." button would
(profit-optimal threshold, cost-optimal review threshold, cheapest reject threshold, a standard
inventory policy), and saves a run with the workspace summary, reading the fields of
``DemoSettings`` it needs. One scenario failing does not stop the others: its error is collected
and reported.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from core.errors import DataValidationError
from core.store.scenarios import all_scenarios


class _DemoTable(Mapping):
    """``scenario key -> one field of its Demo`` (``core.store.scenarios.Demo``), live over the registered
    scenarios that have a demo (their ``demo`` hook), in the registry's order."""

    def __init__(self, field_name: str):
        self.field_name = field_name

    @staticmethod
    def _demos() -> dict:
        return {s.key: d for s in all_scenarios() if (d := s.demo()) is not None}

    def __getitem__(self, key):
        return getattr(self._demos()[key], self.field_name)

    def __iter__(self):
        return iter(self._demos())

    def __len__(self) -> int:
        return len(self._demos())


SAMPLES = _DemoTable("sample")  # the bundled sample each demo trains on
# Rough share of the total time each demo takes, so one progress bar moves evenly.
WEIGHTS = _DemoTable("weight")
DEMOS = _DemoTable("run")  # run(root, settings, progress) -> saved run folder

ProgressFn = Callable[[str, float, str], None]


def _own_defaults() -> dict:
    """Every scenario's own demo settings with their defaults (``Demo.settings``), by name."""
    own: dict = {}
    for scenario in all_scenarios():
        demo = scenario.demo()
        if demo is not None:
            own.update(demo.settings)
    return own


@dataclass(frozen=True, init=False)
class DemoSettings:
    """Fast demo settings: the shared ones (``epochs``, ``seed``, ``shap_rows``) and, by name, any scenario's
    own (its ``Demo.settings``: e.g. a limit that shrinks its sample for tests and tiny servers, or the decision
    assumptions its page opens with), read as attributes; a name no scenario declares is refused by
    ``validate``. A frozen dataclass, like the settings of one demo run: compared, hashed, copied, pickled into
    a worker and changed with ``dataclasses.replace`` (``own=`` or a scenario's setting by name)."""

    epochs: int = 8
    seed: int = 0
    shap_rows: int = 150
    own: tuple = ()  # (name, value) pairs of the scenarios' own settings given, sorted by name

    def __init__(self, epochs: int = 8, seed: int = 0, shap_rows: int = 150, own=(), **named):
        given = {**dict(own), **named}
        for name, value in (("epochs", epochs), ("seed", seed), ("shap_rows", shap_rows),
                            ("own", tuple(sorted(given.items())))):
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called for names that are not fields; dunder look-ups (pickle, copy) must not reach the defaults.
        if name.startswith("__"):
            raise AttributeError(name)
        own = dict(self.__dict__.get("own", ()))
        if name in own:
            return own[name]
        defaults = _own_defaults()
        if name in defaults:
            return defaults[name]
        raise AttributeError(f"No demo setting {name!r}")

    def validate(self) -> "DemoSettings":
        if not 1 <= int(self.epochs) <= 200:
            raise DataValidationError(f"Demo epochs must be between 1 and 200; got {self.epochs}. Fix: use e.g. 8.")
        known = _own_defaults()
        unknown = sorted(set(dict(self.own)) - set(known))
        if unknown:
            raise DataValidationError(f"Demo settings must be epochs, seed, shap_rows or a scenario's own "
                                      f"({', '.join(sorted(known))}); got {unknown}. Fix: check the spelling.")
        return self


@dataclass
class DemoReport:
    """Where each demo run was saved, the error of each demo that failed, and the trust flags
    (``core.report.trust``, as saved with the run) of each demo whose figures must not be trusted."""

    saved: dict[str, Path] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    trust: dict[str, list] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _saved_trust(run_dir) -> list:
    """The trust flags saved with a run (empty when none was raised or the run cannot be read)."""
    from core.store.registry import read_metadata
    from core.workspace.runs import get_trust

    try:
        trust = get_trust(read_metadata(run_dir))
    except (OSError, ValueError, DataValidationError):
        return []
    return [] if trust is None else trust.to_list()


def run_all_demos(root=None, *, settings: DemoSettings = DemoSettings(), scenarios: Iterable[str] | None = None,
                  progress: ProgressFn | None = None) -> DemoReport:
    """Train and save every scenario in ``scenarios`` (default: every one with a demo) on its
    sample; never stops at a failure.

    ``progress(scenario, fraction, message)`` gets the overall fraction done (0 to 1) across all
    demos. Errors are collected in the report, as the message a page can show.
    """
    from core.workspace import get_runs_dir

    settings = settings.validate()
    scenarios = list(DEMOS) if scenarios is None else list(scenarios)
    unknown = [x for x in scenarios if x not in DEMOS]
    if unknown:
        raise DataValidationError(f"Demos exist for {', '.join(DEMOS)}; got {unknown}. "
                                  "Fix: pass scenario keys from that list.")
    root = get_runs_dir(root)
    say = progress or (lambda *_a: None)
    total = sum(WEIGHTS[x] for x in scenarios) or 1.0
    report, done = DemoReport(), 0.0
    for key in scenarios:
        share = WEIGHTS[key] / total
        start = done
        reached = [0.0]  # stages report out of order (status lines between epochs): never go back

        def step(frac: float, message: str, key=key, start=start, share=share, reached=reached) -> None:
            reached[0] = max(reached[0], min(max(frac, 0.0), 1.0))
            say(key, min(1.0, start + share * reached[0]), message)

        t0 = time.perf_counter()
        try:
            report.saved[key] = DEMOS[key](root, settings, step)
            flags = _saved_trust(report.saved[key])
            if flags:
                report.trust[key] = flags
            step(1.0, "Saved")
        except Exception as exc:  # one failing demo is reported, the others still run
            msg = str(exc) if isinstance(exc, DataValidationError) else f"{type(exc).__name__}: {exc}"
            report.errors[key] = msg
            traceback.print_exc()  # for the server log; the page shows ``msg`` only
            step(1.0, f"Failed: {msg}")
        report.seconds[key] = round(time.perf_counter() - t0, 2)
        done = start + share
    say("", 1.0, "All demos finished" if report.ok else f"{len(report.errors)} demo(s) failed")
    return report


def demos_job(root: str, *, report) -> dict:
    """``run_all_demos`` as a job (``core.jobs``): each demo's stage reported as the overall share done;
    returns what the Overview shows: the saved run names, the errors and trust flags, the seconds."""
    names = {s.key: s.title for s in all_scenarios()}

    def on_progress(scenario: str, fraction: float, message: str) -> None:
        report.stage(fraction, f"{names.get(scenario, 'Demos')}: {message}" if scenario else message)

    t0 = time.perf_counter()
    done = run_all_demos(root, progress=on_progress)
    return {"saved": {k: Path(p).name for k, p in done.saved.items()}, "errors": dict(done.errors),
            "trust": dict(done.trust), "seconds": time.perf_counter() - t0}
