"""What each scenario is: in the analyst's words (``ScenarioSpec``: titles, summaries, data formats,
pages) and to the workspace (``Scenario``: the hooks the shared code calls).

The workspace (saved runs, the Score page, the model card, the demos) and the command line never
branch on a scenario's name: they look the scenario up here (``get_scenario``) and call its hooks.
Each package ``core/<name>/`` registers one object implementing ``Scenario`` in its
``scenario.py``; the four built-in ones are imported the first time they are looked up, so reading
this module stays cheap. A new scenario is one package plus one ``register(...)`` call.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - types only
    import pandas as pd

    from core.batch import BatchResult
    from core.columncheck import ColumnReport
    from core.serving import Predictor
    from core.monitor.spec import MonitorSpec

ROOT = Path(__file__).resolve().parent.parent


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
    of periods. Money settings (``core.glossary.is_money_setting``) get the currency in their label."""

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
        """The memory a training on ``data`` needs (``core.memory_guard.MemoryEstimate``), for the pages' check."""

    def build_summary(self, run, **settings) -> dict:
        """The run's ``"workspace"`` metadata (``core.runsummary.envelope``) at the chosen settings."""

    def expected_input(self, meta: dict) -> dict:
        """What a file to score must contain: ``{"kind": "table", "columns": {name: kind}, "target": ...}``
        (kinds from ``core.columncheck``) or ``{"kind": "images", ...}``; ``core.columncheck.
        expected_from_summary(meta)`` reads it from the saved summary."""

    def training_profile(self, meta: dict) -> dict | None:
        """The drift profile of the training rows saved with a run (``core.drift``), or None."""

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
        """Model-card sections this scenario fills itself, title -> HTML built with ``core.card``
        (e.g. credit's "Fairness"); the card's fixed sections show a plain note for the rest."""

    def cli(self) -> ScenarioCli:
        """The train / score arguments and runners of ``python -m core``."""

    def demo(self) -> "Demo | None":
        """How the overview's "Run all demos" trains this scenario on its sample, or None."""

    def predictor(self, run_dir: Path, *, runtime: str = "keras") -> "Predictor":
        """A saved run ready to answer prediction requests (``core.serving.Predictor``: ``expected_input``,
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
    # What the saved ``model.keras`` takes ("table", "sequence", "image"; ``core.registry.KIND_NAMES``), checked
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
        from core.saved import expected_from_summary

        return expected_from_summary(meta)

    def training_profile(self, meta: dict) -> dict | None:
        from core.saved import profile_from_summary

        return profile_from_summary(meta)

    def decision_settings(self, meta: dict) -> dict:
        from core.saved import saved_decision

        return dict(saved_decision(meta))

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        return ()

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
        """The memory a training on ``data`` needs (``core.memory_guard.MemoryEstimate``); ``opts`` as
        ``core.memory_guard.estimate_job`` takes them. None (the default): the shared estimate by
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
        """Presenter mode's screen of a saved run (``core.pitch.Pitch``): ``build_pitch(meta, run_dir)`` of the
        package's ``pitch`` module (``core/<name>/pitch.py``), or None when the package has none."""
        module = self.package_module("pitch")
        return None if module is None else module.build_pitch(meta, run_dir)

    def monitor(self):
        """The package's ``monitoring.MONITOR`` (``core/<name>/monitoring.py``), or None without one."""
        module = self.package_module("monitoring")
        return None if module is None else getattr(module, "MONITOR", None)


# Every attribute and hook of ``Scenario``, checked when a scenario registers.
SCENARIO_HOOKS = ("key", "title", "order", "spec", "model_kind", "memory_estimate", "input_kind", "intended_use", "limitations", "model_text", "decision_words",
                  "imbalance_applies", "input_hint", "decisions_title", "page_reason_rows", "build_summary",
                  "expected_input", "training_profile", "decision_settings", "decision_controls", "decision_note",
                  "input_notices", "score", "card_sections", "cli", "demo", "predictor", "monitor")


