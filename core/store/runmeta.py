"""A saved run's metadata, typed and versioned: what every run has, and one migration for older runs.

``metadata.json`` (written by ``core.store.registry.save_run``) carries ``schema_version``. Runs saved before
the version existed are schema 0, whatever their fields: some lack the workspace summary, some hold a
section of another shape (a hand edit, an older release), credit kept its decision record in two places.
``migrate`` is the one function that turns any of them into today's shape; ``core.store.registry.read_metadata``
(and so ``load_run`` and ``list_runs``) runs it once, so readers take the sections as they are:

- ``workspace`` is a dict or absent; each of its known sections is of its type or absent
  (``WORKSPACE_SECTIONS``), the headline's lists hold only figures (dicts) or sentences (strings);
- the decision record is ``workspace.decision``, saved once (a scenario moves an older run's own copy
  there with its ``upgrade_metadata`` hook: schema 0 to 1, credit's threshold and scorecard and quality's
  top-level threshold; 1 to 2, fraud's top-level model threshold and quality's top-level costs);
- a run saved by a newer release (a higher ``schema_version``) is refused with a ``DataValidationError``
  (the Runs list shows it as unreadable, with the message).

``RunMeta.from_dict`` / ``to_dict`` give the typed view of a migrated dict (``from_dict(d).to_dict() == d``);
scenario-specific parts stay a mapping (``RunMeta.scenario_data``). The accessor functions below
(``workspace``, ``section``, ``headline``, ``decision``, ``has_summary``) read the same dicts in place.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.errors import DataValidationError

SCHEMA_VERSION = 2
SCHEMA_KEY = "schema_version"
# The known sections of the workspace summary (core.report.runsummary.envelope) and the type each must have.
WORKSPACE_SECTIONS: dict[str, type | tuple[type, ...]] = {
    "name": str, "scenario": str, "currency": str, "dataset": dict, "params": dict, "headline": dict,
    "input": dict, "profile": dict, "curves": dict, "decision": dict, "explain": dict, "metrics": dict,
    "intended_use": str, "limitations": list}
# The headline's parts: lists of figures (dicts) or sentences (strings), and the saved verdict / trust.
HEADLINE_LISTS = {"quality": dict, "impact": dict, "assumptions": str}
HEADLINE_PARTS = {"verdict": dict, "trust": list, "recommended": dict}
_TOP = ("scenario", "run_id", "saved_at", "format_version", SCHEMA_KEY, "workspace", "files")


# ---------------------------------------------------------------- the migration
def schema_version_of(meta: Mapping, *, name: str = "run") -> int:
    """The metadata's schema version (0 when it has none); a newer or unreadable one is refused."""
    got = meta.get(SCHEMA_KEY, 0)
    if isinstance(got, bool) or not isinstance(got, int) or got < 0:
        raise DataValidationError(
            f"Run '{name}' cannot be read: expected a whole schema_version from 0 to {SCHEMA_VERSION} in its "
            f"metadata.json; got {got!r}. Fix: restore the run's own metadata.json, or delete the run and train again.")
    if got > SCHEMA_VERSION:
        raise DataValidationError(
            f"Run '{name}' was saved by a newer version of the studio (run metadata schema {got}); this version "
            f"reads schema {SCHEMA_VERSION} and older. Fix: open it with the version that saved it, or train "
            "the run again with this one.")
    return got


def migrate(meta: Mapping, *, name: str = "run") -> dict:
    """``meta`` (any schema version up to ``SCHEMA_VERSION``) in today's shape, as a new dict; ``name``
    names the run in the message when it cannot be read (not a JSON object, newer schema)."""
    if not isinstance(meta, Mapping):
        raise DataValidationError(
            f"Run '{name}' cannot be read: expected a JSON object in its metadata.json; got "
            f"{type(meta).__name__}. Fix: restore the run's own metadata.json, or delete the run and train again.")
    version = schema_version_of(meta, name=name)
    out = copy.deepcopy(dict(meta))
    for step in _STEPS[version:]:
        out = step(out)
    out[SCHEMA_KEY] = SCHEMA_VERSION
    return out


def _upgrade(meta: dict, version: int) -> dict:
    """``meta`` after its scenario's own step from schema ``version`` to the next (``upgrade_metadata``)."""
    upgrade = getattr(_find(meta.get("scenario")), "upgrade_metadata", None)
    return upgrade(meta, version) if callable(upgrade) else meta


