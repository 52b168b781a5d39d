"""When a fraud model's figures must not be trusted (``core.report.trust``): chance-level ranking, an alert
policy that saves less than reviewing no or every transaction, an average precision no fraud log
gives, or a review line that alerts on (almost) every transaction or none."""

from __future__ import annotations

import numpy as np

from core.report.runsummary import CURRENCY
from core.report.trust import Trust, check_blanket, check_chance, check_degenerate, check_too_good, money_in

# The handbook's simulated card log gives PR-AUC (average precision) 0.65-0.68 with the best published
# models and with this project's network and baselines (bench/bench_fraud.py). At 0.95 nearly every
# fraud ranks above every genuine transaction: an input recorded after the fact (a chargeback, a
# fraud-scenario code) most likely tells the label.
TOO_GOOD_PR_AUC = 0.95
USUAL = "fraud models reach PR-AUC 0.65–0.68 on the handbook's card log"


def fraud_trust(y, p, amounts, *, review_threshold: float, review_fee: float, pr_auc: float | None = None,
                interval=None, currency: str = CURRENCY) -> Trust:
    """The flags of a fraud model's test period at the review threshold and fee.

    ``interval``: ``(value, low, high)`` of the network's ROC-AUC (``core.ml.verdict.roc_auc_interval``),
    computed here when not given; ``pr_auc``: its average precision (the headline metric)."""
    from core.ml.verdict import roc_auc_interval

    y, p, a = np.asarray(y).astype(int), np.asarray(p, dtype=float), np.asarray(amounts, dtype=float)
    both = len(np.unique(y)) == 2  # a test period without fraud has no ranking to judge
    value, low, high = interval if interval is not None else roc_auc_interval(y, p) if both else (None,) * 3
    if pr_auc is None and both:
        from sklearn.metrics import average_precision_score

        pr_auc = average_precision_score(y, p)
    alert = p >= review_threshold
    fraud_amount = a * y
    net = float(fraud_amount[alert].sum() - review_fee * alert.sum())
    at = f"the review threshold {review_threshold:.3f}"
    return Trust.of(
        check_chance(value, low, high),
        check_blanket(net, {"reviewing no transaction": 0.0,
                            "reviewing every transaction": float(fraud_amount.sum() - review_fee * len(y))},
                      measure="net saving on the test period", at=at, money=money_in(currency)),
        None if pr_auc is None else check_too_good(float(pr_auc), TOO_GOOD_PR_AUC, metric="PR-AUC", usual=USUAL),
        check_degenerate(float(alert.mean()), float(y.mean()), verb="alerts on", rows="transactions", at=at),
    )
