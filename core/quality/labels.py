"""How the layout of an image upload gives each image its label.

Three layouts: one folder per class (``ok/a.png``); images plus a CSV with a file-name column and
a label column; or images flat in one folder with the class in the file name
(``scratches_12.jpg``, ``rolled-in_scale_7.jpg``, ``Cr_1.bmp``). A single folder wrapping
everything (``my_images/ok/a.png``) is dropped first.

In the folder layout the class is the outermost folder above an image whose name is not generic
(``GENERIC_WORDS``: Imgs, images, img, train, test, val, data, ...), so ``ok/batch1/x.png`` is class
``ok`` and ``MT_Crack/Imgs/x.jpg``,
``crack/images/train/x.jpg`` and ``train/crack/x.jpg`` are all class ``crack``. The class that means
"no defect" is found by name (``find_ok_class``: ok, good, normal, pass, free, defect-free, no_defect,
non-defective, intact, clean, ... as whole words, with or without a prefix or suffix).
Files are the archive's ``{path: bytes}``; nothing here decodes an image.
"""

from __future__ import annotations

import io
import re
from collections import Counter
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
    return split_common_root(files)[0]


def split_common_root(files: dict[str, bytes]) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """``strip_common_root``, and the wrapper folders it dropped (outermost first)."""
    root: tuple[str, ...] = ()
    while True:
        data_paths = [PurePosixPath(p) for p in files
                      if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS | {".csv"}]
        if not data_paths:
            return files, root
        firsts = {p.parts[0] for p in data_paths}
        csv_at_root = any(p.suffix.lower() == ".csv" and len(p.parts) == 2 for p in data_paths)
        images_deep = all(len(p.parts) >= 3 for p in data_paths if p.suffix.lower() != ".csv")
        # Only a real folder can be a wrapper: a lone file at the top (e.g. labels.csv with no
        # images) is not, and stripping nothing would loop for ever.
        if len(firsts) != 1 or any(len(p.parts) < 2 for p in data_paths) or not (images_deep or csv_at_root):
            return files, root
        top = next(iter(firsts))
        root += (top,)
        files = {str(PurePosixPath(*PurePosixPath(p).parts[1:])) if PurePosixPath(p).parts[0] == top
                 and len(PurePosixPath(p).parts) > 1 else p: b for p, b in files.items()}


def name_tokens(name: str) -> list[str]:
    """The words of a file or folder name, lower-case: separators and camelCase split them
    (``MT_Free`` -> mt, free; ``OKParts`` -> ok, parts; ``defect-free`` -> defect, free)."""
    words = []
    for chunk in re.split(r"[\W_]+", str(name)):
        words += [w.lower() for w in _CAMEL.split(chunk) if w]
    return words


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])")

# Folder levels that say what the files are, not which class they belong to: the class of an image
# is the outermost folder above it whose name is not made of these words (``MT_Crack/Imgs/x.jpg``,
# ``crack/images/train/x.jpg`` and ``train/crack/x.jpg`` are all class ``crack``).
GENERIC_WORDS = frozenset({
    "img", "imgs", "image", "images", "pic", "pics", "picture", "pictures", "photo", "photos", "jpg", "jpeg",
    "png", "bmp", "tif", "tiff", "train", "training", "trainval", "test", "testing", "val", "valid",
    "validation", "eval", "data", "dataset", "datasets", "sample", "samples", "raw", "all", "original",
    "originals", "source", "set", "split"})

SPLIT_WORDS = frozenset({"train", "training", "trainval", "test", "testing", "val", "valid", "validation", "eval"})


def is_generic_folder(name: str) -> bool:
    """A folder name made only of generic words (and numbers): ``Imgs``, ``train``, ``Train_Images``, ``images2``."""
    words = name_tokens(name)
    named = [w for w in words if not w.isdigit()]
    return bool(named) and all(w in GENERIC_WORDS for w in named)


def folder_class(path: str, root: tuple[str, ...] = ()) -> str | None:
    """The class an image's folders give: the outermost folder below the wrapper folders ``root``
    whose name is not generic (as Keras' ``image_dataset_from_directory`` takes the first level and
    reads the images nested below it), so ``ok/batch1/x.png`` is class ``ok``; when every folder
    there is generic, the innermost wrapper folder that is not (a lone ``MT_Free/Imgs/`` test folder
    is class MT_Free)."""
    for part in PurePosixPath(path).parts[:-1]:
        if not is_generic_folder(part):
            return part
    for part in reversed(root):
        if not is_generic_folder(part):
            return part
    return None