# ---------------------------------------------------------------- the registry
_REGISTRY: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    """Make ``scenario`` known to the workspace and the command line under ``scenario.key``."""
    from core.errors import DataValidationError

    key = str(getattr(scenario, "key", "") or "")
    if not key.isidentifier():
        raise DataValidationError(f"A scenario needs a key made of letters, digits and '_'; got {key!r}. "
                                  "Fix: set e.g. key = 'churn'.")
    missing = [h for h in SCENARIO_HOOKS if not hasattr(scenario, h)]
    if missing:
        raise DataValidationError(f"Scenario '{key}' does not implement the Scenario hooks; missing {missing}. "
                                  "Fix: subclass core.scenarios.ScenarioBase.")
    _REGISTRY[key] = scenario
    return scenario


def unregister(key: str) -> None:
    """Forget a registered scenario (tests that register a toy one)."""
    _REGISTRY.pop(key, None)


# ---------------------------------------------------------------- discovery
# Scenarios are found, not listed: every ``core/<package>/scenario.py`` that registers one, and the
# packages named in ``STUDIO_SCENARIOS`` (comma-separated importable names; each package's ``scenario``
# module is imported, or the package itself when it has none).
EXTENSIONS_ENV = "STUDIO_SCENARIOS"
_BUILTINS_FOUND = False


def _builtin_modules() -> list[str]:
    return [f"core.{p.parent.name}.scenario" for p in sorted((ROOT / "core").glob("*/scenario.py"))]


def _import_builtin(module: str) -> None:
    importlib.import_module(module)


def extension_packages() -> list[str]:
    """The package names ``STUDIO_SCENARIOS`` holds, as written (blanks dropped)."""
    import os

    return [name.strip() for name in os.environ.get(EXTENSIONS_ENV, "").split(",") if name.strip()]


def _import_extension(package: str) -> None:
    from core.errors import DataValidationError

    if not all(part.isidentifier() for part in package.split(".")):
        raise DataValidationError(f"{EXTENSIONS_ENV} must hold importable package names separated by commas; got "
                                  f"{package!r}. Fix: write e.g. {EXTENSIONS_ENV}=churn_scenario,other_scenario.")
    for name in (f"{package}.scenario", package):
        try:
            importlib.import_module(name)
            break
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):  # something the package imports is missing
                raise
    else:
        raise DataValidationError(f"{EXTENSIONS_ENV} names the package '{package}', which Python cannot import. "
                                  "Fix: put the folder that holds it on PYTHONPATH (or install it), or remove it "
                                  f"from {EXTENSIONS_ENV}.")
    if not any(type(s).__module__ == package or type(s).__module__.startswith(package + ".")
               for s in _REGISTRY.values()):
        raise DataValidationError(f"The package '{package}' in {EXTENSIONS_ENV} registers no scenario. Fix: call "
                                  f"core.scenarios.register(YourScenario()) in {package}/scenario.py.")


_PROBLEMS: dict[str, str] = {}  # package named in STUDIO_SCENARIOS -> why it was not loaded


def discover(*, strict: bool = False) -> None:
    """Import every scenario module (built-in packages once, then the ``STUDIO_SCENARIOS`` packages).

    A named package that cannot be imported or registers nothing is left out and its message kept
    (``extension_problems``, shown by the app and in ``get_scenario``'s error), so the other scenarios
    stay usable; ``strict`` raises it instead (the command line)."""
    global _BUILTINS_FOUND
    if not _BUILTINS_FOUND:
        for module in _builtin_modules():
            _import_builtin(module)
        _BUILTINS_FOUND = True
    from core.errors import DataValidationError

    for package in extension_packages():
        if package in _PROBLEMS:
            continue
        try:
            _import_extension(package)
        except DataValidationError as exc:
            _PROBLEMS[package] = str(exc)
    problems = extension_problems()
    if strict and problems:
        raise DataValidationError(" ".join(problems))


