"""How much memory a training job will need, checked before it starts.

A Streamlit server is one process: a job that does not fit does not fail alone, the host kills the
whole server and every visitor with it. So before training, the job's peak is estimated from its
size (rows x features for tabular data and its rebalancing, images x pixels, series x window for
demand, rows explained with SHAP) and compared with what the process may still use: the smaller of
the machine's available memory (``/proc/meminfo`` or psutil) and ``STUDIO_MEMORY_LIMIT_MB``
(default 2,700 MB, Streamlit Community Cloud's largest instance) less what the process holds now.
A job that does not fit is refused with a message (expected / got / fix); tabular training rows,
where a seeded random sample is sound, are sampled down with a notice instead.

The factors count the copies made by splitting, encoding, rebalancing, Keras' batches and the
scikit-learn baselines. The tabular ones were set against a measured command-line training (see
TABULAR_COPIES); the demand one against bench/bench_demand.py (500,000 series x periods peaked at
1.45 GB for the whole process); the image one is a count of the copies a training holds, not yet
checked against a measured peak.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from core.errors import DataValidationError

LIMIT_ENV = "STUDIO_MEMORY_LIMIT_MB"
DEFAULT_LIMIT_MB = 2700
MB = 1024 * 1024
# TensorFlow and Keras loaded into the process, and one small model built: a process with pandas,
# scikit-learn and TensorFlow imported holds ~760 MB, ~600 MB more than without TensorFlow.
FRAMEWORK_MB = 600.0
# What a job needs beyond its arrays once TensorFlow is already loaded (graph, optimiser, batches).
JOB_BASE_MB = 60.0
# Copies of the encoded tabular matrix alive at the peak: train / validation / test splits, the
# rebalanced training set, Keras' float32 batches and the scikit-learn baselines' own copies.
# Measured: `python -m core train --scenario credit` on 100,000 rows x 17 columns (31 encoded) peaked
# at 1,024 MB, about 250 MB above the loaded framework: 9 copies of the encoded matrix plus 2 of the
# raw table.
TABULAR_COPIES = 9.0
# SMOTE-family methods create synthetic rows up to the majority count (about doubling the training
# matrix) and keep neighbour tables over the minority rows (counted, not yet measured).
RESAMPLE_FACTOR = {"smote": 2.2, "adasyn": 2.2, "smote_tomek": 2.6, "smotenc": 2.2, "borderline_smote": 2.2,
                   "oversample": 2.0, "random_over": 2.0}
# Raw DataFrame copies made while cleaning and splitting (on top of the upload itself).
RAW_COPIES = 2.0
# Images: uint8 originals, float32 batches and augmented copies, and the activations of the network.
IMAGE_BYTES_PER_PIXEL = 1 + 4 * 3
IMAGE_MODEL_MB = 120.0
# Demand windows: every training window and backtest window as float32, with a working copy.
DEMAND_COPIES = 3.0
# Tabular sampling is refused below this many rows (a model on fewer rows would not be the same model).
MIN_SAMPLE_ROWS = 1_000


@dataclass(frozen=True)
class MemoryEstimate:
    """A job's estimated peak in MB, split by what needs it, and whether its rows may be sampled."""

    scenario: str
    parts: dict[str, float]
    rows: int = 0
    per_row_mb: float = 0.0  # MB that scale with the training rows (for sampling)
    can_sample: bool = False
    what: str = "rows"

    @property
    def need_mb(self) -> float:
        return float(sum(self.parts.values()))

    def describe(self) -> str:
        return ", ".join(f"{k} {v:,.0f} MB" for k, v in self.parts.items() if v >= 0.5) or "under 1 MB"


@dataclass(frozen=True)
class MemoryBudget:
    """Memory the process may still use: the smaller of the machine's available memory and the
    configured limit less the process's current size."""

    limit_mb: float
    available_mb: float | None
    process_mb: float
    source: str = ""

    @property
    def free_mb(self) -> float:
        room = self.limit_mb - self.process_mb
        if self.available_mb is not None:
            room = min(room, self.available_mb)
        return max(0.0, float(room))


@dataclass(frozen=True)
class MemoryPlan:
    """The guard's answer: run as is, or run on ``max_rows`` sampled rows (with ``notice``)."""

    estimate: MemoryEstimate
    budget: MemoryBudget
    max_rows: int | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sample(self) -> bool:
        return self.max_rows is not None


