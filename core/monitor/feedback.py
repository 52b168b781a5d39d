"""Outcomes come back: labels matched to logged predictions by row id.

``record_feedback(run_dir, outcomes)`` is the one function every door calls: the HTTP service's
``POST /v1/models/{name}:feedback`` (see ``core.monitor.hooks``), ``python -m core feedback`` and the
Monitor page's CSV upload (both through ``read_outcomes_file``). Each outcome is ``{"id", "label"}``;
the scenario reads the label (0 / 1, yes / no, the run's own positive value, a class name, or units
sold for demand). The outcomes are appended to the log's ``labels`` table and matched with the
logged predictions by id:

* an id with no logged prediction is *unmatched*: it is reported (count and first examples) and
  kept all the same, so it matches once its prediction is logged (a late write, another door);
* an id given twice in one upload keeps its last label, and an id that already had a label gets
  the new one (the latest received wins when the monitor reads them), each with a notice.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.monitor.store import LABELS, read_table, utc_now, write_part

EXAMPLES = 5


@dataclass(frozen=True)
class FeedbackResult:
    """What happened to an upload of outcomes."""

    received: int
    matched: int
    unmatched: int
    unmatched_examples: list[str]
    repeated: int  # ids given more than once in this upload (the last label is kept)
    replaced: int  # ids that already had a label (the new one is kept)
    notices: list[str] = field(default_factory=list)

    @property
    def matched_ids(self) -> int:
        return self.matched

    def to_dict(self) -> dict:
        return asdict(self)

    def sentence(self) -> str:
        return (f"{self.received:,} outcome(s) received: {self.matched:,} matched a logged prediction, "
                f"{self.unmatched:,} did not.")


def _spec(run_dir) -> tuple[dict, object]:
    from core.store.registry import read_metadata
    from core.store.scenarios import find_scenario

    meta = read_metadata(run_dir)
    scenario = find_scenario(meta.get("scenario"))
    spec = scenario.monitor() if scenario is not None and hasattr(scenario, "monitor") else None
    why = spec.unsupported(meta) if spec is not None else "its scenario has no monitoring"
    if spec is None or why:
        raise DataValidationError(f"Expected a run whose predictions are monitored; got run '{Path(run_dir).name}', "
                                  f"for which {why}. Fix: pick another run.")
    return meta, spec


def _as_frame(outcomes) -> pd.DataFrame:
    if isinstance(outcomes, pd.DataFrame):
        frame = outcomes
    else:
        if isinstance(outcomes, Mapping):
            outcomes = outcomes.get("outcomes", outcomes)
        if not isinstance(outcomes, Iterable) or isinstance(outcomes, (str, bytes, Mapping)):
            raise DataValidationError(f'Expected outcomes as a list of {{"id": ..., "label": ...}}; got '
                                      f"{type(outcomes).__name__}. Fix: send {{\"outcomes\": [{{\"id\": \"A1\", "
                                      "\"label\": 1}]}.")
        rows = list(outcomes)
        bad = [i for i, r in enumerate(rows) if not isinstance(r, Mapping) or "id" not in r or "label" not in r]
        if bad:
            raise DataValidationError(f'Expected every outcome to hold "id" and "label"; got {len(bad):,} that do not '
                                      f"(the first at position {bad[0]}). Fix: send each as {{\"id\": ..., \"label\": ...}}.")
        frame = pd.DataFrame({"id": [r["id"] for r in rows], "label": [r["label"] for r in rows]})
    if not len(frame):
        raise DataValidationError("Expected at least one outcome; got none. Fix: send the outcomes known so far.")
    return frame


def record_feedback(run_dir, outcomes, *, now: pd.Timestamp | None = None) -> FeedbackResult:
    """Append ``outcomes`` (``[{"id": ..., "label": ...}]``, ``{"outcomes": [...]}`` or a frame with
    ``id`` and ``label``) to the run's label log and match them with its logged predictions."""
    from core.monitor.ids import ids_as_text

    meta, spec = _spec(run_dir)
    frame = _as_frame(outcomes)
    ids = ids_as_text(frame["id"])
    if ids.isna().any():
        raise DataValidationError(f"Expected an id on every outcome; got {int(ids.isna().sum()):,} empty one(s). "
                                  "Fix: send the id each prediction was logged under.")
    labels = np.asarray(spec.read_labels(meta, frame["label"]), dtype=float)
    notices: list[str] = []
    unread = np.isnan(labels)
    if unread.any():  # values the run's label rule leaves out (e.g. 'pending'), as its training did
        shown = ", ".join(f"{v!r}: {n:,}" for v, n in frame["label"][unread].astype(str).value_counts().head(EXAMPLES).items())
        notices.append(f"{int(unread.sum()):,} outcome(s) were left out: their label is neither value this run was "
                       f"trained to read as the outcome ({shown}), as rows like them were left out of training.")
        ids, labels = ids[~unread].reset_index(drop=True), labels[~unread]
    repeated = int(ids[ids.duplicated(keep=False)].nunique())
    if repeated:
        notices.append(f"{repeated:,} id(s) were given more than once in this upload; the last label of each is kept.")
    unique = pd.unique(ids)
    known = _logged(run_dir, "predictions", unique)
    had = _logged(run_dir, "labels", unique)
    unmatched = [i for i in unique if i not in known]
    if had:
        notices.append(f"{len(had):,} id(s) already had a label; the new label replaces the earlier one.")
    if unmatched:
        notices.append(f"{len(unmatched):,} id(s) match no logged prediction (e.g. {', '.join(unmatched[:EXAMPLES])}); "
                       "their labels are kept and will count once a prediction with that id is logged. Check the "
                       "id column: it must hold the ids the predictions were logged under.")
    now = now if now is not None else utc_now()
    batch = uuid.uuid4().hex[:12]
    part = pd.DataFrame({"label_key": [f"{batch}-{i}" for i in range(len(ids))], "row_id": ids.to_numpy(),
                         "label": np.asarray(labels, dtype=float),
                         "received_at": pd.Series([now] * len(ids), dtype="datetime64[us]").to_numpy(),
                         "seq": np.arange(len(ids), dtype=np.int64)})
    write_part(run_dir, LABELS, part, now=now)
    return FeedbackResult(received=int(len(frame)), matched=len(unique) - len(unmatched), unmatched=len(unmatched),
                          unmatched_examples=list(unmatched[:EXAMPLES]), repeated=repeated, replaced=len(had),
                          notices=notices)


