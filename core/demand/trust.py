"""When a demand forecast's figures must not be trusted (``core.report.trust``): no better than the naive
forecast, worse than a naive forecast, or an error so small that an input must hold the answer."""

from __future__ import annotations

import math

from core.report.trust import Trust, TrustFlag, check_below_baseline, check_too_good

# This project's network reaches MASE 0.67-0.79 against the in-sample seasonal naive (0.74 on the sample,
# 0.67 on air passengers, 0.79 on a weekly retail chain; bench/bench_demand.py). 0.3
# is errors under a third of the naive forecast's on history: on a first, plain training an input
# that holds the quantity itself (sales in another unit, revenue, a lagged copy shifted the wrong way)
# explains it far more often than skill. A search the analyst ran on purpose is not judged by it.
TOO_GOOD_MASE = 0.3
USUAL = "forecasts of sample, airline and retail sales reach MASE 0.67–0.79"
FMT = ",.1f"  # errors in units


def demand_trust(run, *, verdict=None, searched: bool = False) -> Trust:
    """The flags of a ``DemandRun``'s backtest. ``verdict``: the page's verdict against the best baseline
    (``core.demand.verdict.compare_demand``), computed here when not given; ``searched``: the settings
    came from a model search, which drops the first-try "too good" check."""
    from core.demand.blend import saved_metrics, saved_name
    from core.demand.verdict import compare_demand

    bt = run.backtest
    if "nn_p50" not in bt:
        return Trust()
    if verdict is None and any(f"{m}_p50" in bt for m in ("seasonal_naive", "moving_average")):
        verdict = compare_demand(run)
    naive = compare_demand(run, baselines=("seasonal_naive",)) if "seasonal_naive_p50" in bt else None
    # The saved forecast's figures, named: the recommended blend when the run has one (the verdicts judge it too).
    mase = saved_metrics(run).get("mase")
    mase = math.nan if mase is None else float(mase)
    model = f"The {saved_name(run)}"
    advice = "forecast with it instead, or check the data (gaps, a changed unit, shifted dates)."
    below = (check_below_baseline(verdict, headline="Worse than a naive forecast", advice=advice, model=model, fmt=FMT)
             or check_below_baseline(naive, headline="Worse than a naive forecast", advice=advice, model=model, fmt=FMT))
    if below is None and naive is not None and naive.outcome != "better" and mase >= 1:
        below = TrustFlag("below_baseline", "Worse than a naive forecast",
                          f"{model}'s MASE is {mase:.2f}: its errors are larger than those of repeating the last "
                          "season on the training history, and on the backtest it does not beat the seasonal naive "
                          f"forecast outside the noise ({naive.metric} {naive.value:{FMT}} against "
                          f"{naive.baseline_value:{FMT}}). Keep the naive forecast, or check the data.")
    chance = None
    if below is None and naive is not None and naive.outcome != "better":
        chance = TrustFlag("chance", "No better than the naive forecast",
                           f"{model}'s {naive.metric} is {naive.value:{FMT}} against {naive.baseline_value:{FMT}} "
                           f"for the seasonal naive forecast (the same period last season), and the 95 % interval of "
                           f"the difference ({naive.low:+{FMT}} to {naive.high:+{FMT}}) holds 0: it adds nothing "
                           "repeating last season does not give. Add history or covariates, or keep the naive "
                           "forecast.")
    too_good = None if searched else check_too_good(mase, TOO_GOOD_MASE, metric="MASE", usual=USUAL,
                                                    higher_is_better=False, fmt=".2f", model=model, first_try=True)
    return Trust.of(chance, below, too_good)
