"""Heavy steps as jobs in worker processes (``core.jobs.manager``), as a page sees them.

    start_job(K, "credit", "core.credit.jobs:train_page", {...}, data=df, imbalance=..., shap_rows=...)
    job_panel(K, "credit", collect)   # progress + Cancel while it runs; collect(result, job) once it is done

``start_job`` checks the job's memory first (a job that cannot fit is refused with
``DataValidationError``; credit rows are sampled down with a notice when that is enough), then submits
it as this browser's job. Jobs beyond ``STUDIO_MAX_CONCURRENT_TRAININGS`` wait first come, first served,
with their place in the queue shown. The job belongs to the browser (``browser_key``, kept in the
address), so a visitor who leaves the page, or reloads it, finds it again; others never see it.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Callable

import streamlit as st

from core.data.safety import escape_markdown
from core.errors import DataValidationError
from core.jobs.manager import Job as WorkerJob
from core.store.memory_guard import estimate_job, plan_memory, sample_rows
from ui.common import training_curve

BROWSER_KEY = "studio.browser"
BROWSER_PARAM = "s"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
POLL_SECONDS = 1.0


def browser_key() -> str:
    """This browser's key: the owner of its jobs. Kept in the session and in the address (``?s=``), so a
    reload, which starts a new session, finds the jobs again; the router calls this on every run,
    since moving between pages drops the address's parameters."""
    key = st.session_state.get(BROWSER_KEY)
    if key is None:
        given = st.query_params.get(BROWSER_PARAM)
        key = given if isinstance(given, str) and _TOKEN.match(given) else secrets.token_urlsafe(18)
        st.session_state[BROWSER_KEY] = key
    if st.query_params.get(BROWSER_PARAM) != key:
        st.query_params[BROWSER_PARAM] = key
    return key


def start_job(ns: str, scenario: str, target: str, kwargs: dict, *, data: Any = None, seed: int = 0,
              meta: dict | None = None, label: str | None = None, **estimate) -> WorkerJob | None:
    """Check the job's memory, then submit ``target(**kwargs)`` as this browser's job for ``scenario``.

    ``kwargs[data_arg]`` is sampled down when the memory plan says so (credit rows, with a notice).
    Refused (with a message, ``None`` returned) while this page's previous job is still running."""
    from core.jobs.manager import get_job_manager

    manager = get_job_manager()
    running = manager.latest(browser_key(), scenario)
    if running is not None and not running.finished:
        st.warning(f"This page's {running.label} is already running (started "
                   f"{time.strftime('%H:%M:%S', time.localtime(running.created))}). Wait for it, or cancel it "
                   "below, before starting another.", icon=":material/pending:")
        return None
    if data is not None:  # the memory check of a training on ``data`` (the demos use the bundled samples)
        plan = plan_memory(estimate_job(scenario, data, **estimate))
        if plan.sample and hasattr(data, "sample"):
            sampled = sample_rows(data, plan, seed=seed)
            kwargs = {k: (sampled if v is data else v) for k, v in kwargs.items()}
        for notice in plan.notices:
            st.info(notice, icon=":material/memory:")
    st.session_state.pop(ns + "job.seen", None)
    return manager.submit(browser_key(), scenario, target, kwargs, label=label, meta=meta)


def job_panel(ns: str, scenario: str, collect: Callable[[Any, WorkerJob], None], *, noun: str = "training") -> WorkerJob | None:
    """This browser's latest job for ``scenario``: its live progress with a Cancel button while it
    waits or runs; once finished, its result handed to ``collect(result, job)`` (once per session),
    or the reason it failed, or that it was cancelled."""
    from core.jobs.manager import get_job_manager

    manager = get_job_manager()
    job = manager.latest(browser_key(), scenario)
    if job is None:
        return None
    if st.session_state.get(ns + "job.seen") == job.id:
        _show_wait(job)
        return job
    if not job.finished:
        _live(ns, job.id, noun)
        return job
    st.session_state[ns + "job.seen"] = job.id
    if job.state == "done":
        try:
            result = manager.result(job)
        except DataValidationError as exc:
            st.error(str(exc), icon=":material/error:")
            return job
        collect(result, job)
        _show_wait(job)
    elif job.state == "cancelled":
        st.info(f"The {noun} was cancelled; nothing of it was kept. Whatever was trained before is unchanged.",
                icon=":material/cancel:")
    else:
        show_failure(job, noun)
    return job


