"""The model-search section of the scenario pages: its options in the training form, live
progress while it runs, and afterwards the trials, both charts and the settings it chose."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.present.glossary import BLANK, is_blank, setting_label, setting_text
from core.search import DEFAULT_PAGE_BUDGET, SearchProgress
from core.search.ensemble import ensemble_reason
from core.search.charts import plot_optimisation_history, plot_param_importance
from ui.common import plain_columns, side_note


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


ENSEMBLE_TEXT = {
    "tabular": "Also try the network blended with a baseline (logistic regression or gradient boosting)",
    "demand": "Also try the network's forecast blended with a baseline's (seasonal naive or moving average)",
    "quality": "Also try the CNN's class probabilities blended with a baseline's (majority class or logistic "
               "regression on thumbnails)",
}


def search_options(prefix: str, *, ensemble: bool = True, kind: str = "tabular") -> dict:
    """Widgets for a training form: search on/off, budget in seconds, ensemble check; ``kind``
    ("tabular", "demand" or "quality") names what the search tunes and blends."""
    st.markdown("**Model search** — is deep learning worth it here? Try network settings within a time "
                "budget, on validation rows of the training split only, and keep the best.")
    c1, c2, c3 = st.columns(3)
    on = c1.toggle("Search the network's settings first", False, key=prefix + "search_on",
                   help=f"Tries {TUNED_TEXT[kind]} (Optuna, seeded), starting with today's recipe. "
                        f"{HELD_OUT_TEXT[kind]}")
    budget = c2.number_input("Search budget (seconds)", 5, 3600, int(DEFAULT_PAGE_BUDGET), step=15,
                             key=prefix + "search_budget")
    # On by default, with or without the search: the blend that wins on validation is the recommended model,
    # the one saved, scored and explained.
    rows = {"quality": "images", "demand": "periods"}.get(kind, "rows")
    ens = c3.checkbox("Blend with the best baseline", True, key=prefix + "search_ensemble", disabled=not ensemble,
                      help=f"{ENSEMBLE_TEXT[kind]}, at a weight of 25, 50 or 75 % for the network, chosen on "
                           f"the validation {rows} (never the test {rows}). When the blend beats the network there "
                           "it is the recommended model: saved, scored, explained and decided on. Untick for the "
                           "network alone.")
    return {"enabled": bool(on), "budget": float(budget), "ensemble": bool(ens and ensemble)}


def keep_search(prefix: str, run, search) -> None:
    """Keep a finished search next to the run it chose the settings of (or forget an old one)."""
    if search is None:
        st.session_state.pop(prefix + "search", None)
    else:
        st.session_state[prefix + "search"] = (run, search)


def kept_baselines(prefix: str, run):
    """The baselines' test probabilities kept with ``run`` (None when another run's, or none)."""
    kept = st.session_state.get(prefix + "baselines")
    return kept[1] if isinstance(kept, tuple) and len(kept) == 2 and kept[0] is run else None


def kept_search(prefix: str, run):
    """The search kept with ``run`` (None when no search chose its settings)."""
    kept = st.session_state.get(prefix + "search")
    return None if kept is None or kept[0] is not run else kept[1]


def kept_search_section(prefix: str, run) -> dict | None:
    """The search section (with the ensemble's test figures when used) of the demand or quality
    search kept with ``run``, to save with the run; None when no search chose its settings."""
    search = kept_search(prefix, run)
    if search is None:
        return None
    if hasattr(search, "image_size"):
        from core.quality.search import quality_search_section

        return quality_search_section(search, run, kept_baselines(prefix, run))
    from core.demand.search import demand_search_section

    return demand_search_section(search, run)


def attach_kept_search(prefix: str, run, summary: dict) -> dict:
    """Record the demand or quality search kept with ``run`` (and its ensemble, when used) in the
    run's saved summary, so the Runs page and the model card show it."""
    section = kept_search_section(prefix, run)
    if section is not None:
        from core.search.scenarios import attach_search

        attach_search(summary, section)
    return summary


def show_kept_search(prefix: str, run) -> None:
    """The search section of ``run``, when a search chose its settings (with the ensemble's test
    figures and its SHAP, when kept, when the search chose the ensemble)."""
    kept = st.session_state.get(prefix + "search")
    if kept is not None and kept[0] is run:
        section = kept_search_section(prefix, run) or {}
        explained = st.session_state.get(prefix + "ensemble_shap")
        if not (isinstance(explained, tuple) and explained[0] is run):
            explained = (run, None)
        show_search(kept[1], key=prefix + "search",
                    ensemble_test=(section.get("ensemble") or {}).get("test_metrics"),
                    ensemble_shap=explained[1], ensemble_note=explained[2] if len(explained) > 2 else None)


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
            table, config = trials_table(_trials_frame(p.trials, p.metric_label), p.metric_label)
            self.table.dataframe(table, hide_index=True, width="stretch", column_config=config)

    def clear(self) -> None:
        self.bar.empty()
        self.chart.empty()
        self.table.empty()


def _trials_frame(trials, metric_label: str) -> pd.DataFrame:
    return pd.DataFrame([{"trial": t.number, "state": t.state, metric_label: t.score,
                          "seconds": round(t.seconds, 1), "epochs": t.epochs, **t.params} for t in trials])


TRIAL_COLUMNS = ("trial", "state", "seconds", "epochs")
STATE_WORDS = {"complete": "Complete", "pruned": "Pruned (below the median)", "stopped": "Stopped at the budget",
               "failed": "Failed"}


def trials_table(frame: pd.DataFrame, metric_label: str) -> tuple[pd.DataFrame, dict]:
    """Every trial as a person reads it, and its ``st.dataframe`` column settings: settings under
    their plain names (the raw name on hover), values in words (Class weights, Yes / No, 64×64),
    the score with four decimals and "—" where a trial has no value (a pruned trial's score)."""
    shown = frame.copy()
    settings = [c for c in shown.columns if c not in TRIAL_COLUMNS and c != metric_label]
    if "state" in shown:
        shown["state"] = [STATE_WORDS.get(s, s) for s in shown["state"]]
    for c in settings:  # option values in words; numbers stay numbers where every trial has one
        values = list(shown[c])
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and not is_blank(v) for v in values)
        if not numbers or c == "image_size":
            shown[c] = [setting_text(c, v) for v in values]
    for c, fmt in ((metric_label, "{:.4f}"), ("seconds", "{:,.1f}"), ("epochs", "{:,.0f}")):
        if c in shown and any(is_blank(v) for v in shown[c]):
            shown[c] = [BLANK if is_blank(v) else fmt.format(v) for v in shown[c]]
    names = {c: setting_label(c) for c in settings}
    names[metric_label] = metric_label[:1].upper() + metric_label[1:]
    def numeric(c) -> bool:  # still numbers (no blank turned them into text)
        return c in shown and pd.api.types.is_numeric_dtype(shown[c])

    decimals = {c: n for c, n in ((metric_label, 4), ("seconds", 1)) if numeric(c)}
    whole = [c for c in ("trial", "epochs") if numeric(c)]
    config = plain_columns(shown.columns, names=names, decimals=decimals, whole=whole)
    for c in settings:  # a setting's raw name on hover, as in every other table
        config[c]["help"] = f"Setting `{c}`."
    return shown, config


