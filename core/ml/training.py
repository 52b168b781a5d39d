"""Device selection, seeding and the Keras training loop shared by every scenario."""

from __future__ import annotations

import contextlib
import contextvars
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

# Logged once per process: TensorFlow's C++ start-up chatter is noise for an analyst.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ProgressFn = Callable[[int, int, dict], None]

# A deadline for every Keras fit started in this context (a time-budgeted model search sets it):
# (deadline, clock). Kept in a context variable because Streamlit runs each session in its own thread.
_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("training_deadline", default=None)


class TrainingDeadlineExceeded(Exception):
    """Raised from inside a fit when a batch ends past the deadline set by ``training_deadline``."""


@contextlib.contextmanager
def training_deadline(deadline: float | None, clock: Callable[[], float] = time.perf_counter):
    """Stop any fit started inside this block at the first training batch that ends after
    ``deadline`` (a ``clock()`` value), by raising ``TrainingDeadlineExceeded``. An epoch of tens of
    thousands of rows in small batches can take minutes on a busy machine; an end-of-epoch check
    alone would overrun a time budget by that much."""
    token = _DEADLINE.set(None if deadline is None else (float(deadline), clock))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def make_deadline_callback(deadline: float, clock: Callable[[], float] = time.perf_counter):
    """A Keras callback raising ``TrainingDeadlineExceeded`` when a batch ends past ``deadline``."""
    import keras

    class _Deadline(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if clock() > deadline:
                raise TrainingDeadlineExceeded()

    return _Deadline()


@dataclass(frozen=True)
class DeviceInfo:
    """The compute device a model trains on."""

    kind: str  # "GPU" or "CPU"
    name: str
    n_gpus: int
    tf_version: str
    mixed_precision: bool = False
    strategy: str = "default"

    @property
    def label(self) -> str:
        extra = f" x{self.n_gpus}" if self.n_gpus > 1 else ""
        return f"{self.kind}: {self.name}{extra} · TensorFlow {self.tf_version}"


_CONFIGURED: dict[str, Any] = {}


def _list_gpus() -> list:
    import tensorflow as tf

    return list(tf.config.list_physical_devices("GPU"))


def _gpu_name(gpu: Any) -> str:
    try:
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(gpu)
        if details.get("device_name"):
            return str(details["device_name"])
    except Exception:  # details are cosmetic; the device name is enough
        pass
    return str(getattr(gpu, "name", gpu))


def get_device_info(gpus: Sequence | None = None) -> DeviceInfo:
    """Describe the device training will use. ``gpus`` injects a device list (tests)."""
    import tensorflow as tf

    gpus = _list_gpus() if gpus is None else list(gpus)
    if not gpus:
        return DeviceInfo("CPU", f"{os.cpu_count() or 1} CPU core(s)", 0, tf.__version__)
    return DeviceInfo(
        "GPU",
        _gpu_name(gpus[0]),
        len(gpus),
        tf.__version__,
        mixed_precision=True,
        strategy="mirrored" if len(gpus) > 1 else "default",
    )


def probe_device_info(*, run: Callable | None = None, which: Callable | None = None,
                      env: dict | None = None) -> DeviceInfo:
    """The device training will use, found without importing TensorFlow (about 600 MB).

    The overview page shows the device on a server that may never train a model; importing
    TensorFlow just to name the device would take most of a small cloud server's memory. Once
    TensorFlow is loaded in the process (a model was trained), its own answer is used. Otherwise
    the version comes from the installed package's metadata and the GPUs from the NVIDIA driver's
    ``nvidia-smi`` (honouring ``CUDA_VISIBLE_DEVICES``). ``run``, ``which`` and ``env`` are
    injected by tests.
    """
    import importlib.metadata
    import shutil
    import subprocess
    import sys

    if run is None and "tensorflow" in sys.modules:
        return get_device_info()
    run = run or subprocess.run
    which = which or shutil.which
    env = os.environ if env is None else env
    try:
        version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        version = "not installed"
    names: list[str] = []
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible not in ("", "-1") and which("nvidia-smi"):
        try:
            out = run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                      text=True, timeout=5)
            if out.returncode == 0:
                names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            names = []
        if visible:
            keep = [int(i) for i in visible.split(",") if i.strip().isdigit()]
            names = [names[i] for i in keep if i < len(names)]
    if not names:
        return DeviceInfo("CPU", f"{os.cpu_count() or 1} CPU core(s)", 0, version)
    return DeviceInfo("GPU", names[0], len(names), version, mixed_precision=True,
                      strategy="mirrored" if len(names) > 1 else "default")


