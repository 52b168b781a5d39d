"""The demand page's heavy steps as jobs (``core.jobs``): run in a worker process, their progress
reported as they go, their results handed back to the page as files.

``train_page`` is the training (the model search when asked, the network and its baselines, the
recommended forecast, the ensemble's SHAP when the saved forecast or the search is the ensemble). The Explanations tab's steps depend on the
analyst's choices and need Keras itself (gradients through a read-out layer built on the network,
a classifier to train), so each is a small job of its own taking the trained run: ``events_page``,
``global_shap_page`` and ``local_shap_page``. In the worker the run's network comes as a
``DetachedModel``; these load its Keras file there, never in the server process.
"""

from __future__ import annotations

import dataclasses
import time

ENSEMBLE_NOTE = ("Ensemble SHAP: each input's push on the blended P50 forecast in units of demand, averaged over "
                 "the horizon, for a sample of training windows. The network and the baseline are one model here: "
                 "the seasonal naive forecast moves with the seasonal reference, the moving average with the "
                 "last season's lags.")


def train_page(sales, *, config, search: dict | None, future=None, report) -> dict:
    """The model search when ``search`` turns it on, then the network on ``sales`` (already audited)
    with ``future`` covariates for the horizon, and the ensemble's SHAP when the search chose it.

    Returns ``{"run", "search", "ensemble_shap"}`` (``search`` and ``ensemble_shap`` may be ``None``);
    ``report`` receives the search's trials, every epoch and each stage's sentence."""
    from core.demand.forecast import train_demand

    t0 = time.perf_counter()
    found = None
    if search and search.get("enabled"):
        from core.demand.search import search_demand

        found = search_demand(sales, config, budget=search["budget"], ensemble=bool(search.get("ensemble")),
                              progress=report.search)
        config = found.config
    report.status("Training the forecast network on every series' windows")
    run = train_demand(sales, config, future_covariates=future, progress=report.epoch)
    from core.demand.blend import apply_recommendation
    from core.demand.recommend import recommend_forecast

    # the recommended forecast is the one saved, unless the page's "Blend with the best baseline" is unticked
    apply_recommendation(run, recommend_forecast(run), enabled=bool((search or {}).get("ensemble", True)))
    explained = None
    # The saved blend is the one explained; without it, the blend the search chose (shown, not saved).
    ens = {**run.blend, "use": True} if run.blend else (found.ensemble if found is not None else None)
    if (ens or {}).get("use"):
        from core.demand.ensemble import explain_demand_ensemble

        report.status("Explaining the ensemble with SHAP")
        explained = explain_demand_ensemble(run, ens).result
    run.timings["job"] = time.perf_counter() - t0
    return {"run": run, "search": found, "ensemble_shap": explained}


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
    from core.demand.explain import compute_global_shap

    report.stage(0.0, "Explaining 150 training windows with SHAP")
    return compute_global_shap(keras_run(run), seed=seed)


def local_shap_page(run, *, sid: str, date, seed: int = 0, report):
    """Why the forward forecast for ``sid`` on ``date`` is what it is (``compute_local_shap``)."""
    from core.demand.explain import compute_local_shap

    report.stage(0.0, f"Explaining the forecast for {sid} on {date}")
    return compute_local_shap(keras_run(run), sid, date, seed=seed)