def settings_frame(chosen: dict, recipe: dict) -> pd.DataFrame:
    """The settings the search chose beside today's recipe, in plain names and words."""
    return pd.DataFrame({"Setting": [setting_label(k) for k in chosen],
                         "Today's recipe": [setting_text(k, recipe.get(k)) for k in chosen],
                         "Chosen": [setting_text(k, v) for k, v in chosen.items()]})


def show_search(search, *, key: str, ensemble_test: dict | None = None, ensemble_shap=None,
                ensemble_note: str | None = None, ensemble_shown: bool = False) -> None:
    """A finished search: headline figures, notices, chosen against today's settings, the ensemble
    check, both charts and every trial. ``ensemble_test`` are the ensemble's test metrics and
    ``ensemble_shap`` its SHAP result when the ensemble is used (``ensemble_note`` under it);
    ``ensemble_shown``: the page shows the ensemble check as its recommended model (credit, fraud)."""
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
        c3.metric("Search time", f"{res.seconds:.0f} s", **side_note(f"budget {res.budget:.0f} s"))
        chosen_trial = res.selected
        c4.metric("Model trained with", "today's recipe" if chosen_trial is None or chosen_trial.number == 0
                  else f"trial {chosen_trial.number}")
        for n in res.notices:
            st.info(n, icon=":material/info:")
        chosen = res.best_params
        st.dataframe(settings_frame(chosen, res.default_params), hide_index=True, width="stretch",
                     key=key + ".settings")
        ens = {} if ensemble_shown else search.ensemble or {}
        if ens.get("checked"):
            (st.success if ens.get("use") else st.caption)(ensemble_text(ens, res.metric_label))
        if ensemble_test:
            st.markdown(f"**{ens.get('label', 'Ensemble')}, on the {test_part(ensemble_test)}** — "
                        f"{ensemble_test_text(ensemble_test)}")
        if ensemble_shap is not None:
            show_ensemble_shap(ensemble_shap, key=key + ".ens_shap")
            if ensemble_note:
                st.caption(ensemble_note)
        c1, c2 = st.columns(2)
        c1.plotly_chart(plot_optimisation_history(res), key=key + ".history")
        c2.plotly_chart(plot_param_importance(res), key=key + ".importance")
        table, config = trials_table(res.trials_frame(), res.metric_label)
        st.dataframe(table, hide_index=True, width="stretch", column_config=config, key=key + ".trials")


