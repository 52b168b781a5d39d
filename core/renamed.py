"""Modules of core that moved into layer packages, by their former names.

A job's result is pickled to disk (``core.jobs.store``) and pickles name classes by module: a result written
before the move names ``core.<module>``. ``find_class`` resolves such a name to where the module lives now, so
those results still load; nothing else imports the old names.
"""

from __future__ import annotations

import importlib

MOVED = {
    "core.access": "core.serve.access",
    "core.archivefile": "core.data.archivefile",
    "core.batch": "core.serve.batch",
    "core.blend": "core.ml.blend",
    "core.card": "core.present.card",
    "core.charts": "core.present.charts",
    "core.columncheck": "core.data.columncheck",
    "core.console": "core.present.console",
    "core.datasets": "core.data.datasets",
    "core.decisions": "core.serve.decisions",
    "core.dependence": "core.ml.dependence",
    "core.drift": "core.data.drift",
    "core.excel": "core.data.excel",
    "core.explain": "core.ml.explain",
    "core.flipsearch": "core.ml.flipsearch",
    "core.glossary": "core.present.glossary",
    "core.imbalance": "core.data.imbalance",
    "core.lift": "core.ml.lift",
    "core.memory_guard": "core.store.memory_guard",
    "core.metrics": "core.ml.metrics",
    "core.models": "core.ml.models",
    "core.money": "core.present.money",
    "core.outcome": "core.data.outcome",
    "core.pitch": "core.report.pitch",
    "core.preprocess": "core.data.preprocess",
    "core.privacy": "core.data.privacy",
    "core.pseudonym": "core.data.pseudonym",
    "core.registry": "core.store.registry",
    "core.rowhash": "core.data.rowhash",
    "core.runmeta": "core.store.runmeta",
    "core.runsummary": "core.report.runsummary",
    "core.safety": "core.data.safety",
    "core.saved": "core.store.saved",
    "core.scenario_registry": "core.store.scenario_registry",
    "core.scenarios": "core.store.scenarios",
    "core.serving": "core.serve.serving",
    "core.streaming": "core.serve.streaming",
    "core.tablefile": "core.data.tablefile",
    "core.tablestream": "core.data.tablestream",
    "core.tabular": "core.ml.tabular",
    "core.training": "core.ml.training",
    "core.trust": "core.report.trust",
    "core.units": "core.present.units",
    "core.verdict": "core.ml.verdict",
}


def current_module(module: str) -> str:
    """Where ``module`` (a dotted name) lives now: itself, or its new home when it or a parent moved."""
    for old, new in MOVED.items():
        if module == old or module.startswith(old + "."):
            return new + module[len(old):]
    return module


def find_class(module: str, name: str):
    """The object a pickle names as ``module.name``, read under the module's current name."""
    obj = importlib.import_module(current_module(module))
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj
