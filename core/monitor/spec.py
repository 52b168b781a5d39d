"""What monitoring asks of a scenario: the ``MonitorSpec`` a scenario's ``monitor()`` hook returns.

The shared monitor (``core/monitor``) never names a scenario. Each scenario says, in its own
``core/<name>/monitoring.py``, which column identifies a row (an application id, a transaction id,
a series and date, an image's file name), what it logs for a scored row (the score, the decision,
the inputs as the model read them), how to read a label that comes back, which metrics it realizes
once labels arrive and which it estimates before, and how a challenger is trained.

The helpers below are the pieces the scenarios share (the id column of a file is ``core.monitor.ids``): the
log frame with fixed column types, binary labels in any of the usual spellings, and binary metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.monitor.ids import _id_candidates, _small_row_ids, find_id_column, ids_as_text
from core.monitor.store import INPUT_PREFIX, OUTPUT_PREFIX

BINARY, FORECAST = "binary", "forecast"
_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f"}


@dataclass
class Challenger:
    """A challenger trained by a scenario's ``retrain``: its saved folder and its scores on the
    comparison rows (in the order of the ``holdout`` frame it was given)."""

    run_dir: Path
    scores: np.ndarray
    notices: list[str] = field(default_factory=list)
    # A forecast's comparison (task "forecast"): each row's weight in the mean error and the error's name.
    weights: np.ndarray | None = None
    metric: str = "MAE"


class MonitorSpec:
    """Defaults for a scenario's monitoring parts; each scenario subclasses it.

    ``task`` is ``"binary"`` (a probability of the positive class: CBPE estimates, calibration) or
    ``"forecast"`` (a quantity: realized errors only). ``realized_metrics`` / ``estimated_metrics``
    map a metric's key (as in the JSON) to its plain name; ``headline`` is the realized metric whose
    test interval raises an alert; ``verdict_metric`` decides champion against challenger.
    """

    task = BINARY
    score_label = "Score"
    positive = "positive"
    decision_names: tuple[str, ...] = ()
    realized_metrics: dict[str, str] = {"roc_auc": "ROC-AUC"}
    estimated_metrics: dict[str, str] = {"roc_auc": "ROC-AUC"}
    lower_is_better: tuple[str, ...] = ()
    headline = "roc_auc"
    verdict_metric = "roc_auc"
    can_retrain = False
    retrain_note = "Retraining from the monitor is not available for this scenario yet."

    def unsupported(self, meta: dict) -> str | None:
        """Why this run's predictions cannot be monitored (e.g. a model with no positive class), or None."""
        return None

    # ------------------------------------------------------------ the log
    def id_columns(self, meta: dict, df: pd.DataFrame) -> list[str]:
        """The file's column(s) that identify a row; [] when it has none (ids are then generated)."""
        col = find_id_column(df, exclude=input_columns(meta))
        return [col] if col else []

    def log_frame(self, meta: dict, inputs: pd.DataFrame | None, scored: pd.DataFrame) -> pd.DataFrame:
        """One log row per scored row (``make_log_frame``), aligned with ``scored``."""
        raise NotImplementedError

    # Whether ``row_ids`` gives, from one request's rows, the ids ``log_frame`` logs for them: the HTTP
    # service then answers with those ids and builds the log rows of many requests at once, later, with
    # ``log_frame(meta, None, rows_with_inputs(inputs, scored, kinds), pause=...)`` (so such a spec's
    # ``log_frame`` reads its rows through ``rows_with_inputs`` and passes ``pause`` to ``make_log_frame``).
    batch_log = False

    def row_ids(self, meta: dict, inputs: pd.DataFrame | None, scored: pd.DataFrame) -> pd.Series:
        """The ids ``log_frame`` logs for these rows (None where a row has none), in ``scored``'s order."""
        kinds = input_columns(meta)
        if type(self).id_columns is MonitorSpec.id_columns:
            # find_id_column looks at names first: only the columns that could be the id are joined (joining
            # the whole request was most of logging a one-row request)
            src = _id_candidates(inputs, scored, kinds)
            if src is None:
                return pd.Series([None] * len(scored), dtype=object)
        else:
            src = rows_with_inputs(inputs, scored, kinds)
        ids = self.id_columns(meta, src)
        return ids_as_text(src[ids[0]]) if ids else pd.Series([None] * len(scored), dtype=object)

    def row_id_values(self, meta: dict, inputs: pd.DataFrame | None, scored: pd.DataFrame, tables=None) -> np.ndarray:
        """``row_ids`` as an object array. ``tables``, when given, is the same rows as ``core.monitor.columns``
        tables ``(inputs or None, scored)``: a small request's id is then found in their values, as plain
        lists (``_small_row_ids``: the same ids; pandas' steps cost more than the rest of logging a
        one-row request)."""
        if tables is not None and type(self).id_columns is MonitorSpec.id_columns:
            found = _small_row_ids(*tables, input_columns(meta))
            if found is not None:
                return found
        return np.array(pd.Series(self.row_ids(meta, inputs, scored)).to_numpy(dtype=object), dtype=object)

    # ------------------------------------------------------------ labels
    def label_candidates(self, meta: dict) -> list[str]:
        """Column names a feedback file's label may have, most likely first."""
        from core.store.runmeta import section

        target = section(meta, "input").get("target")
        return list(dict.fromkeys(c for c in (target, "label", "outcome", "actual", "y") if c))

    def read_labels(self, meta: dict, values: pd.Series) -> np.ndarray:
        """Labels as numbers (0 / 1 for a binary task); raises ``DataValidationError`` for values it
        cannot read."""
        return read_binary_labels(values, positive=None, what=self.positive)

    def ids_from_file(self, meta: dict, df: pd.DataFrame, id_column: str | None) -> pd.Series:
        """The row ids of a feedback file: ``id_column``, else the scenario's id column(s)."""
        if id_column is None:
            found = self.id_columns(meta, df) or [c for c in df.columns if str(c).lower() in ("id", "row_id",
                                                                                               "prediction_id")]
            if not found:
                raise DataValidationError(
                    f"Expected a column of row ids in the outcomes file; got none among {list(df.columns)[:12]}. "
                    "Fix: name it with --id-column (the id the prediction was logged under: the file's id "
                    "column when it was scored, or the prediction_id given back).")
            id_column = found[0]
        if id_column not in df.columns:
            raise DataValidationError(f"Expected the id column '{id_column}' in the outcomes file; got columns "
                                      f"{list(df.columns)[:12]}. Fix: pass the right --id-column.")
        return ids_as_text(df[id_column])

    # ------------------------------------------------------------ figures
    def realized(self, meta: dict, frame: pd.DataFrame) -> dict:
        """Metrics on labelled rows (columns ``score``, ``decision``, ``label``, ``event_time``, inputs)."""
        return {"roc_auc": roc_auc(frame["label"], frame["score"])}

    def estimated(self, meta: dict, frame: pd.DataFrame, p: np.ndarray) -> dict:
        """Metrics expected from calibrated probabilities ``p`` of every row (CBPE)."""
        from core.monitor.cbpe import expected_roc_auc

        return {"roc_auc": expected_roc_auc(frame["score"].to_numpy(float), p)}

    def decide(self, meta: dict, scores: np.ndarray) -> np.ndarray | None:
        """The decision each score gets with the run's saved settings (for the reference mix)."""
        return None

    def reference(self, run_dir: Path, meta: dict) -> pd.DataFrame | None:
        """The run's test rows as the monitor reads them (``score``, ``label`` and what ``realized``
        needs), or None for runs saved without them."""
        return None

    def score_reference(self, run_dir: Path, meta: dict, reference: pd.DataFrame | None) -> np.ndarray | None:
        """Scores to compare each period's scores with (PSI): the test rows' by default."""
        return None if reference is None else reference["score"].to_numpy(float)

    def score_profile(self, meta: dict, scores: np.ndarray | None) -> dict | None:
        """The ``core.data.drift`` profile each period's scores are compared with (one column, ``score``)."""
        if scores is None or not len(scores):
            return None
        from core.data.drift import build_profile

        return build_profile(pd.DataFrame({"score": np.asarray(scores, dtype=float)}), numeric=["score"])

    def test_figures(self, meta: dict, reference: pd.DataFrame | None) -> dict:
        """The realized metrics on the run's test rows (or, without them, its saved test figure)."""
        if reference is not None and "label" in reference:
            return {k: v for k, v in self.realized(meta, reference).items() if v is not None}
        saved = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        value = saved.get(self.headline)
        return {self.headline: float(value)} if isinstance(value, (int, float)) else {}

    def important_inputs(self, meta: dict) -> list[str]:
        """Inputs whose drift raises an alert: the five most important by the run's saved SHAP
        importance, or every profiled input when none was saved."""
        from core.data.columncheck import get_training_profile

        profiled = list(((get_training_profile(meta) or {}).get("columns") or {}))
        from core.store.runmeta import section

        imp = section(meta, "explain").get("importance") or {}
        ranked = [c for c, _ in sorted(imp.items(), key=lambda kv: -float(kv[1] or 0)) if c in profiled]
        return ranked[:5] or profiled

    # ------------------------------------------------------------ retraining
    def retrain(self, run_dir: Path, meta: dict, new_rows: pd.DataFrame, holdout: pd.DataFrame, *,
                save_to: Path, extra_file: pd.DataFrame | None = None, train_data=None, lineage: dict | None = None,
                progress: Callable[[str], None] | None = None) -> Challenger:
        """Train and save a challenger as ``save_to`` on the run's original training rows (``train_data``
        when given), ``new_rows`` (logged inputs with their ``label``) and ``extra_file`` (rows of a
        labelled file); the ``holdout`` rows (inputs and ``label``) are never trained on. Returns the
        challenger's scores on ``holdout`` (NaN where it gives none). ``lineage`` is saved with it. For a
        forecast (``task == "forecast"``) ``holdout`` is the logged rows (``row_id``, ``event_time``,
        ``out.step``, ``label``) and ``extra_file`` the whole sales history with the new periods appended."""
        raise DataValidationError("Expected a run whose scenario can train a challenger from the monitor; got one "
                                  f"that cannot. Fix: {self.retrain_note}")

    # A scenario whose newly labelled data are files, not logged rows (images), trains and judges its
    # challenger here whole; the others return None and go through ``retrain`` above.
    retrain_uploads: tuple[str, ...] = ()  # what the Monitor page asks for: "train_data", "data"

    def retrain_from_files(self, run_dir: Path, meta: dict, *, data, train_data, save_to: Path,
                           progress: Callable[[str], None] | None = None):
        """A ``core.monitor.retrain.RetrainResult`` for a challenger trained on ``train_data`` (the run's
        original data) plus ``data`` (newly labelled files), or None for scenarios that retrain from
        the log's labelled rows."""
        return None


