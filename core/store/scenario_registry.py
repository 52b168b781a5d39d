"""The scenario registry: which scenarios exist, found rather than listed, and the live views over them.

``discover`` imports every ``core/*/scenario.py`` and, for extension packages, each importable package
named in ``STUDIO_SCENARIOS`` (its ``scenario`` module, or the package itself); each calls ``register``.
Lists follow each scenario's declared ``order``. ``SCENARIOS`` (key -> ``ScenarioSpec``), ``ScenarioKeys``
and ``ByScenario`` are live views, so a scenario registered later is in them. The contract itself
(``Scenario``, ``ScenarioBase``, ``ScenarioSpec``) is ``core.store.scenarios``, which re-exports all of this.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

if TYPE_CHECKING:  # pragma: no cover - types only
    from core.store.scenarios import Scenario, ScenarioSpec

ROOT = Path(__file__).resolve().parent.parent.parent


# Every attribute and hook of ``Scenario``, checked when a scenario registers.
SCENARIO_HOOKS = ("key", "title", "order", "spec", "model_kind", "memory_estimate", "input_kind", "intended_use",
                  "limitations", "model_text", "decision_words", "imbalance_applies", "input_hint", "decisions_title",
                  "page_reason_rows", "build_summary", "expected_input", "training_profile", "decision_settings",
                  "decision_controls", "decision_note", "input_notices", "score", "card_sections", "cli", "demo",
                  "predictor", "monitor")


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
                                  "Fix: subclass core.store.scenarios.ScenarioBase.")
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
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise _failed(package, name, exc) from exc  # something the package itself imports is missing
        except DataValidationError:
            raise
        except Exception as exc:  # the package's own code failed while it was imported
            raise _failed(package, name, exc) from exc
    else:
        raise DataValidationError(f"{EXTENSIONS_ENV} names the package '{package}', which Python cannot import. "
                                  "Fix: put the folder that holds it on PYTHONPATH (or install it), or remove it "
                                  f"from {EXTENSIONS_ENV}.")
    if not any(type(s).__module__ == package or type(s).__module__.startswith(package + ".")
               for s in _REGISTRY.values()):
        raise DataValidationError(f"The package '{package}' in {EXTENSIONS_ENV} registers no scenario. Fix: call "
                                  f"core.store.scenarios.register(YourScenario()) in {package}/scenario.py.")


def _failed(package: str, module: str, exc: Exception):
    from core.errors import DataValidationError

    return DataValidationError(f"The package '{package}' in {EXTENSIONS_ENV} failed while '{module}' was imported: "
                               f"{type(exc).__name__}: {exc}. Fix: install what it needs or correct it, or remove it "
                               f"from {EXTENSIONS_ENV}.")


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
