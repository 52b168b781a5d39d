"""The service process settled for many small requests on a few cores, once start-up is done.

``settle()`` runs after the models are loaded and warmed up, before the port opens (and in each worker
of ``--workers N``):

- the objects start-up made (modules, models, preprocessors) are frozen out of the garbage collector's
  reach (``gc.freeze``): a full collection otherwise walked all of them, about 95 ms of CPU that landed on
  whichever request was answering;
- BLAS (OpenBLAS under NumPy and SciPy) is held to one thread, as ONNX Runtime is
  (``STUDIO_BLAS_THREADS``, default 1): a baseline's matrix products in the reason codes' walks woke
  BLAS threads that spun for work beside the request threads; the products are the same;
- glibc keeps at most two malloc arenas: each of the thread pool's threads otherwise got its own, each
  keeping the pages it once used, and the resident memory grew with the number of threads that had run
  a request;
- the memory start-up freed goes back to the system (``malloc_trim``).

``prepare()`` runs before the models are loaded (in the parent and in each worker): glibc's allocator keeps
its own defaults here, unlike the app (``core.store.memory_guard.configure_allocator``, ``STUDIO_MALLOC=on``
applies the app's setting): with every block of 128 KB and more given its own mapping, each array of a
1,000-row request was mapped and unmapped page by page, about 18 ms more server CPU per such request
(6,186 against 4,951 batched rows/s in ``bench/bench_serve.py``) for no resident memory shown saved.
It also holds OpenMP (scikit-learn's gradient boosting) to ``STUDIO_OMP_THREADS`` threads (default 1) through
``OMP_NUM_THREADS``, unless that is set: OpenMP reads it once, when scikit-learn first loads, and a limit set
later by ``threadpoolctl`` reaches only the thread that set it, not the request threads. A gradient-boosting
blend's batch woke a second thread per tree that spun beside the request threads (1,000 rows: 488 ms of CPU
against 6 ms with one thread, load 7.7); rows above ``core.ml.treewalk.WALK_ROWS`` go to scikit-learn.

``state`` holds what was done, for ``GET /health``. Nothing here changes an answer.
"""

from __future__ import annotations

import gc
import os

BLAS_THREADS_ENV = "STUDIO_BLAS_THREADS"
OMP_THREADS_ENV = "STUDIO_OMP_THREADS"
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter

state: dict = {}


def freeze_startup_objects() -> int:
    """Collect once, then freeze what is left (``gc.freeze``); the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def limit_blas_threads() -> int | None:
    """Hold BLAS to ``STUDIO_BLAS_THREADS`` threads (default 1); the limit set, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return None
    threads = max(1, int(os.environ.get(BLAS_THREADS_ENV, "1") or 1))
    threadpool_limits(limits=threads, user_api="blas")
    return threads


def prepare() -> dict:
    """Set the allocator and OpenMP's threads as the module docstring says, before start-up allocates or loads
    scikit-learn; the allocator settings applied (also kept in ``state["allocator"]``; empty unless
    ``STUDIO_MALLOC=on``); OpenMP's threads in ``state["openmp_threads"]``."""
    from core.store.memory_guard import configure_allocator

    state["allocator"] = configure_allocator(default=False)
    wanted = str(os.environ.get(OMP_THREADS_ENV, "1")).strip()
    value = os.environ.setdefault("OMP_NUM_THREADS", wanted if wanted.isdigit() and int(wanted) > 0 else "1")
    state["openmp_threads"] = int(value) if value.isdigit() else value
    return dict(state["allocator"])


def settle() -> dict:
    """Freeze, limit and trim as the module docstring says; what was done (also kept in ``state``)."""
    from core.store.memory_guard import glibc

    libc = glibc()
    arenas = None
    if libc is not None and hasattr(libc, "mallopt") and libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) == 1:
        arenas = MALLOC_ARENAS
    state.update(startup_objects_frozen=freeze_startup_objects(), blas_threads=limit_blas_threads(),
                 malloc_arenas=arenas)
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
    return dict(state)