# ---------------------------------------------------------------- shared helpers
def input_columns(meta: dict) -> dict[str, str]:
    """The columns the run's model reads and their kinds (``core.data.columncheck``)."""
    from core.data.columncheck import get_expected_input

    return dict(get_expected_input(meta).get("columns") or {})


def rows_with_inputs(inputs: pd.DataFrame | None, scored: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """The scored rows with the columns the model read: ``scored`` itself when it carries them (the
    scorers keep the file's columns), else ``inputs`` beside it row by row (the HTTP service answers
    with the predictions only, in the request's order)."""
    if inputs is None or set(kinds) <= set(map(str, scored.columns)) or len(inputs) != len(scored):
        return scored
    extra = inputs.loc[:, [c for c in inputs.columns if c not in scored.columns]].reset_index(drop=True)
    return pd.concat([extra, scored.reset_index(drop=True)], axis=1)


def make_log_frame(*, row_id, event_time, score, decision, inputs: pd.DataFrame | None = None,
                   kinds: dict[str, str] | None = None, outputs: dict[str, Any] | None = None,
                   pause=None) -> pd.DataFrame:
    """The scenario's part of a log row, with fixed types so every file of a run reads alike:
    inputs ``in.<column>`` (numbers as floats, dates as timestamps, categories as text) and extra
    outputs ``out.<name>`` as floats. ``pause()``, when given, is called between columns (the service's
    log writer: it lets requests being answered run; each column is built over all rows, as without it)."""
    from core.data.columncheck import DATE, NUMBER

    pause = pause if pause is not None else _no_pause
    n = len(score)
    base = {"row_id": [None] * n if row_id is None else list(ids_as_text(pd.Series(row_id)))}
    pause()
    base["event_time"] = _timestamps(event_time, n)
    pause()
    base["score"] = pd.to_numeric(pd.Series(np.asarray(score)), errors="coerce").astype(float).to_numpy()
    base["decision"] = ([None] * n if decision is None
                        else pd.Series(decision).astype("string").astype(object).to_numpy())
    out = pd.DataFrame(base)
    for c, kind in (kinds or {}).items():
        if inputs is None or c not in inputs.columns:
            continue
        pause()
        s = inputs[c].reset_index(drop=True)
        if kind == NUMBER:
            out[INPUT_PREFIX + c] = _floats(s)
        elif kind == DATE:
            out[INPUT_PREFIX + c] = _timestamps(s, n)
        else:
            out[INPUT_PREFIX + c] = _texts(s)
    for name, values in (outputs or {}).items():
        pause()
        out[OUTPUT_PREFIX + name] = pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").astype(float).to_numpy()
    return out


def _no_pause() -> None:
    return None


def _floats(s: pd.Series) -> np.ndarray:
    """A number column's values as floats (NaN for what is not a number). Plain numbers and booleans are
    converted directly: ``pd.to_numeric`` then ``astype`` gives the same values at several times the cost."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
        return s.to_numpy(dtype=float)
    return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()


def _texts(s: pd.Series) -> np.ndarray:
    """A column's values as text objects, None where empty. A text column's values are already text: only
    its empty values are replaced (the same values as converting it, at a fraction of the cost)."""
    if isinstance(s.dtype, pd.StringDtype):
        return s.to_numpy(dtype=object, na_value=None)
    return s.astype("string").astype(object).where(s.notna(), None).to_numpy()


def _timestamps(values, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    t = pd.to_datetime(pd.Series(values).reset_index(drop=True), errors="coerce", format="mixed")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t.astype("datetime64[us]").to_numpy()


def read_binary_labels(values, *, positive=None, negative=None, what: str = "positive") -> np.ndarray:
    """0 / 1 labels from 1 / 0, true / false, yes / no, or the run's own positive value (e.g.
    "default", "bad"); a value that is none of these is refused, with examples."""
    s = pd.Series(values).reset_index(drop=True)
    text = s.astype("string").str.strip().str.lower()
    pos = None if positive is None else str(positive).strip().lower()
    neg = None if negative is None else str(negative).strip().lower()
    out = np.full(len(s), np.nan)
    is_pos = text.isin(_TRUE) | ((text == pos) if pos is not None else False)
    is_neg = text.isin(_FALSE) | ((text == neg) if neg is not None else False)
    if pos is not None and pos in _FALSE:  # a run whose positive class is written "0"
        is_pos, is_neg = text == pos, text.isin(_TRUE)
    out[is_pos.fillna(False).to_numpy(bool)] = 1.0
    out[is_neg.fillna(False).to_numpy(bool) & np.isnan(out)] = 0.0
    bad = s[np.isnan(out) & s.notna().to_numpy()]
    if len(bad):
        examples = ", ".join(repr(v) for v in pd.unique(bad.astype(str))[:5])
        extra = f", or '{positive}' for {what}" if positive is not None else ""
        raise DataValidationError(
            f"Expected each label to say whether the row was {what}: 1 / 0, true / false or yes / no{extra}; "
            f"got {len(bad):,} other value(s) such as {examples}. Fix: write the outcome as 1 ({what}) or 0.")
    if s.isna().any():
        raise DataValidationError(f"Expected a label on every outcome; got {int(s.isna().sum()):,} empty one(s). "
                                  "Fix: leave out the rows whose outcome is not known yet and send them later.")
    return out


def roc_auc(y, p) -> float | None:
    """ROC-AUC (sklearn's), or None when the rows hold one class only."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    if len(np.unique(y)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y.astype(int), p))


def rate(numerator, denominator) -> float | None:
    """A share, or None when there is nothing to divide by."""
    d = float(np.sum(denominator))
    return None if d <= 0 else float(np.sum(numerator)) / d
