"""Alerts: a figure of a period that crossed its threshold, with the reason in words.

* **drift**: PSI above 0.25 ("shifted", ``core.data.drift``) on the score, against the test rows' scores,
  or on one of the model's most important inputs, against the training rows;
* **performance**: the realized headline figure outside what the test rows make plausible: a
  ROC-AUC below the lower end of the test figure's 95 % bootstrap interval, with at least
  ``MIN_LABELLED`` labelled rows and the period's own 95 % interval wholly below the test figure
  (a period of a few hundred rows has noise of its own: without this, a period drawn from the test
  population fell below the test interval by chance in the page's check), or a forecast error
  (WAPE) more than 25 % above the backtest's;
* **estimate**: the estimated ROC-AUC (CBPE) more than 0.05 below the test figure, before any label;
* **decisions**: the share of a decision more than 10 points away from its share on the test rows.

Drift, estimate and decision-mix alerts need ``MIN_ROWS`` rows in the period: rows drawn from the
bundled credit sample itself put PSI above 0.25 on 98 % of the inputs at 6 rows, 28 % at 50, 1 % at
100 and none of 350 input draws at 200 (50 draws of 7 inputs each), so a smaller period would alert
on noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PSI_ALERT = 0.25
ESTIMATE_DROP = 0.05
MIX_SHIFT = 0.10
ERROR_RISE = 0.25
MIN_LABELLED = 50
MIN_ROWS = 200


@dataclass(frozen=True)
class Alert:
    kind: str  # drift, performance, estimate, decisions
    subject: str  # the column, metric or decision it is about
    value: float
    threshold: float
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def _fmt_share(v: float) -> str:
    return f"{v:.0%}" if abs(v) >= 0.1 else f"{v:.1%}"


def period_alerts(period, *, spec, test: dict, interval: tuple[float, float] | None, important: list[str],
                  reference_mix: dict[str, float] | None, labels: dict[str, str]) -> list[Alert]:
    """The alerts of one period (``core.monitor.report.Period``); ``labels`` give columns' plain names."""
    out: list[Alert] = []
    enough = period.rows >= MIN_ROWS  # for the alerts on the population (drift, estimate, decisions)
    score = period.psi.get("score") if enough else None
    if score is not None and score > PSI_ALERT:
        out.append(Alert("drift", "score", score, PSI_ALERT,
                         f"The model's scores shifted: PSI {score:.2f} against the test rows' scores (above "
                         f"{PSI_ALERT}). The model is scoring a different population than it was tested on."))
    for col in important if enough else []:
        v = period.psi.get(col)
        if v is not None and v > PSI_ALERT:
            out.append(Alert("drift", col, v, PSI_ALERT,
                             f"Input '{labels.get(col, col)}' shifted: PSI {v:.2f} against the training rows (above "
                             f"{PSI_ALERT}); it is among the inputs the model relies on most."))
    head = spec.headline
    name = spec.realized_metrics.get(head, head)
    value, n = period.realized.get(head), int(period.realized.get("labelled_rows") or 0)
    if value is not None and head in spec.lower_is_better:
        base = test.get(head)
        if base and value > base * (1 + ERROR_RISE):
            out.append(Alert("performance", head, value, base * (1 + ERROR_RISE),
                             f"Realized {name} {value:.3f} on {n:,} labelled rows is more than {ERROR_RISE:.0%} above "
                             f"the test figure {base:.3f}: the forecasts have become less accurate."))
    elif (value is not None and interval is not None and n >= MIN_LABELLED and value < interval[0]
          and period.interval is not None and period.interval[1] < test.get(head, -np.inf)):
        out.append(Alert("performance", head, value, interval[0],
                         f"Realized {name} {value:.3f} on {n:,} labelled rows is below the test figure's 95% interval "
                         f"({interval[0]:.3f} to {interval[1]:.3f}), and this period's own interval ({period.interval[0]:.3f} "
                         f"to {period.interval[1]:.3f}) is below the test figure {test[head]:.3f}: the model ranks worse "
                         "than when it was tested."))
    est, base = period.estimated.get("roc_auc") if enough else None, test.get("roc_auc")
    if est is not None and base is not None and base - est > ESTIMATE_DROP:
        out.append(Alert("estimate", "roc_auc", est, base - ESTIMATE_DROP,
                         f"Estimated ROC-AUC {est:.3f} is {base - est:.3f} below the test figure {base:.3f} (more "
                         f"than {ESTIMATE_DROP}), estimated from the scores before any label: expect the realized "
                         "figure to drop once labels arrive."))
    if reference_mix and enough:
        names = sorted(set(reference_mix) | set(period.decisions))
        moves = {d: period.decisions.get(d, 0.0) - reference_mix.get(d, 0.0) for d in names}
        moved = [d for d in sorted(moves, key=lambda d: -abs(moves[d])) if abs(moves[d]) > MIX_SHIFT]
        if moved:
            parts = ", ".join(f"'{d}' from {_fmt_share(reference_mix.get(d, 0.0))} to "
                              f"{_fmt_share(period.decisions.get(d, 0.0))}" for d in moved)
            out.append(Alert("decisions", moved[0], period.decisions.get(moved[0], 0.0), MIX_SHIFT,
                             f"The decision mix moved against the test rows: {parts} (more than "
                             f"{MIX_SHIFT * 100:.0f} percentage points) at the same settings."))
    return out
