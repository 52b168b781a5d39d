"""Training on a shared server: the memory check and the queue every scenario page wraps its
training call in, with the queue position shown while the visitor waits.

    with training_slot("credit", df, imbalance=opts["imbalance"], shap_rows=opts["shap_rows"]) as job:
        train(job.data, ...)

A job that cannot fit in memory is refused with ``DataValidationError`` (the page's existing
``except`` shows it); credit rows are sampled down with a notice when that is enough. Jobs beyond
``STUDIO_MAX_CONCURRENT_TRAININGS`` wait first come, first served, under a visible
"waiting: N ahead of you" box that disappears when the training starts.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Iterator

import streamlit as st

from core.jobs import QueueState, Ticket, get_training_queue
from core.memory_guard import MemoryBudget, MemoryPlan, estimate_job, get_memory_limit_mb, plan_memory, sample_rows


@dataclass
class Job:
    """A training holding a slot: the data to train on (sampled when the plan says so), the memory
    plan, and the queue ticket (how long it waited)."""

    data: Any
    plan: MemoryPlan
    ticket: Ticket | None


# A training inside a training (a model search, then the final fit) runs in the slot its caller
# holds: taking a second slot would deadlock with a limit of one.
_HELD = threading.local()


@contextlib.contextmanager
def training_slot(scenario: str, data: Any = None, *, seed: int = 0, container=None, **opts) -> Iterator[Job]:
    """Check the job's memory, wait for a training slot (showing the queue), yield a :class:`Job`."""
    estimate = estimate_job(scenario, data, **opts)
    if getattr(_HELD, "slot", False):
        yield Job(data=data, plan=plan_memory(estimate), ticket=None)
        return
    # A job larger than the whole limit would be refused after any wait: say so before queueing.
    plan_memory(estimate, MemoryBudget(limit_mb=get_memory_limit_mb(), available_mb=None, process_mb=0.0))
    box = (container or st).empty()

    def on_wait(state: QueueState) -> None:
        box.info(state.sentence(), icon=":material/hourglass_top:")

    queue = get_training_queue()
    with queue.slot(scenario, on_wait=on_wait, poll=1.0) as ticket:
        box.empty()
        # Checked again with a slot in hand: the memory other trainings held may be free by now.
        plan = plan_memory(estimate)
        if plan.sample and data is not None and hasattr(data, "sample"):
            data = sample_rows(data, plan, seed=seed)
        for notice in plan.notices:
            (container or st).info(notice, icon=":material/memory:")
        if ticket.waited >= 1:
            (container or st).caption(f":material/hourglass_bottom: Waited {ticket.waited:.0f} s for a training slot.")
        _HELD.slot = True
        try:
            yield Job(data=data, plan=plan, ticket=ticket)
        finally:
            _HELD.slot = False