def _v0_to_v1(meta: dict) -> dict:
    """Schema 0 (no version) to 1: sections of another shape left out, the decision record in one place."""
    ws = meta.get("workspace")
    if "workspace" in meta and not isinstance(ws, dict):
        del meta["workspace"]
    elif isinstance(ws, dict):
        for key, kind in WORKSPACE_SECTIONS.items():
            if key in ws and not isinstance(ws[key], kind):
                del ws[key]
        head = ws.get("headline")
        if isinstance(head, dict):
            for key, kind in HEADLINE_LISTS.items():
                if key in head:
                    head[key] = [x for x in head[key] if isinstance(x, kind)] if isinstance(head[key], list) else []
            for key, kind in HEADLINE_PARTS.items():
                if key in head and not isinstance(head[key], kind):
                    del head[key]
    return _upgrade(meta, 0)


def _v1_to_v2(meta: dict) -> dict:
    """Schema 1 to 2: the values a scenario still kept beside its decision record as well (fraud's model
    threshold, quality's costs) moved into it, so each is saved once."""
    return _upgrade(meta, 1)


_STEPS = (_v0_to_v1, _v1_to_v2)  # _STEPS[v] brings schema v to v + 1; one more step per new SCHEMA_VERSION


def _find(key):
    if not isinstance(key, str):
        return None
    from core.store.scenario_registry import find_scenario  # below core.store.scenarios, which reads through core.store.saved

    return find_scenario(key)


def move_to_decision(meta: dict, part: str | None, keys: tuple[str, ...], *,
                     names: Mapping[str, str] | None = None) -> dict:
    """For a scenario's ``upgrade_metadata``: move ``keys`` of its own section ``meta[part]`` (of ``meta``
    itself when ``part`` is None: an older run's top-level copy of the decision record) into
    ``workspace.decision``, the one place it is kept, under ``names[key]`` when given (else ``key``).
    The moved values win: they are what the run scored with."""
    own = meta if part is None else meta.get(part)
    if not isinstance(own, dict) or not any(k in own for k in keys):
        return meta
    record = decision_record(meta)
    for k in keys:
        if k in own:
            record[(names or {}).get(k, k)] = own.pop(k)
    return meta


def decision_record(meta: dict) -> dict:
    """``meta``'s ``workspace.decision`` to write into, made (with the workspace) when absent."""
    return meta.setdefault("workspace", {}).setdefault("decision", {})


# ---------------------------------------------------------------- reading a migrated dict in place
def workspace(meta: Mapping) -> dict:
    """The run's workspace summary ({} when saved without one)."""
    return meta.get("workspace") or {}


def section(meta: Mapping, name: str) -> dict:
    """One dict section of the workspace summary (``"decision"``, ``"input"``, ``"profile"`` ...), or {}."""
    return workspace(meta).get(name) or {}


def headline(meta: Mapping) -> dict:
    return section(meta, "headline")


def decision(meta: Mapping) -> dict:
    """The run's decision record (``workspace.decision``; {} when none was saved)."""
    return section(meta, "decision")


def has_summary(meta: Mapping) -> bool:
    """Whether the run was saved with the workspace summary (not only its decision record)."""
    return any(k != "decision" for k in workspace(meta))


# ---------------------------------------------------------------- the typed view
def _opt(d: Mapping, key: str):
    return copy.deepcopy(d[key]) if key in d else None


@dataclass(frozen=True)
class Headline:
    """Headline figures (``{"label", "value", "fmt", "unit"?}``), their assumptions, the verdict against the
    best baseline (``core.ml.verdict.Verdict.to_dict``), the trust flags (``core.report.trust``) and the recommended model."""

    quality: tuple[dict, ...] | None = None
    impact: tuple[dict, ...] | None = None
    assumptions: tuple[str, ...] | None = None
    verdict: dict | None = None
    trust: tuple[dict, ...] | None = None
    recommended: dict | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping) -> "Headline":
        tup = (lambda k: tuple(copy.deepcopy(d[k])) if k in d else None)
        known = ("quality", "impact", "assumptions", "trust")
        return cls(*(tup(k) for k in known[:3]), verdict=_opt(d, "verdict"), trust=tup("trust"),
                   recommended=_opt(d, "recommended"),
                   extra={k: copy.deepcopy(v) for k, v in d.items() if k not in (*known, "verdict", "recommended")})

    def to_dict(self) -> dict:
        out = {k: list(v) if isinstance(v, tuple) else v for k in ("quality", "impact", "assumptions", "verdict",
                                                                   "trust", "recommended")
               if (v := copy.deepcopy(getattr(self, k))) is not None}
        return {**out, **copy.deepcopy(self.extra)}

    @property
    def outcome(self) -> str | None:
        """The saved verdict's outcome ("better", "worse", "on par"), or None."""
        return (self.verdict or {}).get("outcome")


