"""What each scenario is: in the analyst's words (``ScenarioSpec``: titles, summaries, data formats,
pages) and to the workspace (``Scenario``: the hooks the shared code calls).

The workspace (saved runs, the Score page, the model card, the demos) and the command line never
branch on a scenario's name: they look the scenario up here (``get_scenario``) and call its hooks.
Each package ``core/<name>/`` registers one object implementing ``Scenario`` in its
``scenario.py``. Scenarios are found, not listed (``core.store.scenario_registry``, re-exported here): every
``core/*/scenario.py`` and the packages named in ``STUDIO_SCENARIOS``, imported the first time one is
looked up, so reading this module stays cheap. A new scenario is one package plus one page.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

# The registry and its views, re-exported: callers import them from here.
from core.store.scenario_registry import (ROOT, SCENARIO_HOOKS, SCENARIOS, ByScenario, EXTENSIONS_ENV, ScenarioKeys,
                                    all_scenarios, builtin_keys, discover, extension_packages, extension_problems,
                                    find_scenario, get_scenario, register, scenario_keys, unregister)

if TYPE_CHECKING:  # pragma: no cover - types only
    import pandas as pd

    from core.serve.batch import BatchResult
    from core.data.columncheck import ColumnReport
    from core.serve.serving import Predictor
    from core.monitor.spec import MonitorSpec

__all__ = ["ROOT", "SCENARIOS", "SCENARIO_HOOKS", "ByScenario", "DecisionControl", "Demo", "EXTENSIONS_ENV", "Scenario",
           "ScenarioBase", "ScenarioCli", "ScenarioKeys", "ScenarioSpec", "all_scenarios", "builtin_keys", "discover",
           "extension_packages", "extension_problems", "find_scenario", "get_scenario", "register", "scenario_keys",
           "unregister"]


@dataclass(frozen=True)
class ScenarioSpec:
    key: str
    title: str
    icon: str
    question: str
    summary: str
    data_format: str
    page: str
    # A bundled "next month" file (made by the sample script, with mild drift) that the Score page
    # and the drift view can use without the user bringing a file; None where there is none.
    sample_batch: str | None = None
    # The importable package of the scenario's engine (its ``cli`` module); "" for ``core.<key>``.
    package: str = ""
    # A one-word name where space is short (the Runs list's scenario column); the title when not given.
    short_title: str = ""

    @property
    def short(self) -> str:
        return self.short_title or self.title

    @property
    def page_path(self) -> Path:
        """The page file: ``page`` relative to the app's folder, or an absolute path (an extension package's page)."""
        return ROOT / self.page

    @property
    def sample_batch_path(self) -> Path | None:
        """The bundled new-data sample, if this scenario has one and it is on disk."""
        path = ROOT / self.sample_batch if self.sample_batch else None
        return path if path is not None and path.exists() else None

    @property
    def available(self) -> bool:
        """A scenario is offered once both its page and its engine package (with a ``cli`` module) exist."""
        from importlib.util import find_spec

        if not self.page_path.exists():
            return False
        try:
            return find_spec(f"{self.package or 'core.' + self.key}.cli") is not None
        except ModuleNotFoundError:
            return False


# ---------------------------------------------------------------- the contract
@dataclass(frozen=True)
class DecisionControl:
    """One decision setting the Score page lets a person change for one scoring: ``name`` is its key
    in ``decision_settings``, ``key`` the widget's key suffix (stable, so tests and sessions keep it),
    a slider between ``low`` and ``high`` or (``slider=False``) a number field; ``whole`` for counts
    of periods. Money settings (``core.present.glossary.is_money_setting``) get the currency in their label."""

    name: str
    label: str
    low: float
    high: float
    step: float | None = None
    key: str = ""
    slider: bool = True
    whole: bool = False
    help: str = ""


@runtime_checkable
class ScenarioCli(Protocol):
    """What ``python -m core train / score`` needs from a scenario (a ``core/<name>/cli.py`` module
    or any object with these attributes). ``add_score_arguments`` / ``run_score`` are optional."""

    def add_train_arguments(self, parser) -> None: ...

    def run_train(self, args) -> dict: ...


@runtime_checkable
class Scenario(Protocol):
    """The hooks the workspace and the command line call; one object per scenario package.

    Texts: ``key`` (saved runs' ``"scenario"``), ``title``, ``intended_use`` and ``limitations``
    (saved with every run for the model card), ``model_text`` (the card's Method paragraph),
    ``decision_words`` (what the Score page decides). ``input_kind`` is ``"table"`` or
    ``"images"``; ``imbalance_applies`` makes the card report the imbalance handling even when
    none was recorded. For the Score page: ``input_hint`` (a line under the columns a file must
    contain), ``decisions_title`` (the heading of the decisions table) and ``page_reason_rows``
    (how many rows the page explains; None for the workspace's default).
    """

    key: str
    title: str
    order: int
    spec: ScenarioSpec | None
    model_kind: str | None
    input_kind: str
    intended_use: str
    limitations: tuple[str, ...]
    model_text: str
    decision_words: str
    imbalance_applies: bool
    input_hint: str
    decisions_title: str
    page_reason_rows: int | None

    def memory_estimate(self, data, **opts):
        """The memory a training on ``data`` needs (``core.store.memory_guard.MemoryEstimate``), for the pages' check."""

    def build_summary(self, run, **settings) -> dict:
        """The run's ``"workspace"`` metadata (``core.report.runsummary.envelope``) at the chosen settings."""

    def expected_input(self, meta: dict) -> dict:
        """What a file to score must contain: ``{"kind": "table", "columns": {name: kind}, "target": ...}``
        (kinds from ``core.data.columncheck``) or ``{"kind": "images", ...}``; ``core.data.columncheck.
        expected_from_summary(meta)`` reads it from the saved summary."""

    def training_profile(self, meta: dict) -> dict | None:
        """The drift profile of the training rows saved with a run (``core.data.drift``), or None."""

    def decision_settings(self, meta: dict) -> dict:
        """The decision settings saved with a run, with this scenario's defaults where none were saved."""

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        """The decision settings the Score page offers for a saved run (values from ``decision_settings``)."""

    def decision_note(self, meta: dict) -> str:
        """A line shown with the decision settings ("" for none), e.g. why a run has none to set."""

    def input_notices(self, report: "ColumnReport", df: "pd.DataFrame") -> list[str]:
        """Plain-words notes on how an upload's columns differ from the model's (after the check passed)."""

    def score(self, run_dir: Path, meta: dict, data: Any, settings: dict, *,
              progress: Callable[[float, str], None], reason_rows: int) -> "BatchResult":
        """Score a checked batch (a DataFrame with numbers coerced; for images, the upload as given)
        with the saved run: predictions, the decision, reasons and headline figures."""

    def card_sections(self, meta: dict, ws: dict) -> dict[str, str]:
        """Model-card sections this scenario fills itself, title -> HTML built with ``core.present.card``
        (e.g. credit's "Fairness"); the card's fixed sections show a plain note for the rest."""

    def cli(self) -> ScenarioCli:
        """The train / score arguments and runners of ``python -m core``."""

    def demo(self) -> "Demo | None":
        """How the overview's "Run all demos" trains this scenario on its sample, or None."""

    def predictor(self, run_dir: Path, *, runtime: str = "keras") -> "Predictor":
        """A saved run ready to answer prediction requests (``core.serve.serving.Predictor``: ``expected_input``,
        ``example_row``, ``predict(df)``, and ``snapshot`` / ``restore`` when it keeps state), on the
        same functions ``python -m core score`` calls; ``runtime`` is ``"keras"`` or ``"onnx"``."""

    def monitor(self) -> "MonitorSpec | None":
        """What the prediction log, feedback, the monitor and retraining need from this scenario
        (``core.monitor.spec.MonitorSpec``: row ids, log rows, labels, metrics, challenger training),
        or None when its runs are not monitored."""


@dataclass(frozen=True)
class Demo:
    """A scenario's demo: its bundled sample, its share of the demos' time, the runner
    ``run(root, settings, progress) -> saved run folder`` (settings: ``core.workspace.demos.DemoSettings``)
    and its own settings' defaults."""

    sample: Path
    weight: float
    run: Callable[[Path, Any, Callable[[float, str], None]], Path]
    # The scenario's own demo settings and their defaults (e.g. a limit on its sample's size, the decision
    # assumptions its page opens with), read by ``run`` as attributes of ``DemoSettings``.
    settings: Mapping[str, Any] = field(default_factory=dict)


class ScenarioBase:
    """Defaults for the optional hooks, so a new scenario writes only what is its own.

    Subclasses set the text attributes and implement ``build_summary``, ``score`` and ``cli``.
    """

    key = ""
    title = ""
    # The scenario's place in every list (navigation, Runs, ``scenario_keys``): lower comes first.
    order = 100
    # Titles, question, data format and page file for the Overview and the navigation; None keeps the
    # scenario out of them (a scenario used from the command line and the workspace only).
    spec: ScenarioSpec | None = None
    # What the saved ``model.keras`` takes ("table", "sequence", "image"; ``core.store.registry.KIND_NAMES``), checked
    # when a run folder is read; None for a scenario whose runs keep no Keras model file.
    model_kind: str | None = None
    input_kind = "table"
    intended_use = ""
    limitations: tuple[str, ...] = ()
    model_text = "Keras model."
    decision_words = "predictions"
    imbalance_applies = False
    input_hint = ""
    decisions_title = "Decisions"
    page_reason_rows: int | None = None

    def build_summary(self, run, **settings) -> dict:  # pragma: no cover - every scenario overrides
        raise NotImplementedError

    def expected_input(self, meta: dict) -> dict:
        from core.store.saved import expected_from_summary

        return expected_from_summary(meta)

    def training_profile(self, meta: dict) -> dict | None:
        from core.store.saved import profile_from_summary

        return profile_from_summary(meta)

    def decision_settings(self, meta: dict) -> dict:
        from core.store.saved import saved_decision

        return dict(saved_decision(meta))

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        return ()

    def upgrade_metadata(self, meta: dict, version: int) -> dict:
        """``meta`` of schema ``version`` with this scenario's own layout of that schema moved to the next
        one's (``core.store.runmeta.migrate`` calls it once per step, after the shared part of the step, so a
        schema-0 run hears 0, then 1 ...); as it is by default."""
        return meta

    def decision_note(self, meta: dict) -> str:
        return ""

    def input_notices(self, report, df) -> list[str]:
        return report.notices()

    def score(self, run_dir, meta, data, settings, *, progress, reason_rows):  # pragma: no cover
        raise NotImplementedError

    def card_sections(self, meta: dict, ws: dict) -> dict[str, str]:
        return {}

    def cli(self) -> ScenarioCli:
        """The package's ``cli`` module (``core/<name>/cli.py``)."""
        module = self.package_module("cli")
        if module is None:
            from core.errors import DataValidationError

            raise DataValidationError(f"Expected a command line for the {self.key} scenario (a cli.py beside its "
                                      "scenario.py); found none. Fix: add cli.py with add_train_arguments and "
                                      "run_train, or override the scenario's cli hook.")
        return module

    def memory_estimate(self, data, **opts):
        """The memory a training on ``data`` needs (``core.store.memory_guard.MemoryEstimate``); ``opts`` as
        ``core.store.memory_guard.estimate_job`` takes them. None (the default): the shared estimate by
        ``input_kind`` (a tabular network's training that cannot be sampled, or images)."""
        return None

    def demo(self) -> Demo | None:
        return None

    def predictor(self, run_dir, *, runtime: str = "keras"):
        """``make_predictor(run_dir, runtime=...)`` of the package's ``serving`` module (``core/<name>/serving.py``)."""
        from core.errors import DataValidationError
        from core.runtime.choice import check_runtime

        runtime = check_runtime(runtime)
        module = self.package_module("serving")
        if module is None:
            raise DataValidationError(f"Expected a scenario that can be served; the {self.key} scenario has no "
                                      "prediction service yet. Fix: score its runs with python -m core score.")
        return module.make_predictor(Path(run_dir), runtime=runtime)

    def package_module(self, name: str):
        """The module ``name`` of the scenario's package (``core/<package>/<name>.py``), or None when the
        package has no such module (an import error inside an existing module is raised)."""
        full = f"{type(self).__module__.rsplit('.', 1)[0]}.{name}"
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:  # the module exists but something it imports is missing
                raise
            return None

    def pitch(self, meta: dict, run_dir):
        """Presenter mode's screen of a saved run (``core.report.pitch.Pitch``): ``build_pitch(meta, run_dir)`` of the
        package's ``pitch`` module (``core/<name>/pitch.py``), or None when the package has none."""
        module = self.package_module("pitch")
        return None if module is None else module.build_pitch(meta, run_dir)

    def monitor(self):
        """The package's ``monitoring.MONITOR`` (``core/<name>/monitoring.py``), or None without one."""
        module = self.package_module("monitoring")
        return None if module is None else getattr(module, "MONITOR", None)


def __getattr__(name: str):
    # ``BUILTIN_KEYS``, for code that imported the former constant: the built-in packages' keys, found.
    if name == "BUILTIN_KEYS":
        return builtin_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
