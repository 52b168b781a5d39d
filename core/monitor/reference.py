"""What a run keeps for monitoring and retraining when it is saved.

* ``monitor_reference.parquet``: the run's test rows as the monitor reads them (score, label and
  what the scenario's realized metrics need). They are the reference every period is compared
  with: the score's drift (PSI), the calibration check (and the calibrator fitted on them), the
  test figure's interval and the reference decision mix.
* where the training data came from (``meta["monitor"]["training_source"]``), so a challenger can
  be trained on the original rows plus the newly labelled ones: the path of a bundled sample when
  the run was trained on one (checked by its content's SHA-256), else a compressed copy of the
  training rows in the run folder when it is under ``STUDIO_TRAINING_COPY_MB`` (default 50 MB),
  else only the file's name and fingerprint (``retrain`` then asks for ``--train-data``).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError

REFERENCE_FILE = "monitor_reference.parquet"
TRAINING_ROWS_FILE = "training_rows.parquet"
COPY_CAP_ENV = "STUDIO_TRAINING_COPY_MB"
DEFAULT_COPY_CAP_MB = 50.0


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def reference_bytes(frame: pd.DataFrame) -> bytes:
    """The test rows as saved with the run (Parquet)."""
    return _parquet(frame)


def read_reference(run_dir) -> pd.DataFrame | None:
    """The test rows saved with the run, or None for runs saved before they were kept."""
    path = Path(run_dir) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a damaged file: the monitor works without it and says so
        return None


def copy_cap_bytes() -> int:
    try:
        mb = float(os.environ.get(COPY_CAP_ENV, DEFAULT_COPY_CAP_MB))
    except ValueError:
        mb = DEFAULT_COPY_CAP_MB
    return int(max(mb, 0.0) * 1e6)


def _bundled_sample(scenario: str, sha256: str | None) -> str | None:
    """The bundled sample's path (relative to the project) when the run's data fingerprint is its content."""
    from core.report.runsummary import get_fingerprint
    from core.store.scenarios import ROOT, find_scenario

    found = find_scenario(scenario)
    demo = found.demo() if found is not None else None
    if demo is None or not sha256 or not Path(demo.sample).is_file():
        return None
    from core.data.datasets import read_table

    for personal in ("drop", None):
        try:
            df = read_table(demo.sample, max_rows=None, personal=personal).df
        except DataValidationError:
            return None
        if get_fingerprint(df)["sha256"] == sha256:
            return str(Path(demo.sample).resolve().relative_to(ROOT))
    return None


def training_source(scenario: str, rows: pd.DataFrame, *, fingerprint: dict | None) -> tuple[dict, dict[str, bytes]]:
    """(the record saved under ``meta["monitor"]["training_source"]``, files to save with the run).

    ``rows`` are the training rows as the scenario's training function reads them again (with the
    outcome); ``fingerprint`` the run's ``workspace.dataset`` (name, rows, SHA-256)."""
    fingerprint = fingerprint or {}
    sha = fingerprint.get("sha256")
    sample = _bundled_sample(scenario, sha)
    if sample is not None:
        return {"kind": "sample", "path": sample, "sha256": sha, "rows": int(len(rows))}, {}
    data = _parquet(rows)
    base = {"name": fingerprint.get("name"), "rows": int(len(rows)), "sha256": sha}
    if len(data) <= copy_cap_bytes():
        return {"kind": "copy", "file": TRAINING_ROWS_FILE, "bytes": len(data), **base}, {TRAINING_ROWS_FILE: data}
    return {"kind": "absent", "reason": f"the training rows take {len(data) / 1e6:,.1f} MB compressed, over the "
                                        f"{copy_cap_bytes() / 1e6:,.0f} MB cap ({COPY_CAP_ENV})", **base}, {}


def monitor_files(scenario: str, *, reference: pd.DataFrame, training: pd.DataFrame | None,
                  fingerprint: dict | None) -> tuple[dict, dict[str, bytes]]:
    """(``meta["monitor"]``, files) for a scenario's save function: the test rows, and the training
    source when ``training`` is given (None when the run folder already holds its training rows)."""
    files = {REFERENCE_FILE: reference_bytes(reference)}
    record: dict = {"reference": REFERENCE_FILE, "reference_rows": int(len(reference))}
    if training is not None:
        source, extra = training_source(scenario, training, fingerprint=fingerprint)
        record["training_source"] = source
        files.update(extra)
    return record, files


def load_training_rows(run_dir, meta: dict, train_data=None) -> pd.DataFrame:
    """The run's original training rows: ``train_data`` when given (``--train-data``), else the bundled
    sample or the copy saved with the run. Raises ``DataValidationError`` when none is at hand."""
    from core.data.datasets import read_table
    from core.store.scenarios import ROOT

    if train_data is not None:
        return read_table(train_data, max_rows=None, personal="drop").df
    source = (meta.get("monitor") or {}).get("training_source") if isinstance(meta.get("monitor"), dict) else None
    kind = (source or {}).get("kind")
    if kind == "copy" and (Path(run_dir) / source["file"]).is_file():
        return pd.read_parquet(Path(run_dir) / source["file"])
    if kind == "sample":
        path = ROOT / source["path"]
        if path.is_file():
            from core.report.runsummary import get_fingerprint

            for personal in ("drop", None):
                df = read_table(path, max_rows=None, personal=personal).df
                if get_fingerprint(df)["sha256"] == source.get("sha256"):
                    return df
    why = {None: "it was saved before runs kept their training rows",
           "absent": (source or {}).get("reason", "its training rows were not kept"),
           "sample": "the bundled sample it was trained on has changed since",
           "copy": "its copy of the training rows is missing"}.get(kind, "its training rows were not kept")
    name = (source or {}).get("name") or "the training file"
    raise DataValidationError(f"Expected the run's original training rows to train a challenger on; got none: {why}. "
                              f"Fix: pass the training file with --train-data ({name}).")