@dataclass(frozen=True)
class Workspace:
    """The workspace summary every scenario saves (``core.report.runsummary.envelope``); sections it lacks are None."""

    name: str | None = None
    scenario: str | None = None
    dataset: dict | None = None
    params: dict | None = None
    headline: Headline | None = None
    input: dict | None = None
    profile: dict | None = None
    curves: dict | None = None
    decision: dict | None = None
    explain: dict | None = None
    metrics: dict | None = None
    intended_use: str | None = None
    limitations: tuple[str, ...] | None = None
    currency: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping) -> "Workspace":
        kw = {k: _opt(d, k) for k in WORKSPACE_SECTIONS if k not in ("headline", "limitations")}
        return cls(**kw, headline=Headline.from_dict(d["headline"]) if "headline" in d else None,
                   limitations=tuple(d["limitations"]) if "limitations" in d else None,
                   extra={k: copy.deepcopy(v) for k, v in d.items() if k not in WORKSPACE_SECTIONS})

    def to_dict(self) -> dict:
        out = {}
        for k in WORKSPACE_SECTIONS:
            v = getattr(self, k)
            if v is not None:
                out[k] = v.to_dict() if k == "headline" else list(v) if k == "limitations" else copy.deepcopy(v)
        return {**out, **copy.deepcopy(self.extra)}


@dataclass(frozen=True)
class RunMeta:
    """What every saved run has; ``scenario_data`` holds the rest (the scenario's own sections, its model's
    settings, the training's metrics), as saved."""

    scenario: str
    run_id: str
    saved_at: float | None = None
    format_version: int = 1
    schema_version: int = SCHEMA_VERSION
    workspace: Workspace | None = None
    files: dict | None = None
    scenario_data: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping, *, name: str = "run") -> "RunMeta":
        """The typed view of ``d``, migrated first when it is of an older schema."""
        if not isinstance(d, Mapping) or d.get(SCHEMA_KEY) != SCHEMA_VERSION:
            d = migrate(d, name=name)
        return cls(scenario=str(d.get("scenario", "")), run_id=str(d.get("run_id", "")), saved_at=d.get("saved_at"),
                   format_version=d.get("format_version", 1), schema_version=d[SCHEMA_KEY],
                   workspace=Workspace.from_dict(d["workspace"]) if "workspace" in d else None,
                   files=_opt(d, "files"), scenario_data={k: copy.deepcopy(v) for k, v in d.items() if k not in _TOP})

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"format_version": self.format_version, SCHEMA_KEY: self.schema_version,
                               "run_id": self.run_id}
        if self.saved_at is not None:
            out["saved_at"] = self.saved_at
        out["scenario"] = self.scenario
        out.update(copy.deepcopy(self.scenario_data))
        if self.workspace is not None:
            out["workspace"] = self.workspace.to_dict()
        if self.files is not None:
            out["files"] = copy.deepcopy(self.files)
        return out

    @property
    def model_kind(self) -> str | None:
        """What the run's model file takes ("table", "sequence", "image"), from its scenario."""
        return getattr(_find(self.scenario), "model_kind", None)

    @property
    def title(self) -> str:
        """The analyst's name for the run, else its id."""
        return (self.workspace.name if self.workspace is not None else None) or self.run_id

    @property
    def decision(self) -> dict:
        """The decision record ({} when none was saved)."""
        return dict((self.workspace.decision if self.workspace is not None else None) or {})

    @property
    def has_summary(self) -> bool:
        return self.workspace is not None and any(k != "decision" for k in self.workspace.to_dict())
