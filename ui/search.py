"""The model-search section of the scenario pages: its options in the training form, live
progress while it runs, and afterwards the trials, both charts and the settings it chose."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.search import DEFAULT_PAGE_BUDGET, SearchProgress
from core.search.charts import plot_optimisation_history, plot_param_importance


TUNED_TEXT = {
    "tabular": "depth, width, dropout, L2, learning rate, batch size and imbalance handling",
    "demand": "the input window's length, the quantile loss (tail quantiles, weight of P50), depth, width, "
              "dropout, L2, learning rate and batch size",
    "quality": "the CNN's filters, input size, augmentation, learning rate and dropout",
}
HELD_OUT_TEXT = {
    "tabular": "The test rows are used once, by the final model.",
    "demand": "Validation is the last horizon of each series' training history; the backtest periods are used "
              "once, by the final model.",
    "quality": "Validation is the training split's validation images; the test images are used once, by the "
               "final model.",
}


def search_options(prefix: str, *, ensemble: bool = True, kind: str = "tabular") -> dict:
    """Widgets for a training form: search on/off, budget in seconds, ensemble check (credit and
    fraud; ``kind`` "demand" or "quality" names what those searches tune and has no ensemble)."""
    st.markdown("**Model search** — is deep learning worth it here? Try network settings within a time "
                "budget, on validation rows of the training split only, and keep the best.")
    c1, c2, c3 = st.columns(3)
    on = c1.toggle("Search the network's settings first", False, key=prefix + "search_on",
                   help=f"Tries {TUNED_TEXT[kind]} (Optuna, seeded), starting with today's recipe. "
                        f"{HELD_OUT_TEXT[kind]}")
    budget = c2.number_input("Search budget (seconds)", 5, 3600, int(DEFAULT_PAGE_BUDGET), step=15,
                             key=prefix + "search_budget")
    ens = False
    if kind == "tabular":
        ens = c3.checkbox("Try an ensemble", False,
                          key=prefix + "search_ensemble", disabled=not ensemble,
                          help="Also try the network averaged with the best baseline. Used only when the "
                               "average beats both on validation; labelled 'Ensemble' wherever it is shown.")
    return {"enabled": bool(on), "budget": float(budget), "ensemble": bool(ens and ensemble)}


def run_demand_search(sales, config, options: dict, *, test=None, container=None):
    """The demand search with live progress, when ``options`` (from ``search_options``) turn it on.
    Returns (search or None, the DemandConfig to train with)."""
    if not options or not options.get("enabled"):
        return None, config
    from core.search.demand import search_demand

    from ui.jobs import training_slot

    live = SearchLive(container)
    # The search trains many networks: it waits for a training slot like the final fit.
    with training_slot("demand", sales, horizon=config.horizon, container=container):
        search = search_demand(sales, config, budget=options["budget"], test=test, progress=live)
    live.clear()
    return search, search.config


def run_quality_search(data, config, options: dict, *, ok_class=None, container=None):
    """The quality search with live progress, when ``options`` turn it on. Returns (search or
    None, the QualityConfig to train with, the images at the input size it chose)."""
    if not options or not options.get("enabled"):
        return None, config, data
    from core.search.quality import resize_dataset, search_quality

    live = SearchLive(container)
    search = search_quality(data, config, budget=options["budget"], ok_class=ok_class, progress=live)
    live.clear()
    return search, search.config, resize_dataset(data, search.image_size)


def keep_search(prefix: str, run, search) -> None:
    """Keep a finished search next to the run it chose the settings of (or forget an old one)."""
    if search is None:
        st.session_state.pop(prefix + "search", None)
    else:
        st.session_state[prefix + "search"] = (run, search)


def show_kept_search(prefix: str, run) -> None:
    """The search section of ``run``, when a search chose its settings."""
    kept = st.session_state.get(prefix + "search")
    if kept is not None and kept[0] is run:
        show_search(kept[1], key=prefix + "search")


class SearchLive:
    """Progress callback drawing the search as it runs: a bar with trials done and the best score
    so far, then after each trial the trial table and the optimisation history."""

    def __init__(self, container=None):
        box = (container or st).container(border=True)
        self.bar = box.progress(0.0, text="Starting the model search")
        self.chart = box.empty()
        self.table = box.empty()

    def __call__(self, p: SearchProgress) -> None:
        best = "–" if p.best is None else f"{p.best.score:.4f} (trial {p.best.number})"
        where = f"trial {p.trial_number}, epoch {p.epoch}" if p.kind == "epoch" else f"trial {p.trial_number} ended"
        self.bar.progress(min(p.elapsed / p.budget, 1.0),
                          text=f"Model search: {where} · {p.trials_done} trial(s) done · best {p.metric_label} so "
                               f"far {best} · {p.elapsed:.0f} s of {p.budget:.0f} s")
        if p.kind == "trial":
            self.chart.plotly_chart(plot_optimisation_history(p), key=f"search.live.{p.trials_done}")
            self.table.dataframe(_trials_table(p.trials, p.metric_label), hide_index=True, width="stretch")

    def clear(self) -> None:
        self.bar.empty()
        self.chart.empty()
        self.table.empty()


def _trials_table(trials, metric_label: str) -> pd.DataFrame:
    return pd.DataFrame([{"trial": t.number, "state": t.state, metric_label: t.score,
                          "seconds": round(t.seconds, 1), "epochs": t.epochs, **t.params} for t in trials])


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def show_search(search, *, key: str, ensemble_test: dict | None = None, ensemble_shap=None) -> None:
    """A finished search: headline figures, notices, chosen against today's settings, the ensemble
    check, both charts and every trial. ``ensemble_test`` are the ensemble's test metrics and
    ``ensemble_shap`` its SHAP result when the ensemble is used."""
    res = search.result
    best = res.best
    with st.expander(f"Model search — {len(res.trials)} trial(s) in {res.seconds:.0f} s of {res.budget:.0f} s",
                     expanded=True):
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Trials (complete / pruned)", f"{len(res.complete)} / {sum(t.state == 'pruned' for t in res.trials)}")
        delta = (None if best is None or res.default_score is None or best.number == 0
                 else f"{best.score - res.default_score:+.4f} vs recipe")
        c2.metric(f"Best {res.metric_label}", "–" if best is None else f"{best.score:.4f}", delta,
                  delta_color="inverse" if res.direction == "minimize" else "normal")  # lower error is better
        c3.metric("Search time", f"{res.seconds:.0f} s", f"budget {res.budget:.0f} s", delta_color="off")
        chosen_trial = res.selected
        c4.metric("Model trained with", "today's recipe" if chosen_trial is None or chosen_trial.number == 0
                  else f"trial {chosen_trial.number}")
        for n in res.notices:
            st.info(n, icon=":material/info:")
        chosen = res.best_params
        st.dataframe(pd.DataFrame({"setting": list(chosen), "today's recipe": [_fmt(res.default_params.get(k))
                                                                               for k in chosen],
                                   "chosen": [_fmt(v) for v in chosen.values()]}),
                     hide_index=True, width="stretch", key=key + ".settings")
        ens = search.ensemble or {}
        if ens.get("checked"):
            sc = ens["validation_scores"]
            line = (f"network {sc['network']:.4f}, {ens['baseline'].replace('_', ' ')} {sc[ens['baseline']]:.4f}, "
                    f"their average {sc['ensemble']:.4f} ({res.metric_label})")
            if ens.get("use"):
                st.success(f"**Ensemble used**: the network averaged with {ens['baseline'].replace('_', ' ')} beats "
                           f"both on validation — {line}. The saved model file is the network; the ensemble's "
                           "figures are recorded with the run.", icon=":material/merge:")
            else:
                st.caption(f"Ensemble not used: the average does not beat both on validation — {line}.")
        if ensemble_test:
            st.markdown(f"**Ensemble on the test rows** — ROC-AUC {ensemble_test['roc_auc']:.3f}, "
                        f"PR-AUC {ensemble_test['pr_auc']:.3f}")
        if ensemble_shap is not None:
            from core.charts import plot_shap_bar

            st.plotly_chart(plot_shap_bar(ensemble_shap.importance()).update_layout(
                title="Ensemble: global importance (mean |SHAP|)"), key=key + ".ens_shap")
        c1, c2 = st.columns(2)
        c1.plotly_chart(plot_optimisation_history(res), key=key + ".history")
        c2.plotly_chart(plot_param_importance(res), key=key + ".importance")
        st.dataframe(res.trials_frame(), hide_index=True, width="stretch", key=key + ".trials")
