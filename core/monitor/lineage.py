"""Champion and challenger: which run replaced which, recorded beside each run's log.

A challenger records its champion when it is saved (``workspace.lineage`` in its metadata: the
champion's run id and folder, the comparison rows). Its verdict against the champion and every
later change of role live in ``status.json`` in each run's monitor folder, since a saved run's own
files never change: ``challenger`` (with the verdict), ``champion`` (promoted, with the run it
replaces), ``retired`` (replaced by a promoted challenger). ``promote`` is the only way a challenger
becomes the champion; nothing is promoted automatically.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from core.errors import DataValidationError
from core.monitor.store import STATUS_FILE, log_dir, utc_now  # noqa: F401  (STATUS_FILE: its old home)



def read_status(run_dir) -> dict:
    try:
        data = json.loads((log_dir(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_status(run_dir, **changes) -> dict:
    """Merge ``changes`` into the run's status and save it atomically; returns the new status."""
    path = log_dir(run_dir) / STATUS_FILE
    data = {**read_status(run_dir), **changes}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise DataValidationError(f"Expected to record the run's status in '{path.parent}'; got "
                                  f"'{exc.strerror or exc}'. Fix: make the folder writable.") from exc
    return data


def get_lineage(meta: dict) -> dict:
    """What a challenger recorded about its champion when it was saved (empty for other runs)."""
    from core.store.runmeta import workspace

    lineage = workspace(meta).get("lineage")
    return lineage if isinstance(lineage, dict) else {}


def _champion_dir(challenger_dir: Path, lineage: dict) -> Path:
    for candidate in (challenger_dir.parent / str(lineage.get("champion", "")), Path(str(lineage.get("champion_path", "")))):
        if candidate.name and (candidate / "metadata.json").is_file():
            return candidate
    raise DataValidationError(f"Expected the champion '{lineage.get('champion')}' of this challenger beside it; got no "
                              "such run (deleted or moved). Fix: keep the champion's folder in the same runs folder.")


def promote(challenger_dir) -> dict:
    """Make a challenger the champion and retire its champion. Returns what was done, including the
    verdict recorded when the challenger was compared (``better`` / ``on par`` / ``worse``)."""
    from core.store.registry import read_metadata

    challenger_dir = Path(challenger_dir)
    meta = read_metadata(challenger_dir)
    lineage = get_lineage(meta)
    if not lineage.get("champion"):
        raise DataValidationError(f"Expected a challenger (a run trained with python -m core retrain or the Monitor page's "
                                  f"retrain button); got run '{challenger_dir.name}', which has no champion. Fix: pass "
                                  "the challenger's folder.")
    status = read_status(challenger_dir)
    if status.get("role") == "champion":
        raise DataValidationError(f"Expected a challenger that is not promoted yet; got '{challenger_dir.name}', promoted "
                                  f"on {status.get('promoted_at')}. Fix: nothing to do.")
    champion_dir = _champion_dir(challenger_dir, lineage)
    champ_status = read_status(champion_dir)
    if champ_status.get("role") == "retired":
        raise DataValidationError(f"Expected the champion '{champion_dir.name}' to be in service; got it already replaced by "
                                  f"'{champ_status.get('replaced_by')}'. Fix: retrain from the current champion and "
                                  "promote that challenger.")
    now = utc_now().isoformat(timespec="seconds")
    write_status(champion_dir, role="retired", replaced_by=challenger_dir.name, retired_at=now)
    write_status(challenger_dir, role="champion", replaces=champion_dir.name, promoted_at=now)
    verdict = status.get("verdict") or {}
    return {"promoted": challenger_dir.name, "retired": champion_dir.name, "at": now,
            "verdict": verdict.get("outcome"), "sentence": verdict.get("sentence")}


def describe(meta: dict, status: dict | None = None) -> list[str]:
    """Lines for the Runs and Monitor pages: whose challenger a run is, its verdict, its promotions."""
    status = status if status is not None else read_status(meta.get("path", ""))
    lines = []
    lineage = get_lineage(meta)
    if lineage.get("champion") and lineage.get("origin"):  # a forecast's challenger (core.demand.retrain)
        lines.append(f"Challenger of run “{lineage['champion']}”, trained on the sales history before "
                     f"{lineage['origin']} (the champion's forecast origin; {int(lineage.get('file_rows', 0)):,} rows "
                     f"given) and compared on {int(lineage.get('holdout_rows', 0)):,} series-periods of "
                     f"{lineage.get('holdout_period', 'the latest period')}.")
    elif lineage.get("champion"):
        lines.append(f"Challenger of run “{lineage['champion']}”, trained on its data plus "
                     f"{int(lineage.get('new_rows', 0)):,} newly labelled rows and compared on "
                     f"{int(lineage.get('holdout_rows', 0)):,} rows of {lineage.get('holdout_period', 'the latest period')}.")
    if status.get("verdict", {}).get("sentence"):
        lines.append(status["verdict"]["sentence"])
    if status.get("challengers"):
        lines.append("Challengers trained from this run: " + ", ".join(f"“{c}”" for c in status["challengers"]) + ".")
    if status.get("role") == "champion" and status.get("replaces"):
        lines.append(f"Promoted to champion on {status.get('promoted_at')}, replacing run “{status['replaces']}”.")
    if status.get("role") == "retired":
        lines.append(f"Retired on {status.get('retired_at')}: replaced by run “{status.get('replaced_by')}”.")
    return lines
