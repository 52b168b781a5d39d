"""The demand page's heavy steps as jobs (``core.jobs``): run in a worker process, their progress
reported as they go, their results handed back to the page as files.

``train_page`` is the service's training (``core.demand.service.train_and_decide``: the model search when
asked, the network and its baselines, the recommended forecast, the ensemble's SHAP when the saved forecast
or the search is the ensemble). The Explanations tab's steps depend on the
analyst's choices and need Keras itself (gradients through a read-out layer built on the network,
a classifier to train), so each is a small job of its own taking the trained run: ``events_page``,
``global_shap_page`` and ``local_shap_page``. In the worker the run's network comes as a
``DetachedModel``; these load its Keras file there, never in the server process.
"""

from __future__ import annotations

import dataclasses

ENSEMBLE_NOTE = ("Ensemble SHAP: each input's push on the blended P50 forecast in units of demand, averaged over "
                 "the horizon, for a sample of training windows. The network and the baseline are one model here: "
                 "the seasonal naive forecast moves with the seasonal reference, the moving average with the "
                 "last season's lags.")


def train_page(sales, *, config, search: dict | None, future=None, report) -> dict:
    """The model search when ``search`` turns it on, then the network on ``sales`` (already audited)
    with ``future`` covariates for the horizon, and the ensemble's SHAP when the search chose it: the
    service's training (``core.demand.service.train_and_decide``).

    Returns ``{"run", "search", "ensemble_shap"}`` (``search`` and ``ensemble_shap`` may be ``None``);
    ``report`` receives the search's trials, every epoch and each stage's sentence. The page sets the
    inventory policy itself (its Inventory tab)."""
    from core.demand.service import train_and_decide

    searching = bool(search and search.get("enabled"))
    # the recommended forecast is the one saved, unless the page's "Blend with the best baseline" is unticked
    outcome = train_and_decide(sales, config=config, future=future, search_budget=search["budget"] if searching
                               else None, search_ensemble=bool((search or {}).get("ensemble")),
                               ensemble=bool((search or {}).get("ensemble", True)), explain_ensemble=True,
                               progress=report.epoch, status=report.status,
                               search_progress=report.search if searching else None)
    outcome.run.timings["job"] = outcome.timings["total"]
    return {"run": outcome.run, "search": outcome.search, "ensemble_shap": outcome.ensemble_shap}


def keras_run(run):
    """``run`` with its network as the Keras model itself (loaded from a ``DetachedModel``'s file):
    what gradients and layers built on the network's output need. Only in a worker."""
    from core.jobs.store import DetachedModel

    if isinstance(run.model, DetachedModel):
        return dataclasses.replace(run, model=run.model.keras)
    return run


def events_page(run, *, mode: str, value: float, imbalance: str, epochs: int, report):
    """The event classifier (``core.demand.events.train_events``) for the level the analyst chose."""
    from core.demand.events import EventConfig, train_events

    report.status("Training the event classifier")
    return train_events(keras_run(run), EventConfig(mode, float(value), imbalance, int(epochs)), progress=report.epoch)


def global_shap_page(run, *, seed: int = 0, report):
    """Overall importance (``core.demand.explain.compute_global_shap``) of the network's P50."""
    from core.demand.service import explain

    report.stage(0.0, "Explaining 150 training windows with SHAP")
    return explain(keras_run(run), seed=seed)


def local_shap_page(run, *, sid: str, date, seed: int = 0, report):
    """Why the forward forecast for ``sid`` on ``date`` is what it is (``compute_local_shap``)."""
    from core.demand.service import explain

    report.stage(0.0, f"Explaining the forecast for {sid} on {date}")
    return explain(keras_run(run), sid=sid, date=date, seed=seed)