def extension_problems() -> list[str]:
    """Why packages named in ``STUDIO_SCENARIOS`` were left out (empty when all of them registered)."""
    return [_PROBLEMS[p] for p in extension_packages() if p in _PROBLEMS]


def _load(key: str) -> None:
    if key in _REGISTRY:
        return
    # The cheap way first: a built-in package of that name; else every scenario there is.
    if key.isidentifier() and (ROOT / "core" / key / "scenario.py").exists():
        _import_builtin(f"core.{key}.scenario")
    if key not in _REGISTRY:
        discover()


def find_scenario(key: Any) -> Scenario | None:
    """The registered scenario ``key``, or None (a run saved by an unknown or removed scenario)."""
    key = str(key) if key is not None else ""
    _load(key)
    return _REGISTRY.get(key)


def get_scenario(key: Any) -> Scenario:
    """The registered scenario ``key``; raises ``DataValidationError`` naming the known ones."""
    found = find_scenario(key)
    if found is None:
        from core.errors import DataValidationError

        left_out = "".join(f" ({p})" for p in extension_problems())
        raise DataValidationError(f"Scenario must be one of {', '.join(scenario_keys())}; got '{key}'.{left_out} "
                                  "Fix: pass the key of a scenario (or pick a run saved by one).")
    return found


def scenario_keys() -> tuple[str, ...]:
    """Every scenario's key, by each scenario's declared ``order`` (then the order they registered in)."""
    discover()
    ranked = sorted(enumerate(_REGISTRY.items()), key=lambda item: (getattr(item[1][1], "order", 100), item[0]))
    return tuple(key for _, (key, _s) in ranked)


def builtin_keys() -> tuple[str, ...]:
    """The keys of the scenarios whose package is under ``core/``, in order."""
    return tuple(k for k in scenario_keys() if type(_REGISTRY[k]).__module__.startswith("core."))


def all_scenarios() -> list[Scenario]:
    return [_REGISTRY[k] for k in scenario_keys()]


class _Specs(Mapping):
    """``key -> ScenarioSpec`` of the registered scenarios that have one (their ``spec``), in order."""

    def _specs(self) -> dict[str, ScenarioSpec]:
        return {s.key: s.spec for s in all_scenarios() if getattr(s, "spec", None) is not None}

    def __getitem__(self, key):
        found = find_scenario(key)
        spec = getattr(found, "spec", None)
        if spec is None:
            raise KeyError(key)
        return spec

    def __iter__(self):
        return iter(self._specs())

    def __len__(self) -> int:
        return len(self._specs())

    def __repr__(self) -> str:
        return repr(self._specs())


# What the app's navigation, the Overview and the pages read: each scenario's ``spec``.
SCENARIOS: Mapping[str, ScenarioSpec] = _Specs()


def __getattr__(name: str):
    # ``BUILTIN_KEYS``, for code that imported the former constant: the built-in packages' keys, found.
    if name == "BUILTIN_KEYS":
        return builtin_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ScenarioKeys:
    """The scenario keys as a live sequence (``in``, iteration, ``join``): what argparse ``choices``
    and messages read, so a scenario registered after import is offered too."""

    def __iter__(self) -> Iterator[str]:
        return iter(scenario_keys())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and find_scenario(key) is not None

    def __len__(self) -> int:
        return len(scenario_keys())

    def __getitem__(self, i):
        return scenario_keys()[i]

    def __repr__(self) -> str:
        return repr(scenario_keys())


class ByScenario(Mapping):
    """A read-only live ``key -> attribute`` view over the registered scenarios
    (e.g. ``ByScenario("title")``), for code that used a dict per scenario."""

    def __init__(self, attr: str, convert: Callable[[Any], Any] = lambda v: v):
        self.attr, self.convert = attr, convert

    def __getitem__(self, key):
        found = find_scenario(key)
        if found is None:
            raise KeyError(key)
        return self.convert(getattr(found, self.attr))

    def __iter__(self):
        return iter(scenario_keys())

    def __len__(self) -> int:
        return len(scenario_keys())