# Names that mean "no defect", as word sequences; a class is the good class when its name is one of
# them or holds one as whole words (MT_Free, class_ok, OK_parts, defect-free), never inside another
# word (broken, freeze, passivation) and never negated (not_ok, no_good, non_clean).
OK_PHRASES = (("ok",), ("okay",), ("good",), ("normal",), ("pass",), ("passed",), ("free",), ("defect", "free"),
              ("defects", "free"), ("defectfree",), ("no", "defect"), ("no", "defects"), ("nodefect",),
              ("nodefects",), ("non", "defective"), ("nondefective",), ("not", "defective"), ("intact",),
              ("clean",), ("without", "defect"), ("without", "defects"))
OK_EXACT = (("negative",), ("none",))  # good only as the whole name: "negative_print" is a defect
NEGATIONS = frozenset({"not", "no", "non", "un", "without"})
OK_NAMES = tuple("_".join(p) for p in OK_PHRASES + OK_EXACT)


def ok_name_rank(name: str) -> int | None:
    """0 when ``name`` is a good-part name, 1 when it holds one with a prefix or suffix, else None."""
    words = name_tokens(name)
    if tuple(words) in OK_PHRASES + OK_EXACT:
        return 0
    for phrase in OK_PHRASES:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            negated = i > 0 and words[i - 1] in NEGATIONS and phrase[0] not in NEGATIONS
            if tuple(words[i:i + n]) == phrase and not negated:
                return 1
    return None


def find_ok_class(class_names) -> str | None:
    """The class that means 'no defect', recognised by name (case-insensitive, with or without a
    prefix or suffix: ``ok``, ``MT_Free``, ``class_ok``, ``OK_parts``, ``defect-free``, ``no_defect``);
    a whole-name match wins over a prefixed one; None when no class looks like it."""
    ranked = [(rank, i, str(c)) for i, c in enumerate(class_names) if (rank := ok_name_rank(str(c))) is not None]
    return min(ranked)[2] if ranked else None


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