def _show_wait(job: WorkerJob) -> None:
    if job.state == "done" and job.ticket is not None and job.ticket.waited >= 1:
        st.caption(f":material/hourglass_bottom: Waited {job.ticket.waited:.0f} s for a training slot.")


def show_failure(job: WorkerJob, noun: str = "training") -> None:
    """Why a job ended without a result: the data message as it is; a crash or an error in words."""
    err = job.error or {}
    if err.get("kind") == "data":
        st.error(err.get("message", ""), icon=":material/error:")
    elif err.get("kind") == "crash":
        st.error(f"{err.get('message', '')} Your data and any earlier results are unchanged.",
                 icon=":material/report:")
    elif err.get("kind") == "memory":
        st.error(f"The {noun} ran out of memory. Fix: train on fewer rows or images, or try again when other "
                 "trainings have finished. Your data and any earlier results are unchanged.", icon=":material/memory:")
    else:
        st.error(f"The {noun} stopped with an error: {err.get('message', 'unknown')}. Your data and any earlier "
                 "results are unchanged.", icon=":material/report:")


@st.fragment(run_every=POLL_SECONDS)
def _live(ns: str, job_id: str, noun: str) -> None:
    from core.jobs.manager import get_job_manager

    manager = get_job_manager()
    job = manager.get(job_id)
    if job is None or job.finished:
        st.rerun()  # the whole page: it collects the result (or says why there is none)
    with st.container(border=True):
        c1, c2 = st.columns([5, 1])
        if job.state == "queued":
            # The queue's own sentence (place, trainings running, wait so far), once the queue has told the job.
            c1.info(job.queue.sentence() if job.queue is not None else "Waiting for a free training slot.",
                    icon=":material/hourglass_top:")
        else:
            c1.caption(f":material/model_training: {noun.capitalize()} running for {job.elapsed():.0f} s, in a "
                       "separate process: you can leave this page, or reload it, and come back to the result.")
        if c2.button("Cancel", key=ns + "job.cancel", icon=":material/stop_circle:",
                     help=f"Stop this {noun} now; nothing of it is kept."):
            manager.cancel(job)
            st.rerun()
        draw_progress(job.events(), ns)


def draw_progress(events: list, ns: str) -> None:
    """The progress a job reported so far: the model search, the epochs with the training curve, the stage."""
    from core.ml.training import progress_share

    history: dict[str, list[float]] = {}
    last_epoch = status = search = stage = None
    after_search = False
    for kind, _, payload in events:
        if kind == "epoch":
            epoch, epochs, logs = payload
            if epoch == 1:
                history.clear()  # each network (averaged, searched) draws its own curve
            for k, v in logs.items():
                if "loss" in k:
                    history.setdefault(k, []).append(v)
            last_epoch, after_search = payload, search is not None
        elif kind == "status":
            status = payload
        elif kind == "search":
            search, after_search = payload, False
        elif kind == "stage":
            stage = payload
    if search is not None and not after_search:
        from ui.search import SearchLive

        SearchLive()(search)
        return
    if last_epoch is not None:
        epoch, epochs, logs = last_epoch
        which = f"Network {logs['network']:.0f} of {logs['networks']:.0f}, e" if "network" in logs else "E"
        val = "" if "val_loss" not in logs else f", validation loss {logs['val_loss']:.4f}"
        st.progress(progress_share(epoch, epochs, logs),
                    text=f"{which}poch {epoch} of {epochs} — loss {logs.get('loss', 0):.4f}{val}")
    elif stage is not None:
        st.progress(min(max(stage[0], 0.0), 1.0), text=stage[1])
    else:
        st.progress(0.0, text="Starting (loading the libraries in the worker)")
    if status:
        st.caption(status)
    if history:
        try:
            curve = training_curve(history)
        except Exception as exc:  # the curve is a view of the training, never a reason to stop showing it
            st.caption(f"The training curve could not be drawn at this update ({type(exc).__name__}: "
                       f"{escape_markdown(exc)}); the training goes on, and the next update draws it again.")
        else:
            st.plotly_chart(curve, key=f"{ns}job.curve")