def configure_devices(gpus: Sequence | None = None, *, tf_module: Any = None) -> DeviceInfo:
    """Prepare the process for training: memory growth and mixed precision on GPUs.

    Memory growth can only be set before a GPU is initialised, and raises afterwards; it is set
    once per process and the error is tolerated, because a second call (a Streamlit rerun) finds
    the GPU already in use, which is fine.
    """
    if tf_module is None:
        import tensorflow as tf_module  # noqa: N813
    gpus = _list_gpus() if gpus is None else list(gpus)
    info = get_device_info(gpus)
    if gpus and not _CONFIGURED.get("memory_growth"):
        for gpu in gpus:
            try:
                tf_module.config.experimental.set_memory_growth(gpu, True)
            except (RuntimeError, ValueError):
                pass
        _CONFIGURED["memory_growth"] = True
    return info


def get_strategy(info: DeviceInfo, *, tf_module: Any = None):
    """Distribution strategy for ``info``: MirroredStrategy over several GPUs, else the default."""
    if tf_module is None:
        import tensorflow as tf_module  # noqa: N813
    if info.strategy == "mirrored":
        return tf_module.distribute.MirroredStrategy()
    return tf_module.distribute.get_strategy()


def set_precision_policy(info: DeviceInfo) -> str:
    """Mixed precision on a GPU, float32 on a CPU. Keras' policy is thread-local, so this is
    called inside the function that builds the model, on every run."""
    import keras

    policy = "mixed_float16" if info.mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras/TensorFlow, and make TensorFlow ops deterministic."""
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(int(seed))
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    except Exception:  # older TF builds: seeding alone is still reproducible on CPU
        pass


def progress_share(epoch: int, epochs: int, logs: dict | None = None) -> float:
    """How far a training is (0 .. 1) at ``epoch`` of ``epochs``, over every network of a run that
    averages several (``logs["network"]`` of ``logs["networks"]``, see ``core.ml.tabular``)."""
    logs = logs or {}
    k, n = int(logs.get("network", 1)), max(int(logs.get("networks", 1)), 1)
    return float(min(max((k - 1 + epoch / max(epochs, 1)) / n, 0.0), 1.0))


def make_progress_callback(fn: ProgressFn, epochs: int):
    """A Keras callback that reports ``fn(epoch, epochs, logs)`` after every epoch."""
    import keras

    class _Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            fn(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    return _Progress()


def make_validation_auc_callback(X_val, y_val):
    """A Keras callback adding ``val_roc_auc`` and ``val_pr_auc`` to each epoch's logs.

    One batched prediction on the validation rows per epoch is far cheaper than Keras' streaming
    AUC metrics, which update a 200-threshold confusion table on every training batch.
    """
    import keras

    from core.ml.metrics import compute_binary_metrics

    y_val = np.asarray(y_val).astype(int).ravel()

    class _ValidationAUC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or not 0 < y_val.sum() < len(y_val):
                return
            from core.ml.models import predict_batched

            m = compute_binary_metrics(y_val, predict_batched(self.model, X_val))
            logs["val_roc_auc"] = m["roc_auc"]
            logs["val_pr_auc"] = m["pr_auc"]

    return _ValidationAUC()


# The key early stopping watches: the validation loss without the weight penalty (see
# make_fit_loss_callback). Keras' own ``val_loss`` includes the L2 penalty of every regularised
# layer, which shrinks a little every epoch as the weights decay, so it kept "improving" by 1e-4
# long after the fit to the data had stopped improving and early stopping never stopped.
MONITOR = "val_fit_loss"
# An epoch counts as an improvement only if it lowers the monitored loss by at least this share.
MIN_REL_IMPROVEMENT = 1e-3


def make_fit_loss_callback():
    """A Keras callback adding ``val_fit_loss`` (validation loss minus the weight penalty) to each
    epoch's logs. Keras evaluates ``val_loss`` as the compiled loss plus ``model.losses`` (the L2
    penalties); subtracting the penalty at the epoch-end weights leaves the data loss."""
    import keras

    class _FitLoss(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or "val_loss" not in logs:
                return
            penalty = sum(float(keras.ops.convert_to_numpy(loss)) for loss in self.model.losses)
            logs[MONITOR] = float(logs["val_loss"]) - penalty

    return _FitLoss()


def improves(current: float, best: float, min_rel_improvement: float = MIN_REL_IMPROVEMENT) -> bool:
    """Early stopping's rule: ``current`` beats ``best`` by at least ``min_rel_improvement`` of it."""
    return bool(current < best - min_rel_improvement * abs(best if np.isfinite(best) else current))


