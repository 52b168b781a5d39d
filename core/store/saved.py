"""What a saved run's metadata says about its input and its decision, read as saved.

The metadata is read in today's shape (``core.store.runmeta``: ``core.store.registry.read_metadata`` migrates an
older run once), so its sections are of their types or absent. These readers never ask the scenario (``core.store.scenarios``); the scenario contract's default hooks call
them, and ``core.data.columncheck`` / ``core.serve.decisions`` ask the scenario and fall back on them. Keeping them
below both is what lets the registry and its callers import one way only.
"""

from __future__ import annotations

from core.store.runmeta import decision, section

NUMBER, DATE, CATEGORY = "number", "date", "category"


def profile_from_summary(meta: dict) -> dict | None:
    """The drift profile saved in the run's workspace summary, or None."""
    profile = section(meta, "profile")
    return profile if profile.get("columns") else None


def images_input(meta: dict) -> dict:
    """``{"kind": "images", ...}``: image size, channels and classes of an image model."""
    inp = section(meta, "input")
    return {"kind": "images", "columns": {}, "image_size": meta.get("image_size", inp.get("image_size")),
            "channels": meta.get("channels", inp.get("channels")),
            "class_names": list(meta.get("class_names", inp.get("class_names", [])))}


def expected_from_summary(meta: dict, kinds: dict[str, str] | None = None) -> dict:
    """What a file to score must contain, read from the run's workspace summary (``input``), or
    the column ``kinds`` a scenario read from its own metadata."""
    inp = section(meta, "input")
    if inp.get("kind") == "images":
        return images_input(meta)
    if kinds is None:
        numeric = set(inp.get("numeric", []))
        kinds = {c: NUMBER if c in numeric else CATEGORY for c in inp.get("columns", [])}
    return {"kind": "table", "columns": dict(kinds), "target": inp.get("target")}


def saved_decision(meta: dict) -> dict:
    """``workspace.decision`` of a saved run, its one decision record (empty when not recorded)."""
    return decision(meta)