# ------------------------------------------------------------------ the budget
def get_memory_limit_mb(env: dict | None = None) -> float:
    """``STUDIO_MEMORY_LIMIT_MB`` (default 2,700), a positive number of megabytes."""
    raw = (os.environ if env is None else env).get(LIMIT_ENV, "")
    if str(raw).strip() == "":
        return float(DEFAULT_LIMIT_MB)
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 64:
        raise DataValidationError(
            f"{LIMIT_ENV} must be the server's memory in megabytes, at least 64; got {raw!r}. "
            f"Fix: set it to e.g. {DEFAULT_LIMIT_MB} (Streamlit Community Cloud), or unset it.")
    return value


def read_available_mb(meminfo: str = "/proc/meminfo") -> float | None:
    """The machine's available memory in MB (``MemAvailable``), via psutil or /proc; None if unknown."""
    try:
        import psutil

        return psutil.virtual_memory().available / MB
    except Exception:  # psutil missing or unable to read: fall back to /proc
        pass
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def read_process_mb() -> float:
    """This process's resident memory in MB (0 when it cannot be read)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / MB
    except Exception:
        pass
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def get_memory_budget(env: dict | None = None) -> MemoryBudget:
    """What a job may use now (see :class:`MemoryBudget`)."""
    limit = get_memory_limit_mb(env)
    return MemoryBudget(limit_mb=limit, available_mb=read_available_mb(), process_mb=read_process_mb(),
                        source=f"{LIMIT_ENV}={limit:,.0f}")


def _framework_mb() -> float:
    # TensorFlow costs its share once per process; later jobs reuse it.
    return JOB_BASE_MB if "tensorflow" in sys.modules else FRAMEWORK_MB


# ------------------------------------------------------------------ estimates
def _encoded_width(df, *, max_categories: int = 30, exclude=()) -> int:
    """Columns after encoding: one per numeric column, up to ``max_categories`` per categorical one."""
    import pandas as pd

    width = 0
    for col in df.columns:
        if col in exclude:
            continue
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            width += 1
        else:
            width += min(int(s.nunique(dropna=True)) + 1, max_categories + 1)
    return max(width, 1)


def estimate_tabular(df, *, scenario: str = "credit", imbalance: str | None = None, shap_rows: int = 0,
                     engineered_features: int = 0, can_sample: bool = True) -> MemoryEstimate:
    """Peak of a tabular training (credit, fraud): raw copies, the encoded matrix and its copies,
    rebalancing, SHAP; ``engineered_features`` adds columns the scenario builds (fraud's windows)."""
    rows = int(len(df))
    raw_mb = float(df.memory_usage(deep=True).sum()) / MB
    width = _encoded_width(df) + int(engineered_features)
    matrix_mb = rows * width * 4 / MB
    resample = RESAMPLE_FACTOR.get(str(imbalance or "").lower(), 1.0)
    parts = {
        "data copies": raw_mb * RAW_COPIES,
        "encoded features": matrix_mb * TABULAR_COPIES * resample,
        # The explainer keeps values per explained row and evaluates masked copies of a background.
        "SHAP": (int(shap_rows) * width * 8 + (2 * width + 1) * 100 * width * 4 * 2) / MB,
        "TensorFlow and the model": _framework_mb(),
    }
    per_row = (raw_mb * RAW_COPIES + matrix_mb * TABULAR_COPIES * resample) / max(rows, 1)
    return MemoryEstimate(scenario=scenario, parts=parts, rows=rows, per_row_mb=per_row,
                          can_sample=can_sample, what="rows")


def estimate_images(n_images: int, image_size: int, channels: int = 3, *, scenario: str = "quality",
                    shap_images: int = 0) -> MemoryEstimate:
    """Peak of an image training: every image as pixels in several forms, plus the network."""
    pixels = int(n_images) * int(image_size) ** 2 * int(channels)
    parts = {
        "images": pixels * IMAGE_BYTES_PER_PIXEL / MB,
        "explanations": int(shap_images) * int(image_size) ** 2 * int(channels) * 4 * 50 / MB,
        "network": IMAGE_MODEL_MB,
        "TensorFlow and the model": _framework_mb(),
    }
    return MemoryEstimate(scenario=scenario, parts=parts, rows=int(n_images), what="images")


def estimate_demand(series_periods: int, *, input_len: int, horizon: int, covariates: int = 0,
                    scenario: str = "demand") -> MemoryEstimate:
    """Peak of a demand training: one window (input plus horizon with covariates) per series and
    period, for training and the backtest."""
    per_window = int(input_len) * (1 + int(covariates)) + int(horizon) * (int(covariates) + 3)
    parts = {
        "windows": int(series_periods) * per_window * 4 * DEMAND_COPIES / MB,
        "TensorFlow and the model": _framework_mb(),
    }
    return MemoryEstimate(scenario=scenario, parts=parts, rows=int(series_periods), what="series x periods")


# ------------------------------------------------------------------ the decision
def plan_memory(estimate: MemoryEstimate, budget: MemoryBudget | None = None) -> MemoryPlan:
    """Run, sample (tabular rows, with a notice) or refuse (``DataValidationError``: expected / got / fix)."""
    budget = budget or get_memory_budget()
    free = budget.free_mb
    need = estimate.need_mb
    if need <= free:
        return MemoryPlan(estimate, budget)
    fixed = need - estimate.per_row_mb * estimate.rows
    if estimate.can_sample and estimate.per_row_mb > 0:
        # 10 % head room on what the rows may use: the estimate is an estimate.
        max_rows = int((free - fixed) * 0.9 / estimate.per_row_mb)
        if max_rows >= MIN_SAMPLE_ROWS and max_rows < estimate.rows:
            notice = (f"Training on a seeded random sample of {max_rows:,} of {estimate.rows:,} rows: all of them "
                      f"would need about {need:,.0f} MB of memory and this server has {free:,.0f} MB free for a "
                      "training now. Train on the command line (python -m core train) for the full file.")
            return MemoryPlan(estimate, budget, max_rows=max_rows, notices=(notice,))
    raise DataValidationError(refusal_message(estimate, budget))


def refusal_message(estimate: MemoryEstimate, budget: MemoryBudget) -> str:
    """Why a job was refused, in expected / got / fix form."""
    free = budget.free_mb
    what = {"images": "fewer or smaller images (a lower image size)",
            "series x periods": "fewer series or a shorter history"}.get(estimate.what, "fewer rows or columns")
    return (f"This {estimate.scenario} training needs about {estimate.need_mb:,.0f} MB of memory "
            f"({estimate.describe()}) for {estimate.rows:,} {estimate.what}; expected at most {free:,.0f} MB, "
            f"what this server has free for a training now (limit {budget.limit_mb:,.0f} MB, "
            f"{budget.process_mb:,.0f} MB in use). Fix: train on {what}, try again when other trainings "
            "have finished, or use the command line (python -m core train) on a bigger machine.")


def sample_rows(df, plan: MemoryPlan, *, seed: int = 0):
    """``df`` cut to the plan's ``max_rows`` by a seeded random sample (unchanged when no sampling)."""
    if not plan.sample or len(df) <= plan.max_rows:
        return df
    return df.sample(n=plan.max_rows, random_state=int(seed)).reset_index(drop=True)


# ------------------------------------------------------------------ one entry point for the pages
def estimate_job(scenario: str, data, **opts) -> MemoryEstimate:
    """The estimate for one scenario's training on ``data``, asked of the scenario (its ``memory_estimate``
    hook, ``core.store.scenarios``): a DataFrame for the tabular ones, an ``ImageDataset`` for images, ``SalesData``
    or its frame for forecasts. ``opts``: ``imbalance``, ``shap_rows`` (tabular), ``horizon`` (forecasts),
    ``shap_images`` (images)."""
    from core.store.scenarios import find_scenario, scenario_keys

    found = find_scenario(scenario)
    if found is None:
        raise DataValidationError(
            f"Expected a scenario among {', '.join(scenario_keys())} for the memory check; got {scenario!r}. "
            "Fix: pass one of those names.")
    own = found.memory_estimate(data, **opts)
    return own if own is not None else estimate_by_kind(found.key, found.input_kind, data, **opts)


def estimate_by_kind(scenario: str, input_kind: str, data, **opts) -> MemoryEstimate:
    """The estimate of a scenario without its own: ``ImageDataset`` images for an ``"images"`` scenario,
    else a table read as a tabular network's training that is refused, not sampled, when memory is short."""
    if input_kind == "images" and hasattr(data, "images"):
        images = data.images
        return estimate_images(int(images.shape[0]), int(images.shape[1]),
                               int(images.shape[-1]) if images.ndim == 4 else 1, scenario=scenario,
                               shap_images=int(opts.get("shap_images") or 0))
    if hasattr(data, "columns") and hasattr(data, "memory_usage"):
        return estimate_tabular(data, scenario=scenario, imbalance=opts.get("imbalance"),
                                shap_rows=int(opts.get("shap_rows") or 0), can_sample=False)
    raise DataValidationError(f"Expected a table (DataFrame) or images for the {scenario} scenario's memory check; "
                              f"got {type(data).__name__}. Fix: pass the loaded data, or give the scenario a "
                              "memory_estimate hook.")


# ---------------------------------------------------------------------------------------------
# Giving memory back. A session's results are freed when its visitor leaves, but the allocators keep the
# freed memory for reuse, so the server's resident memory stays at its peak: glibc's heap, and Arrow's own
# pool (mimalloc), which holds what every table Streamlit sent to a browser once took. ``start_memory_trimmer``
# runs a full garbage collection, Arrow's ``release_unused`` and glibc's ``malloc_trim(0)`` every ``interval``
# seconds in a daemon thread, so the server comes back down once visitors have gone (Linux; the C library's
# part is a no-op elsewhere).
_TRIMMER: threading.Thread | None = None
_TRIMMER_LOCK = threading.Lock()
CHECK_SECONDS = 10.0  # how often the ``before`` hook runs (cheap); a full trim follows when it freed something


def glibc():
    """The C library when it is glibc (``malloc_trim``, ``mallopt``, ``mallinfo2``), else None (macOS, Windows,
    musl: nothing of glibc's to set or read)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def trim_memory() -> bool:
    """One collection, Arrow's pool emptied of freed blocks (when pyarrow is loaded) and ``malloc_trim(0)``;
    ``False`` where the C library has no ``malloc_trim``."""
    import gc

    gc.collect()
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            arrow.default_memory_pool().release_unused()
        except Exception:  # an older pyarrow without it, or another pool: glibc's part still runs
            pass
    trim = getattr(glibc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


MALLOC_ENV = "STUDIO_MALLOC"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed


def configure_allocator(env: dict | None = None, *, default: bool = True) -> dict:
    """Set glibc's allocator so what a visitor's session freed can go back to the system: blocks of 128 KB and
    more (frames, arrays, Arrow buffers) always get their own mapping, returned when freed (glibc otherwise
    raises that threshold up to 32 MB after the first large free and keeps such blocks in its heaps until the
    next trim), and the heaps' free tops are trimmed past 128 KB. (The number of heaps cannot be capped here:
    glibc fixes it when the first thread needs its own, before the app runs; ``MALLOC_ARENA_MAX`` in the
    server's environment does it.) ``STUDIO_MALLOC=off`` leaves glibc's defaults, ``STUDIO_MALLOC=on`` sets
    them; unset, ``default`` decides (the app: on; ``serve``: off, see ``core.server.process``). Returns the
    settings applied (empty off Linux / glibc, or when switched off)."""
    raw = str((os.environ if env is None else env).get(MALLOC_ENV, "")).strip().lower()
    if raw in ("off", "0", "no", "false", "default") or (not raw and not default):
        return {}
    mallopt = getattr(glibc(), "mallopt", None)
    if mallopt is None:
        return {}
    wanted = {"mmap_threshold": (M_MMAP_THRESHOLD, MMAP_THRESHOLD), "trim_threshold": (M_TRIM_THRESHOLD,
                                                                                      MMAP_THRESHOLD)}
    return {name: value for name, (param, value) in wanted.items() if mallopt(param, value) == 1}


def trim_round(before=None, *, force: bool = True) -> bool:
    """One round of the trimmer: ``before()`` (its errors ignored: the trimming goes on), then
    :func:`trim_memory` when ``force`` or when ``before`` returned something true (it freed something);
    returns whether it trimmed."""
    freed = False
    if before is not None:
        try:
            freed = bool(before())
        except Exception:
            pass
    if force or freed:
        trim_memory()
        return True
    return False


def start_memory_trimmer(interval: float = 30.0, before=None, check: float = CHECK_SECONDS) -> bool:
    """Start the process's trimming thread once; ``True`` when this call started it. ``before``: called
    every ``check`` seconds (the app releases the sessions of visitors who left, ``ui.memory``); when it
    returns something true the trim follows at once, else every ``interval`` seconds. An error in it
    never stops the thread."""
    global _TRIMMER
    with _TRIMMER_LOCK:
        if _TRIMMER is not None and _TRIMMER.is_alive():
            return False

        def loop() -> None:
            step = min(float(check), float(interval)) if before is not None else float(interval)
            due = time.monotonic() + interval
            while True:
                time.sleep(step)
                force = time.monotonic() >= due
                if trim_round(before, force=force) and force:
                    due = time.monotonic() + interval

        _TRIMMER = threading.Thread(target=loop, name="memory-trimmer", daemon=True)
        _TRIMMER.start()
        return True
