"""Inventory policy from forecast quantiles: safety stock, reorder point and expected cost.

Periodic review (R, S): every ``review_period`` periods, order up to S. Stock must cover demand
over the protection interval P = lead time + review period. From the forecast, demand over P has
mean mu = sum of P50 and spread sigma = sqrt(sum sigma_t^2), with sigma_t = (P90 - P10) / 2.563
(the P10-P90 width of a normal distribution). Safety stock = z(service level) * sigma, reorder
point (order-up-to level) S = mu + safety stock. Errors of neighbouring periods are correlated, so
sigma is widened by ``agg_scale``, measured on the model's validation windows (``aggregate_scale``). The same policy on a
baseline forecast (the verdict's best baseline, ``core.demand.verdict``) uses its in-sample error spread. Cheap NumPy only: the page recomputes it on every slider move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError

Z_WIDTH = 2 * 1.2815515655446004  # P90 - P10 of a standard normal


# Lead time and review period are agreed with suppliers in days; the policy works in periods of the
# data, so the defaults are set in days and rounded up to whole periods (stock covers at least the
# real lead time): 7 days is 7 periods on daily data, 1 on weekly data and 1 on monthly data.
DEFAULT_LEAD_TIME_DAYS = 7.0
DEFAULT_REVIEW_DAYS = 7.0
PERIOD_DAYS = {"daily": 1.0, "weekly": 7.0, "monthly": 365.25 / 12}
PERIOD_UNIT = {"daily": "day", "weekly": "week", "monthly": "month"}


@dataclass(frozen=True)
class PolicyParams:
    """Planner inputs, in periods of the data (see ``default_policy`` for days). Costs are per unit:
    holding per period, stock-out per unit short."""

    service_level: float = 0.95
    lead_time: int = 7
    review_period: int = 7
    holding_cost: float = 0.1
    stockout_cost: float = 2.0


def periods_from_days(days: float, frequency: str) -> int:
    """Whole periods that cover ``days`` (rounded up): 7 days -> 1 week, 10 days -> 2 weeks."""
    if frequency not in PERIOD_DAYS:
        raise DataValidationError(f"Frequency must be one of {list(PERIOD_DAYS)}; got '{frequency}'.")
    if not (days >= 0 and math.isfinite(days)):
        raise DataValidationError(
            f"Lead time and review period must be zero or more days; got {days}. Enter days, e.g. 7."
        )
    return int(math.ceil(days / PERIOD_DAYS[frequency] - 1e-9))


def default_policy(frequency: str, horizon: int, *, lead_time_days: float = DEFAULT_LEAD_TIME_DAYS,
                   review_days: float = DEFAULT_REVIEW_DAYS, **costs) -> tuple[PolicyParams, list[str]]:
    """The policy for lead time and review period given in days, in whole periods of ``frequency``,
    shortened (with a note) when lead time + review period would not fit in the forecast horizon."""
    lead = periods_from_days(lead_time_days, frequency)
    review = max(1, periods_from_days(review_days, frequency))
    unit, notes = PERIOD_UNIT[frequency], []
    if lead + review > horizon:
        new_lead = min(lead, max(0, horizon - 1))
        new_review = max(1, min(review, horizon - new_lead))
        notes.append(f"Lead time {lead} + review period {review} {unit}s do not fit in the {horizon}-{unit} "
                     f"horizon: shortened to {new_lead} + {new_review}. Train with a longer horizon to plan "
                     "the full lead time.")
        lead, review = new_lead, new_review
    return PolicyParams(lead_time=lead, review_period=review, **costs), notes


def describe_params(p: PolicyParams, frequency: str) -> dict:
    """Lead time and review period with their units, e.g. for the CLI JSON and the page."""
    unit, days = PERIOD_UNIT[frequency], PERIOD_DAYS[frequency]

    def one(n: int) -> dict:
        return {"periods": int(n), "unit": unit, "days": round(n * days, 1)}

    return {"lead_time": one(p.lead_time), "review_period": one(p.review_period),
            "text": f"lead time {p.lead_time} {unit}{'s' * (p.lead_time != 1)} (~{p.lead_time * days:.0f} days), "
                    f"review every {p.review_period} {unit}{'s' * (p.review_period != 1)} "
                    f"(~{p.review_period * days:.0f} days)"}


def _phi(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _z(p: float) -> float:
    """Inverse normal CDF (bisection; exact enough and free of SciPy)."""
    lo, hi = -8.0, 8.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def loss_function(z: float) -> float:
    """Standard normal loss G(z) = E[(Z - z)+]: expected units short per unit of sigma."""
    return _phi(z) - z * (1 - _cdf(z))


def check_params(p: PolicyParams, horizon: int) -> None:
    """Raise a clear error for policy inputs that cannot be used."""
    if not 0.5 <= p.service_level < 1:
        raise DataValidationError(
            f"Service level must be at least 0.5 and below 1 (e.g. 0.95); got {p.service_level}. "
            "Pick a value like 0.9, 0.95 or 0.99."
        )
    if p.lead_time < 0 or p.review_period < 1:
        raise DataValidationError(
            f"Lead time must be >= 0 and review period >= 1 period; got lead time {p.lead_time}, "
            f"review period {p.review_period}. Enter whole periods."
        )
    if p.lead_time + p.review_period > horizon:
        raise DataValidationError(
            f"Lead time + review period ({p.lead_time + p.review_period} periods) must fit in the "
            f"forecast horizon ({horizon}). Shorten them or train with a longer horizon."
        )
    if p.holding_cost < 0 or p.stockout_cost < 0:
        raise DataValidationError(
            f"Costs must not be negative; got holding {p.holding_cost}, stock-out {p.stockout_cost}. "
            "Enter costs per unit as positive numbers."
        )


def policy_from_quantiles(q: np.ndarray, p: PolicyParams, agg_scale: float = 1.0) -> dict:
    """Policy for one series from its (H, 3) forecast quantiles."""
    P = p.lead_time + p.review_period
    mu = float(np.sum(q[:P, 1]))
    sd = (np.asarray(q[:P, 2]) - np.asarray(q[:P, 0])) / Z_WIDTH
    return _policy(mu, agg_scale * float(np.sqrt(np.sum(sd ** 2))), float(np.mean(q[:P, 1])), p)


def aggregate_scale(actual: np.ndarray, q: np.ndarray, periods: int) -> float:
    """RMS of (sum of actuals - sum of P50) / sqrt(sum sigma_t^2) over the first ``periods`` steps
    of held-out windows: 1.0 if per-period errors were independent, larger when they move together."""
    P = max(1, min(int(periods), actual.shape[1]))
    r = actual[:, :P].sum(axis=1) - q[:, :P, 1].sum(axis=1)
    sd = np.sqrt((((q[:, :P, 2] - q[:, :P, 0]) / Z_WIDTH) ** 2).sum(axis=1))
    ok = (sd > 1e-9) & np.isfinite(r) & np.isfinite(sd)  # windows with a masked target in the first periods: out
    if not ok.any():
        return 1.0
    return float(np.clip(np.sqrt(np.mean((r[ok] / sd[ok]) ** 2)), 0.5, 10.0))


def policy_from_point(point: np.ndarray, sd_per_period: float, p: PolicyParams) -> dict:
    """The same policy for a point forecast with a constant per-period error spread."""
    P = p.lead_time + p.review_period
    return _policy(float(np.sum(point[:P])), float(sd_per_period) * math.sqrt(P),
                   float(np.mean(point[:P])), p)


def _policy(mu: float, sigma: float, per_period: float, p: PolicyParams) -> dict:
    z = _z(p.service_level)
    ss = max(z * sigma, 0.0)
    short = sigma * loss_function(z)  # expected units short per review cycle
    holding = p.holding_cost * (ss + per_period * p.review_period / 2)
    return {"demand_protection": mu, "sigma_protection": sigma, "safety_stock": ss,
            "reorder_point": mu + ss, "expected_short": short,
            "expected_cost": holding + p.stockout_cost * short / p.review_period}


def realized_cost(order_up_to: float, actual: np.ndarray, p: PolicyParams) -> dict:
    """What the policy would have cost on actual demand over the protection interval."""
    P = p.lead_time + p.review_period
    d = float(np.sum(actual[:P]))
    short, left = max(d - order_up_to, 0.0), max(order_up_to - d, 0.0)
    return {"actual_demand": d, "short": short, "leftover": left,
            "realized_cost": (p.holding_cost * left + p.stockout_cost * short) / p.review_period,
            "stocked_out": short > 0}


def compute_policy_table(future: pd.DataFrame, p: PolicyParams, horizon: int, agg_scale: float = 1.0) -> pd.DataFrame:
    """Policy per series for the forward forecast: network quantiles vs seasonal naive."""
    check_params(p, horizon)
    rows = []
    for sid, g in future.groupby("series", sort=False):
        nn = policy_from_quantiles(g[["p10", "p50", "p90"]].to_numpy(), p, agg_scale)
        nv = policy_from_point(g["naive_p50"].to_numpy(), float(g["naive_sd"].iloc[0]), p)
        rows.append({"series": sid, **nn, "naive_safety_stock": nv["safety_stock"],
                     "naive_reorder_point": nv["reorder_point"], "naive_expected_cost": nv["expected_cost"]})
    return pd.DataFrame(rows)


def compute_policy_backtest(backtest: pd.DataFrame, p: PolicyParams, horizon: int,
                            naive_sd: dict[str, float], agg_scale: float = 1.0, *,
                            baseline: str = "seasonal_naive", model: str = "nn") -> pd.DataFrame:
    """Both policies set at each backtest origin, costed on the demand that really happened: the network's
    and the same policy on the ``baseline`` forecast (``naive_sd``: that baseline's in-sample error spread
    per series; ``core.demand.verdict.baseline_policy_backtest`` passes the verdict's best baseline). The
    baseline policy's columns keep the ``naive_`` prefix whichever baseline it is. ``model``: the column prefix
    of the forecast the model's policy is built on (``"ensemble"`` for a saved blend, ``core.demand.blend``)."""
    check_params(p, horizon)
    rows = []
    for (sid, origin), g in backtest.groupby(["series", "origin"], sort=False):
        g = g.sort_values("step")
        y = g["y"].to_numpy()
        nn = policy_from_quantiles(g[[f"{model}_p10", f"{model}_p50", f"{model}_p90"]].to_numpy(), p, agg_scale)
        nv = policy_from_point(g[f"{baseline}_p50"].to_numpy(), naive_sd.get(sid, 0.0), p)
        rn, rv = realized_cost(nn["reorder_point"], y, p), realized_cost(nv["reorder_point"], y, p)
        rows.append({"series": sid, "origin": origin, "actual_demand": rn["actual_demand"],
                     "reorder_point": nn["reorder_point"], "cost": rn["realized_cost"],
                     "stocked_out": rn["stocked_out"], "naive_reorder_point": nv["reorder_point"],
                     "naive_cost": rv["realized_cost"], "naive_stocked_out": rv["stocked_out"]})
    return pd.DataFrame(rows)


def summarize_policy(bt: pd.DataFrame, params: PolicyParams | None = None, *, currency: str | None = None,
                     baseline: str = "naive", model: str = "network") -> dict:
    """Totals over the backtest: cost, fill (share of cycles without a stock-out) and stock held per
    policy, stock-outs counted, and ``explanation``: why the network's policy holds more (or less)
    stock than the baseline's (``baseline``: its name in words; the ``*_naive`` keys are that policy's),
    in terms of stock-outs avoided and the service level reached. ``model``: the forecast's name in words
    ("recommended blend" for a saved blend)."""
    if bt.empty:
        return {}
    s = {"cost_model": float(bt["cost"].sum()), "cost_naive": float(bt["naive_cost"].sum()),
         "cycle_service_model": float(1 - bt["stocked_out"].mean()),
         "cycle_service_naive": float(1 - bt["naive_stocked_out"].mean()),
         "stock_model": float(bt["reorder_point"].sum()), "stock_naive": float(bt["naive_reorder_point"].sum()),
         "cycles": int(len(bt)), "stockouts_model": int(bt["stocked_out"].sum()),
         "stockouts_naive": int(bt["naive_stocked_out"].sum())}
    s["extra_stock_pct"] = (100 * (s["stock_model"] / s["stock_naive"] - 1)) if s["stock_naive"] > 0 else None
    s["baseline"], s["model"] = baseline, model
    s["explanation"] = explain_stock(s, None if params is None else params.service_level, currency=currency)
    return s


def explain_stock(s: dict, service_level: float | None = None, *, currency: str | None = None) -> str:
    """One sentence on the stock the network's policy holds against the baseline's (``s["baseline"]``, the
    naive one unless named), and what it buys; costs in ``currency`` when given (the page's), else as plain
    numbers."""
    text = explain_stock_naive(s, service_level, currency=currency)
    model = s.get("model") or "network"
    if model != "network":
        text = text.replace("The network's policy", f"The {model}'s policy").replace("the network's policy",
                                                                                      f"the {model}'s policy")
    name = s.get("baseline") or "naive"
    if name == "naive":
        return text
    return (text.replace("than the naive one", f"than the {name} one").replace("the naive policy", f"the {name} policy")
            .replace("(naive ", f"({name} ").replace("The naive policy", f"The {name} policy"))


def explain_stock_naive(s: dict, service_level: float | None = None, *, currency: str | None = None) -> str:
    """``explain_stock``'s sentence, worded for the naive policy."""
    if currency:
        from core.present.money import format_money

        cost_model, cost_naive = format_money(s["cost_model"], currency), format_money(s["cost_naive"], currency)
    else:
        cost_model, cost_naive = f"{s['cost_model']:,.1f}", f"{s['cost_naive']:,.1f}"
    n, m, v = s["cycles"], s["stockouts_model"], s["stockouts_naive"]
    target = f" against a {service_level:.0%} target" if service_level else ""
    service = (f"{s['cycle_service_model']:.0%} of cycles without a stock-out{target} (naive "
               f"{s['cycle_service_naive']:.0%}); backtest cost {cost_model} vs {cost_naive}")
    pct = s.get("extra_stock_pct")
    if pct is None:
        return f"The naive policy holds no stock; the network's policy holds {s['stock_model']:,.0f}: {service}."
    if pct > 0.05:
        if m < v:
            return (f"The network's policy holds {pct:.0f}% more stock than the naive one to avoid stock-outs: "
                    f"{m} of {n} replenishment cycles ran short against {v} for the naive policy ({v - m} avoided); "
                    f"{service}.")
        return (f"The network's policy holds {pct:.0f}% more stock than the naive one without avoiding stock-outs "
                f"({m} vs {v} of {n} cycles short); {service}. Its intervals are wider than this service level "
                "needs here: compare the costs, or lower the service level, before using it.")
    if pct < -0.05:
        return (f"The network's policy holds {-pct:.0f}% less stock than the naive one, with {m} vs {v} of {n} "
                f"cycles short; {service}.")
    return f"Both policies hold about the same stock, with {m} vs {v} of {n} cycles short; {service}."
