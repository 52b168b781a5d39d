"""The runs folder on disk: the sub-folders a visitor may pick and the deletion of one run.

A run is a direct child folder holding ``metadata.json`` or ``model.keras``; deletion renames it to a
hidden trash name first (one atomic step), so a crash leaves only a folder that nothing lists.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from core.errors import DataValidationError

TRASH_PREFIX = ".trash-"
_RUN_FILES = ("metadata.json", "model.keras")


def list_run_folders(base) -> list[str]:
    """The sub-folders of the runs folder ``base`` a visitor may pick (names, sorted): direct child
    folders that are not runs themselves, not hidden (a visitor's private folder, a deletion in
    progress) and not links (a link could lead anywhere on the server). The operator makes them
    (``mkdir runs/team-a``, or ``--save runs/team-a/RUN`` on the command line); a visitor cannot name
    any other folder."""
    base = Path(base)
    try:
        children = sorted(base.iterdir(), key=lambda p: p.name.lower()) if base.is_dir() else []
    except OSError:
        return []
    return [p.name for p in children
            if not p.name.startswith(".") and not p.is_symlink() and p.is_dir()
            and not any((p / f).exists() for f in _RUN_FILES)]


def resolve_run_folder(base, name: str | None) -> Path:
    """``base`` or its sub-folder ``name`` when ``list_run_folders`` offers it; anything else (a path, a
    hidden or linked folder, one deleted since) falls back to ``base``."""
    base = Path(base)
    return base / name if name and name in list_run_folders(base) else base


def delete_run(root, run) -> None:
    """Delete one run folder, atomically and only inside ``root``.

    ``run`` is a run id or a path. Only a direct child folder of ``root`` that holds run files is
    deleted; ``..``, symbolic links and anything outside ``root`` are refused. The folder is first
    renamed to a hidden trash name (one atomic step: the run stops listing at once) and then removed,
    so a crash can leave only a hidden folder that ``list_runs`` ignores and the next delete clears.
    """
    root_path = Path(root)
    raw = str(run).strip()
    name = Path(raw).name
    if not raw or ".." in Path(raw).parts or name in ("", ".", "..") or name.startswith("."):
        raise DataValidationError(
            f"Expected the id of a run in the runs folder; got '{raw}'. Fix: pick a run from the list.")
    root_real = root_path.resolve()
    target = root_path / name
    if Path(raw).is_absolute() or len(Path(raw).parts) > 1:
        # A path was given: it must name exactly that child of the runs folder.
        if Path(raw).parent.resolve() != root_real:
            raise DataValidationError(
                f"Only runs inside the runs folder can be deleted; got '{raw}'. "
                "Fix: pick a run from the list.")
    if target.is_symlink() or target.resolve().parent != root_real:
        raise DataValidationError(
            f"Run '{name}' is a link to another place, not a run folder; it was not deleted. "
            "Fix: remove the link by hand if it is not wanted.")
    if not target.is_dir():
        raise DataValidationError(
            f"Expected a run folder '{name}' in the runs folder; there is none (already deleted?). "
            "Fix: refresh the list.")
    if not any((target / f).exists() for f in _RUN_FILES):
        raise DataValidationError(
            f"Folder '{name}' holds no saved run ({' or '.join(_RUN_FILES)}); it was not deleted. "
            "Fix: pick a run from the list.")
    _purge_trash(root_real)
    trash = root_real / f"{TRASH_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    os.rename(target, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _purge_trash(root: Path) -> None:
    """Finish deletions a crash interrupted (hidden trash folders of this module only)."""
    for p in root.iterdir():
        if p.name.startswith(TRASH_PREFIX) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