def _logged(run_dir, table: str, ids) -> set[str]:
    """The ids among ``ids`` that have a row in the log's ``table``."""
    if not len(ids):
        return set()
    found = read_table(run_dir, table, "SELECT DISTINCT {t}.row_id FROM {t} JOIN (SELECT unnest(?) AS id) q "
                                       "ON {t}.row_id = q.id", [list(map(str, ids))])
    return set(found["row_id"].astype(str))


def read_outcomes_file(run_dir, df: pd.DataFrame, *, id_column: str | None = None,
                       label_column: str | None = None) -> pd.DataFrame:
    """The outcomes of a file (CLI ``--data``, the Monitor page's upload) as a frame of ``id``,
    ``label``: the id column named, else the scenario's; the label column named, else the run's
    target or ``label`` / ``outcome``. Rows without a label are left out (outcome not known yet)."""
    meta, spec = _spec(run_dir)
    if label_column is None:
        found = [c for c in spec.label_candidates(meta) if c in df.columns]
        if not found:
            raise DataValidationError(
                f"Expected a label column in the outcomes file ({', '.join(spec.label_candidates(meta))}); got "
                f"columns {list(df.columns)[:12]}. Fix: name it with --label-column.")
        label_column = found[0]
    if label_column not in df.columns:
        raise DataValidationError(f"Expected the label column '{label_column}' in the outcomes file; got columns "
                                  f"{list(df.columns)[:12]}. Fix: pass the right --label-column.")
    ids = spec.ids_from_file(meta, df, id_column)
    known = df[label_column].notna().to_numpy()
    return pd.DataFrame({"id": ids.to_numpy()[known], "label": df[label_column].to_numpy()[known]})