def kept_epoch(losses, min_rel_improvement: float = MIN_REL_IMPROVEMENT) -> int:
    """The epoch (from 1) whose weights early stopping keeps: the last one that improved the monitored
    loss by the rule of :func:`improves`. A later epoch that is lower by less does not replace it."""
    best, kept = np.inf, 0
    for epoch, current in enumerate(losses, start=1):
        if current is not None and np.isfinite(current) and improves(current, best, min_rel_improvement):
            best, kept = float(current), epoch
    return kept


def make_early_stopping(patience: int, *, min_rel_improvement: float = MIN_REL_IMPROVEMENT):
    """Early stopping on ``val_fit_loss``: stop after ``patience`` epochs without an improvement
    of at least ``min_rel_improvement`` of the best loss so far, and restore the best weights."""
    import keras

    class _EarlyStopping(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best, self.best_epoch, self.wait, self.best_weights = np.inf, 0, 0, None
            self.stopped_epoch = 0

        def on_epoch_end(self, epoch, logs=None):
            current = (logs or {}).get(MONITOR)
            if current is None or not np.isfinite(current):
                return
            if improves(current, self.best, min_rel_improvement):
                self.best, self.best_epoch, self.wait = float(current), epoch + 1, 0
                self.best_weights = self.model.get_weights()
                return
            self.wait += 1
            if self.wait >= patience:
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return _EarlyStopping()


def make_plateau_callback(patience: int, *, factor: float = 0.5, min_lr: float = 1e-5,
                          min_rel_improvement: float = MIN_REL_IMPROVEMENT):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without an improvement of
    ``val_fit_loss`` (the same rule early stopping uses), down to ``min_lr``. Set its patience below
    early stopping's, so a plateau first gets smaller steps and only then ends training."""
    import keras

    class _Plateau(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best, self.wait = np.inf, 0

        def on_epoch_end(self, epoch, logs=None):
            current = (logs or {}).get(MONITOR)
            if current is None or not np.isfinite(current):
                return
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            logs["learning_rate"] = lr
            if current < self.best - min_rel_improvement * abs(self.best if np.isfinite(self.best) else current):
                self.best, self.wait = float(current), 0
                return
            self.wait += 1
            if self.wait >= patience and lr > min_lr:
                self.model.optimizer.learning_rate.assign(max(lr * factor, min_lr))
                self.wait = 0

    return _Plateau()


def lowest_loss_epoch(history: dict) -> int:
    """The epoch (from 1) with the lowest monitored validation loss, however small its lead (0 if none)."""
    losses = history.get(MONITOR) or history.get("val_loss") or history.get("loss") or []
    finite = [v if np.isfinite(v) else np.inf for v in losses]
    return int(np.argmin(finite)) + 1 if finite else 0


def summarize_epochs(history: dict, epochs: int | None = None) -> dict:
    """Epochs run, the best epoch (the weights kept) and whether early stopping ended training.
    With early stopping's loss in the history, the best epoch is the one it keeps (:func:`kept_epoch`);
    otherwise the epoch with the lowest loss."""
    losses = history.get(MONITOR) or history.get("val_loss") or history.get("loss") or []
    best = kept_epoch(losses) if history.get(MONITOR) else lowest_loss_epoch(history)
    out = {"epochs_run": len(losses), "best_epoch": best}
    if epochs is not None:
        out["epochs_max"] = int(epochs)
        out["stopped_early"] = bool(len(losses) < int(epochs))
    return out


_KEPT = f"the last to lower the validation loss by {MIN_REL_IMPROVEMENT * 100:g} % or more"


def describe_epochs(summary: dict) -> str:
    """One sentence for the CLI and the pages, e.g. 'Early stopping ended training after 40 of 120
    epochs; the weights of epoch 34 (the last to lower the validation loss by 0.1 % or more) are kept.'"""
    run, best = summary.get("epochs_run", 0), summary.get("best_epoch", 0)
    if summary.get("stopped_early"):
        return (f"Early stopping ended training after {run} of {summary['epochs_max']} epochs; the weights "
                f"of epoch {best} ({_KEPT}) are kept.")
    limit = f" of {summary['epochs_max']}" if "epochs_max" in summary else ""
    return (f"Trained all {run}{limit} epochs (still improving on validation: more epochs may help); "
            f"the weights of epoch {best} ({_KEPT}) are kept.")


@dataclass
class FitResult:
    """A trained Keras model and what happened while training it."""

    model: Any
    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int
    seconds: float
    device: DeviceInfo | None = None
    extra: dict = field(default_factory=dict)


def train_keras(
    build_fn: Callable[[], Any],
    X,
    y,
    X_val,
    y_val,
    *,
    epochs: int = 30,
    batch_size: int = 256,
    class_weight: dict | None = None,
    sample_weight=None,
    seed: int = 0,
    patience: int = 5,
    progress: ProgressFn | None = None,
    gpus: Sequence | None = None,
    validation_auc: bool = False,
    plateau_patience: int | None = None,
) -> FitResult:
    """Build a model with ``build_fn`` and fit it with early stopping on the validation loss
    without the weight penalty (``val_fit_loss``).

    The best weights are restored. ``validation_auc`` adds validation ROC-AUC and PR-AUC per
    epoch to the history (binary models only). ``plateau_patience`` halves the learning rate after
    that many epochs without improvement (``make_plateau_callback``). ``X`` may be a
    ``keras.utils.PyDataset`` yielding (inputs, labels) batches, with ``y`` None (``batch_size`` is
    then the dataset's own). Seeds and the precision policy are set here, inside the call, because
    Keras keeps them per thread and every Streamlit rerun runs in a new thread.
    """
    import keras

    keras.backend.clear_session()
    set_seed(seed)
    info = configure_devices(gpus)
    set_precision_policy(info)
    with get_strategy(info).scope():
        model = build_fn()
    # Order matters: the callbacks that add keys to the epoch's logs run before early stopping
    # reads them and before the progress report shows them.
    callbacks = [make_fit_loss_callback()]
    if validation_auc:
        callbacks.append(make_validation_auc_callback(X_val, y_val))
    if plateau_patience:
        callbacks.append(make_plateau_callback(plateau_patience))
    callbacks.append(make_early_stopping(patience))
    if progress is not None:
        callbacks.append(make_progress_callback(progress, epochs))
    if _DEADLINE.get() is not None:
        callbacks.append(make_deadline_callback(*_DEADLINE.get()))
    start = time.perf_counter()
    hist = model.fit(
        X,
        y,
        validation_data=(X_val, y_val),
        epochs=int(epochs),
        batch_size=int(batch_size),
        class_weight=class_weight,
        sample_weight=sample_weight,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    summary = summarize_epochs(history)
    return FitResult(
        model=model,
        history=history,
        epochs_run=summary["epochs_run"],
        best_epoch=summary["best_epoch"],
        seconds=seconds,
        device=info,
    )
