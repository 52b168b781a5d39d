"""How the layout of an image upload gives each image its label.

Two layouts: one folder per class (``ok/a.png``), or images plus a CSV with a file-name column and
a label column. A single folder wrapping everything (``my_images/ok/a.png``) is dropped first.
Files are the archive's ``{path: bytes}``; nothing here decodes an image.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import pandas as pd

from core.errors import DataValidationError

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
FILE_COLUMNS = ("filename", "file", "image", "path", "file_name", "image_path", "name")
LABEL_COLUMNS = ("label", "class", "target", "category", "defect", "y")


def strip_common_root(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop a single folder that wraps everything (``my_images/ok/a.png`` -> ``ok/a.png``).

    Only images and CSVs decide whether there is a wrapper: a stray ``my_images/readme.txt``
    must not turn the wrapper folder into a class.
    """
    while True:
        data_paths = [PurePosixPath(p) for p in files
                      if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS | {".csv"}]
        if not data_paths:
            return files
        firsts = {p.parts[0] for p in data_paths}
        csv_at_root = any(p.suffix.lower() == ".csv" and len(p.parts) == 2 for p in data_paths)
        images_deep = all(len(p.parts) >= 3 for p in data_paths if p.suffix.lower() != ".csv")
        # Only a real folder can be a wrapper: a lone file at the top (e.g. labels.csv with no
        # images) is not, and stripping nothing would loop for ever.
        if len(firsts) != 1 or any(len(p.parts) < 2 for p in data_paths) or not (images_deep or csv_at_root):
            return files
        root = next(iter(firsts))
        files = {str(PurePosixPath(*PurePosixPath(p).parts[1:])) if PurePosixPath(p).parts[0] == root
                 and len(PurePosixPath(p).parts) > 1 else p: b for p, b in files.items()}


def _pick_column(df: pd.DataFrame, candidates, kind: str) -> str:
    lower = {str(c).strip().lower(): c for c in df.columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise DataValidationError(
        f"The labels CSV needs a {kind} column named one of {', '.join(candidates)}; "
        f"got columns {', '.join(map(str, df.columns))}. Rename the column in the CSV."
    )


def labels_from_csv(files: dict[str, bytes], csv_names: list[str]) -> tuple[dict[str, str], list[str]]:
    if len(csv_names) > 1:
        raise DataValidationError(
            f"Expected at most one labels CSV; got {len(csv_names)}: {', '.join(csv_names[:5])}. "
            "Keep a single CSV with columns filename,label."
        )
    name = csv_names[0]
    try:
        df = pd.read_csv(io.BytesIO(files[name]), dtype=str)
    except Exception as exc:  # pandas raises many parser error types
        raise DataValidationError(
            f"Could not read the labels CSV '{name}' ({exc}); expected columns filename,label. "
            "Save it as a plain comma-separated file."
        ) from exc
    if df.shape[1] == 2 and not set(map(str.lower, map(str, df.columns))) & set(FILE_COLUMNS):
        file_col, label_col = df.columns
    else:
        file_col = _pick_column(df, FILE_COLUMNS, "file name")
        label_col = _pick_column(df, LABEL_COLUMNS, "label")
    base = str(PurePosixPath(name).parent)
    images = {p for p in files if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS}
    by_basename = {PurePosixPath(p).name: p for p in images}
    mapping, missing = {}, []
    for fname, label in zip(df[file_col].astype(str), df[label_col]):
        if pd.isna(label) or not str(label).strip():
            continue
        rel = str(PurePosixPath(base) / fname) if base not in ("", ".") else fname
        path = rel if rel in images else fname if fname in images else by_basename.get(PurePosixPath(fname).name)
        if path is None:
            missing.append(fname)
        else:
            mapping[path] = str(label).strip()
    notices = []
    if missing:
        notices.append(f"{len(missing)} file(s) listed in {name} were not found in the upload and were "
                       f"skipped: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}.")
    unlabelled = len(images) - len(mapping)
    if unlabelled > 0:
        notices.append(f"{unlabelled} image(s) have no label in {name} and were ignored.")
    return mapping, notices


def labels_from_folders(files: dict[str, bytes]) -> tuple[dict[str, str], list[str]]:
    mapping, loose = {}, []
    for p in files:
        path = PurePosixPath(p)
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if len(path.parts) < 2:
            loose.append(p)
        else:
            mapping[p] = path.parts[0]
    notices = []
    if loose:
        notices.append(f"{len(loose)} image(s) are not inside a class folder and were ignored: "
                       f"{', '.join(loose[:5])}{' ...' if len(loose) > 5 else ''}.")
    return mapping, notices