def show_ensemble_shap(explained, *, key: str) -> None:
    """The ensemble's SHAP: global importance for credit and fraud (a ``ShapResult``), or the map
    of one test image for quality (``core.quality.ensemble.EnsembleExplanation``)."""
    if hasattr(explained, "importance"):
        from core.present.charts import plot_shap_bar

        st.plotly_chart(plot_shap_bar(explained.importance()).update_layout(
            title="Ensemble: global importance (mean |SHAP|)"), key=key)
        return
    from core.quality.charts import plot_image_heatmap

    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_image_heatmap(explained.image, title=f"Test image {explained.index + 1}"), key=key + ".img")
    c2.plotly_chart(plot_image_heatmap(explained.image, explained.shap.maps[0], signed=True,
                                       title=f"Ensemble SHAP · {explained.target}"), key=key + ".map")
    probs = ", ".join(f"{c} {p:.2f}" for c, p in sorted(explained.proba.items(), key=lambda kv: -kv[1]))
    st.caption(f"{explained.label}, explained with SHAP (expected gradients) on the test image it scores most "
               f"surely as {'a defect' if explained.target == 'P(defect)' else 'one class'} ({probs}): each "
               "pixel's push on the blended score, red raising it, blue lowering it. The CNN and the baseline "
               "are one model here, so the map covers both.")


def _name(key: str) -> str:
    from core.quality.baselines import BASELINE_NAMES

    if key == "logistic_16px":  # the baseline's own name, in running text
        return BASELINE_NAMES[key][0].lower() + BASELINE_NAMES[key][1:]
    return key.replace("_", " ")


def show_recommended(tab, *, key: str) -> None:
    """Which model a credit or fraud run recommends (the one saved, scored and explained), the ensemble
    check's validation scores behind it, and the blend's test figures when it is the one."""
    from core.search.tabular import METRIC_LABELS

    ens = tab.ensemble or {}
    if not ens:
        st.caption("Recommended model: the Keras network (the blend with the best baseline was switched off).")
        return
    if not ens.get("checked"):
        st.caption(f"Recommended model: the Keras network. {ens.get('note', '')}")
        return
    text = ensemble_text(ens, METRIC_LABELS.get(ens.get("metric"), ens.get("metric", "")), recommended=True)
    if ens.get("use"):
        st.success(f"{text} **On the {test_part(ens['test_metrics'])}** — {ensemble_test_text(ens['test_metrics'])}.",
                   icon=":material/join:")
    else:
        st.caption(f"Recommended model: the Keras network. {text}")


def ensemble_text(ens: dict, metric_label: str, *, recommended: bool = False) -> str:
    """One line on the ensemble check: used or not, the chosen blend, and the validation scores
    of the network, the best baseline and the blend. ``recommended``: the blend, when used, is the
    model saved and scored (credit and fraud), not figures beside the network."""
    sc = ens["validation_scores"]
    best = ens.get("best_baseline") or ens["baseline"]
    w = float(ens.get("weight", 0.5))
    line = (f"network {sc['network']:.4f}, best baseline ({_name(best)}) {sc[best]:.4f}, blend of "
            f"{w:.0%} network + {1 - w:.0%} {_name(ens['baseline'])} {sc['ensemble']:.4f} ({metric_label})"
            ).replace("% ", " % ")
    if ens.get("use"):
        saved = ("It is the recommended model: saved, scored, explained and decided on." if recommended else
                 "The saved model file is the network; the ensemble's figures are recorded with the run.")
        reason = ensemble_reason(ens, rows="data", names={best: _name(best)})
        return f"**Ensemble used — {ens.get('label', 'Ensemble')}**: {reason} — {line}. {saved}"
    return f"Ensemble not used: no blend beats the network on validation — {line}."


ENSEMBLE_METRICS = {"roc_auc": ("ROC-AUC", 3), "pr_auc": ("PR-AUC", 3), "mae": ("MAE of P50", 2),
                    "wmae": ("holiday-weighted MAE", 2), "mase": ("MASE", 3), "accuracy": ("accuracy", 3),
                    "macro_f1": ("macro F1", 3), "log_loss": ("log loss", 3)}


def ensemble_test_text(metrics: dict) -> str:
    """The ensemble's headline test figures, e.g. "ROC-AUC 0.912, PR-AUC 0.561"."""
    parts = []
    for k, (label, digits) in ENSEMBLE_METRICS.items():
        v = metrics.get(k)
        if isinstance(v, (int, float)) and v == v:
            parts.append(f"{label} {v:.{digits}f}")
    return ", ".join(parts)


def test_part(metrics: dict) -> str:
    """What the test figures were measured on."""
    if "pr_auc" in metrics:
        return "test rows"
    return "backtest periods" if "mae" in metrics else "test images"
