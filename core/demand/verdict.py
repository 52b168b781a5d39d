"""The demand network against the best statistical baseline, and the warnings a planner needs.

The verdict is the one comparison of a demand run: the page's tiles, the inventory policy's costs, the
saved run's headline (the Overview, presenter mode, the model card) and the command line all set the
network against the baseline it names (``best_baseline``), never against a fixed one.

The same rule as every other scenario (``core.ml.verdict``): a paired bootstrap interval of the
difference in mean absolute error over the backtest's forecast points (holiday weeks weighted 5
when the data has a holiday flag), "on par" when it contains zero. On top of that, two things a
headline error hides: the network having the worst bias of all methods, and its P10–P90 interval
missing its coverage target.
"""

from __future__ import annotations

import numpy as np

from core.ml.verdict import Verdict, compare_losses

BASELINES = {"seasonal_naive": "seasonal naive", "moving_average": "moving average"}
COVERAGE_TARGET = (70.0, 90.0)  # % of actuals inside P10–P90 (80 % ideal)


def compare_demand(run, *, seed: int = 0, baselines=tuple(BASELINES)) -> Verdict:
    """The saved forecast (the network, or its recommended blend: ``run.blend``) vs the best of
    ``baselines`` on (holiday-weighted) MAE over every backtest forecast point."""
    bt = run.backtest
    errors = {m: (bt[f"{m}_p50"] - bt["y"]).abs().to_numpy(float)
              for m in ("nn", *baselines) if f"{m}_p50" in bt}
    blend = getattr(run, "blend", None)
    if blend is not None:  # the verdict judges the forecast that is saved and scored
        from core.demand.blend import blend_backtest

        errors["nn"] = (blend_backtest(bt, blend["baseline"], blend["weight"])["ensemble_p50"] - bt["y"]).abs().to_numpy(float)
    weights = None
    if getattr(run, "holiday_col", None) and "holiday" in bt:
        weights = np.where(bt["holiday"].to_numpy(float) > 0.5, 5.0, 1.0)
    return compare_losses(errors.pop("nn"), errors, metric="holiday-weighted MAE" if weights is not None else "MAE",
                          weights=weights, names=BASELINES, seed=seed)


def demand_warnings(metrics, *, model: str = "The network") -> list[str]:
    """Plain warnings from the backtest metrics table (index: method names, the saved forecast first:
    ``core.demand.blend.saved_metrics_table``); ``model`` names that first row in the sentences."""
    out = []
    nn = metrics.iloc[0]
    if "bias_pct" in metrics and metrics["bias_pct"].notna().all():
        worst = metrics["bias_pct"].abs().idxmax()
        if worst == metrics.index[0] and abs(nn["bias_pct"]) >= 1.0:
            side = "over" if nn["bias_pct"] > 0 else "under"
            others = ", ".join(f"{_lower(m)} {b:+.1f} %" for m, b in metrics["bias_pct"].iloc[1:].items())
            out.append(f"{model} has the largest bias of all methods: it {side}-forecasts by "
                       f"{abs(nn['bias_pct']):.1f} % on the backtest ({others}). Orders built on it will "
                       f"{'carry too much stock' if side == 'over' else 'run short'} unless the bias is corrected.")
    cov = nn.get("coverage_p10_p90") if hasattr(nn, "get") else None
    if cov is not None and np.isfinite(cov) and not COVERAGE_TARGET[0] <= cov <= COVERAGE_TARGET[1]:
        too = "narrow" if cov < COVERAGE_TARGET[0] else "wide"
        out.append(f"{model}'s P10–P90 interval holds {cov:.0f} % of the actuals, outside its "
                   f"{COVERAGE_TARGET[0]:.0f}–{COVERAGE_TARGET[1]:.0f} % target (80 % ideal): the intervals are too "
                   f"{too}, so safety stock built on them is {'too low' if too == 'narrow' else 'larger than needed'}.")
    return out


def saved_warnings(run) -> list[str]:
    """``demand_warnings`` of the saved forecast (the recommended blend when the run has one, named so; the
    network alone is then one of the methods it is compared with)."""
    from core.demand.blend import saved_metrics_table, saved_name

    return demand_warnings(saved_metrics_table(run), model=f"The {saved_name(run)}")


def _lower(method: str) -> str:
    """A method's row name mid-sentence: "seasonal naive", "the network alone" (not "keras quantile network")."""
    return "the network alone" if method == "Keras quantile network" else method[:1].lower() + method[1:]


def best_baseline(run, verdict: Verdict | None = None) -> str:
    """The key (``seasonal_naive`` / ``moving_average``) of the baseline the verdict compares with."""
    v = verdict if verdict is not None else compare_demand(run)
    return next((k for k, name in BASELINES.items() if name == v.baseline), "seasonal_naive")


def baseline_sd(run, kind: str) -> dict[str, float]:
    """Per series: the spread of the baseline's in-sample one-step errors (its policy's uncertainty)."""
    from core.demand import baselines as bl

    return {sid: float(np.std(bl.in_sample_errors(run.arrays[sid].y, nt, kind, run.wcfg.season)))
            for sid, nt in run.n_train.items()}


def baseline_policy_backtest(run, params, agg_scale: float, verdict: Verdict | None = None):
    """``compute_policy_backtest`` of the saved forecast (the recommended blend when the run has one) against
    the verdict's best baseline; returns (backtest, the baseline's name)."""
    from core.demand.blend import saved_backtest
    from core.demand.inventory import compute_policy_backtest

    kind = best_baseline(run, verdict)
    bt, prefix, _name = saved_backtest(run)
    return (compute_policy_backtest(bt, params, run.wcfg.horizon, baseline_sd(run, kind), agg_scale,
                                    baseline=kind, model=prefix), BASELINES[kind])


def versus_best(run, verdict: Verdict | None = None) -> dict:
    """The headline comparison with the verdict's best baseline: its name and metrics row, and the
    network's error on the verdict's metric as a share of the baseline's (``ratio``: below 1 is better), and
    the headline's ``label`` for it ("MAE vs moving average")."""
    v = verdict if verdict is not None else compare_demand(run)
    kind = best_baseline(run, v)
    row = run.metrics.loc[BASELINES[kind].capitalize()]
    ratio = v.value / v.baseline_value if v.baseline_value else None
    return {"key": kind, "name": BASELINES[kind], "row": row, "metric": v.metric, "ratio": ratio,
            "label": f"{v.metric[:1].upper()}{v.metric[1:]} vs {BASELINES[kind]}"}