def labels_from_folders(files: dict[str, bytes], root: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """Each image's class from its folders (``folder_class``: the outermost folder that is not a generic
    name such as Imgs, images, train or test); ``root`` is the wrapper folder(s) already dropped."""
    mapping, loose, generic = {}, [], set()
    for p in files:
        path = PurePosixPath(p)
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        cls = folder_class(p, root)
        if cls is None:
            loose.append(p)
            continue
        mapping[p] = cls
        generic.update(part for part in path.parts[:-1] if is_generic_folder(part))
    notices = []
    if loose:
        notices.append(f"{len(loose)} image(s) are not inside a class folder and were ignored: "
                       f"{', '.join(loose[:5])}{' ...' if len(loose) > 5 else ''}.")
    if generic:
        splits = any(set(name_tokens(g)) & SPLIT_WORDS for g in generic)
        notices.append(f"Folder level(s) {', '.join(sorted(generic)[:5])} have generic names and were skipped: each "
                       "image's class is the outermost folder above it with another name"
                       + (" (images of a class in train / test folders are pooled; the app makes its own split)."
                          if splits else "."))
    return mapping, notices


# The class is the name's prefix before a last separator and number: "scratches_12",
# "rolled-in_scale_7", "crazing-3", "Cr_1", "pit (3)", "scratch_0012".
_NAME_PATTERN = re.compile(r"^(?P<cls>.*?[^\W_])(?:[_\-\s]+\(?|\s*\()(?P<num>\d+)\)?$")


def class_from_filename(path: str) -> str | None:
    """The class a file name gives (``scratches_12.jpg`` -> ``scratches``), or None."""
    stem = PurePosixPath(path).stem.strip()
    match = _NAME_PATTERN.match(stem)
    return match.group("cls") if match else None


def is_flat(files: dict[str, bytes]) -> bool:
    """Labels come from file names: no labels CSV, and the images sit side by side in one folder,
    either at the top (``scratches_1.jpg``) or in a single folder whose file names give two or
    more classes (``NEU-CLS/Cr_1.bmp``; a lone class folder ``ok/0001.png`` stays a folder)."""
    paths = [PurePosixPath(p) for p in files if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS | {".csv"}]
    if not paths or any(p.suffix.lower() == ".csv" for p in paths):
        return False
    if all(len(p.parts) == 1 for p in paths):
        return True
    if len({p.parent for p in paths}) != 1:
        return False
    return len({(class_from_filename(str(p)) or "").lower() for p in paths} - {""}) >= 2


def labels_from_filenames(files: dict[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """Labels from file names in a flat folder: ``scratches_12.jpg`` is a ``scratches`` image.

    Prefixes that differ only in case (``Cr_1.bmp``, ``cr_2.bmp``) are one class, spelt as most
    files spell it.  Names without a class prefix are skipped with a notice; none at all, a
    single prefix for every image (a camera's ``IMG_0001``), or about one class per image
    (names that are identifiers, not classes) are errors.
    """
    images = sorted(p for p in files if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS)
    raw = {p: class_from_filename(p) for p in images}
    named = {p: c for p, c in raw.items() if c}
    unnamed = [p for p, c in raw.items() if not c]
    fix = ("Name each file <class>_<number> (e.g. scratches_12.jpg), put each class's images in a folder "
           "named after the class, or add a labels CSV with columns filename,label.")
    if not named:
        raise DataValidationError(
            "Expected the class in each file name (e.g. scratches_12.jpg, rolled-in_scale_7.jpg, Cr_1.bmp) "
            f"when images sit in one folder; got {len(images)} image(s) whose names carry no class, "
            f"e.g. {', '.join(images[:3])}. {fix}"
        )
    spellings: dict[str, Counter] = {}
    for c in named.values():
        spellings.setdefault(c.lower(), Counter())[c] += 1
    canonical = {key: cnt.most_common(1)[0][0] for key, cnt in spellings.items()}
    mapping = {p: canonical[c.lower()] for p, c in named.items()}
    counts = Counter(mapping.values())
    if len(counts) == 1:
        only = next(iter(counts))
        raise DataValidationError(
            f"Expected file names that start with their class (two or more classes); got {len(mapping)} "
            f"image(s) whose names all start with '{only}', which gives a single class. {fix}"
        )
    singles = sum(1 for n in counts.values() if n == 1)
    if len(counts) > 2 and singles > len(counts) / 2:
        examples = ", ".join(sorted(counts)[:4])
        raise DataValidationError(
            f"Expected a few classes with many images each in the file names; got {len(counts)} different "
            f"prefixes for {len(mapping)} images ({singles} with a single image, e.g. {examples}), so the "
            f"names look like identifiers rather than classes. {fix}"
        )
    notices = []
    if unnamed:
        notices.append(f"{len(unnamed)} image(s) have no class in their file name (expected <class>_<number>) "
                       f"and were ignored: {', '.join(unnamed[:5])}{' ...' if len(unnamed) > 5 else ''}.")
    return mapping, notices


def describe_ok_class(class_names, chosen: str | None = None) -> str:
    """One sentence on the good-part class: the one chosen, the one recognised by name, or none."""
    if chosen is not None:
        return f"Good-part class: {chosen} (chosen with --ok-class)."
    ok = find_ok_class(class_names)
    if ok is not None:
        return f"Good-part class: {ok} (recognised by its name; --ok-class NAME picks another)."
    return ("No class name means 'good part' (ok, good, normal, free, ...): the run types defects; "
            "--ok-class NAME makes it an inspection with a reject decision.")


def scoring_labels(paths, class_names, root: tuple[str, ...] = ()) -> dict[str, str] | None:
    """Each image's class when all images to score are in folders (``folder_class``) or have names
    (``class_from_filename``) of the training classes, else None (they are scored unlabelled)."""
    classes = list(class_names)
    by_folder = {p: folder_class(p, root) for p in paths}
    lower = {c.lower(): c for c in classes}
    by_name = {p: lower.get((class_from_filename(p) or "").lower()) for p in paths}
    return next((m for m in (by_folder, by_name) if all(m[p] in classes for p in paths)), None)


def describe_layout(layout: str, counts: dict[str, int]) -> str:
    """One sentence naming where the labels came from and the images per class, for confirmation."""
    source = {"folders": "the folder names", "csv": "the labels CSV", "filenames": "the file names"}.get(layout, layout)
    per_class = ", ".join(f"{name} ({n:,})" for name, n in counts.items())
    return f"{len(counts)} classes taken from {source}: {per_class}."
