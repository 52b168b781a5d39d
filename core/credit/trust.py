"""When a credit model's figures must not be trusted (``core.report.trust``): chance-level ranking, a
decline line that earns less than approving or declining everyone, a ROC-AUC no credit data gives,
or a line that declines (almost) everyone or no one."""

from __future__ import annotations

import numpy as np

from core.report.runsummary import CURRENCY
from core.report.trust import Trust, check_blanket, check_chance, check_degenerate, check_too_good, money_in

# Every model in bench/bench_credit.py gets ROC-AUC 0.73-0.86 (German credit 0.78, Taiwan default 0.78, the
# Give-Me-Some-Credit-like bureau file 0.86): repayment depends on things no application records. At
# 0.98 an input almost surely records the outcome (a collections flag, a days-past-due count after it).
TOO_GOOD_ROC_AUC = 0.98
USUAL = "credit models reach ROC-AUC 0.73–0.86 on German, Taiwan and bureau data"


def credit_trust(y, p, *, threshold: float, loss_default: float, margin_good: float, interval=None,
                 currency: str = CURRENCY) -> Trust:
    """The flags of a credit model's test figures at the decline ``threshold`` and costs.

    ``interval``: ``(value, low, high)`` of the network's ROC-AUC (``core.ml.verdict.roc_auc_interval``),
    computed here when not given (pages keep it per trained model, since only the threshold moves)."""
    from core.credit.profit import compute_decision_kpis
    from core.ml.verdict import roc_auc_interval

    y, p = np.asarray(y).astype(int), np.asarray(p, dtype=float)
    both = len(np.unique(y)) == 2  # a test file of one outcome has no ROC-AUC to judge
    value, low, high = interval if interval is not None else roc_auc_interval(y, p) if both else (None,) * 3
    kpi = compute_decision_kpis(y, p, threshold=threshold, loss_default=loss_default, margin_good=margin_good)
    bads = int(y.sum())
    at = f"the decline threshold {threshold:.3f}"
    return Trust.of(
        check_chance(value, low, high),
        check_blanket(kpi["profit"], {"approving everyone": margin_good * (len(y) - bads) - loss_default * bads,
                                      "declining everyone": 0.0},
                      measure="expected profit on the test applicants", at=at,
                      money=money_in(currency)),
        None if value is None else check_too_good(value, TOO_GOOD_ROC_AUC, metric="ROC-AUC", usual=USUAL),
        check_degenerate(1.0 - kpi["approval_rate"], float(y.mean()), verb="declines", rows="applicants", at=at),
    )
