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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - types only
    import pandas as pd

    from core.batch import BatchResult
    from core.columncheck import ColumnReport
    from core.serving import Predictor
    from core.monitor.spec import MonitorSpec

ROOT = Path(__file__).resolve().parent.parent
BUILTIN_KEYS = ("credit", "fraud", "demand", "quality")


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

    @property
    def sample_batch_path(self) -> Path | None:
        """The bundled new-data sample, if this scenario has one and it is on disk."""
        path = ROOT / self.sample_batch if self.sample_batch else None
        return path if path is not None and path.exists() else None

    @property
    def available(self) -> bool:
        """A scenario is offered once both its page and its engine package exist."""
        return (ROOT / self.page).exists() and (ROOT / "core" / self.key / "cli.py").exists()


SCENARIOS: dict[str, ScenarioSpec] = {
    s.key: s
    for s in (
        ScenarioSpec(
            "credit", "Credit scoring", ":material/credit_score:",
            "Which applicants will repay, and where should the approval line be?",
            "Trains a Keras network against logistic regression and gradient boosting on loan "
            "applications; turns scores into scorecard points, grades, a profit-optimal approval "
            "threshold, reason codes for declines, fairness checks and drift (PSI).",
            "CSV or Parquet, one row per application, a binary outcome column (e.g. default).",
            "pages/credit.py",
            "sample_data/credit_new_month.csv",
        ),
        ScenarioSpec(
            "fraud", "Fraud detection", ":material/policy:",
            "Which card transactions should the team review or block today?",
            "Engineers customer and terminal history features from a raw transaction log without "
            "leakage, compares imbalance strategies, sets an alert policy by capacity and cost, and "
            "builds an explained alert queue.",
            "CSV or Parquet transaction log: timestamp, amount, optional customer and terminal ids, fraud label.",
            "pages/fraud.py",
            "sample_data/fraud_new_month.csv.gz",
        ),
        ScenarioSpec(
            "demand", "Demand forecasting", ":material/trending_up:",
            "How much will each store sell, and when should it reorder?",
            "One global Keras model forecasts every store × product series with P10/P50/P90 "
            "intervals, backtested against seasonal-naive and moving-average baselines, and turns "
            "the quantiles into safety stock and reorder points.",
            "CSV or Parquet: date, quantity, optional series ids (store, product) and covariates.",
            "pages/demand.py",
            "sample_data/demand_next_quarter.csv",
        ),
        ScenarioSpec(
            "quality", "Quality inspection", ":material/center_focus_strong:",
            "Which parts coming off the line are defective, and why does the model think so?",
            "Trains a CNN on labelled product images, sets the reject threshold by the cost of "
            "escapes versus false rejects, and shows Grad-CAM and SHAP heatmaps for every image.",
            "A zip with one folder per class, or images plus a labels CSV.",
            "pages/quality.py",
            "sample_data/quality_new_batch.zip",
        ),
    )
}


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
    input_kind: str
    intended_use: str
    limitations: tuple[str, ...]
    model_text: str
    decision_words: str
    imbalance_applies: bool
    input_hint: str
    decisions_title: str
    page_reason_rows: int | None

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
    """A scenario's demo: its bundled sample, its share of the demos' time, and the runner
    ``run(root, settings, progress) -> saved run folder`` (settings: ``core.workspace.demos.DemoSettings``)."""

    sample: Path
    weight: float
    run: Callable[[Path, Any, Callable[[float, str], None]], Path]


class ScenarioBase:
    """Defaults for the optional hooks, so a new scenario writes only what is its own.

    Subclasses set the text attributes and implement ``build_summary``, ``score`` and ``cli``.
    """

    key = ""
    title = ""
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
        return importlib.import_module(f"core.{self.key}.cli")

    def demo(self) -> Demo | None:
        return None

    def predictor(self, run_dir, *, runtime: str = "keras"):
        """``make_predictor(run_dir, runtime=...)`` of the package's ``serving`` module (``core/<name>/serving.py``)."""
        from core.errors import DataValidationError
        from core.runtime import check_runtime

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
SCENARIO_HOOKS = ("key", "title", "input_kind", "intended_use", "limitations", "model_text", "decision_words",
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


def _load(key: str) -> None:
    if key in BUILTIN_KEYS and key not in _REGISTRY:
        importlib.import_module(f"core.{key}.scenario")


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

        raise DataValidationError(f"Scenario must be one of {', '.join(scenario_keys())}; got '{key}'. "
                                  "Fix: pass the key of a scenario (or pick a run saved by one).")
    return found


def scenario_keys() -> tuple[str, ...]:
    """Every scenario's key: the built-in ones first, then registered ones in order."""
    for key in BUILTIN_KEYS:
        _load(key)
    return tuple([k for k in BUILTIN_KEYS if k in _REGISTRY] + [k for k in _REGISTRY if k not in BUILTIN_KEYS])


def all_scenarios() -> list[Scenario]:
    return [_REGISTRY[k] for k in scenario_keys()]


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
