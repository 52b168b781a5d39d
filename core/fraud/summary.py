"""The workspace summary of a fraud run: headline figures at the chosen review / block thresholds and
review fee, the verdict against the best baseline, the log columns scoring needs and the training profile."""

from __future__ import annotations

import pandas as pd

from core.errors import DataValidationError
from core.report.runsummary import (CURRENCY, binary_verdict, decision_metrics, envelope, explain_section, get_fingerprint,
                             money_figure, money_text, period_text, quality_figure, roc_pr_curves)


def build_fraud_summary(run, *, name: str, review_threshold: float, block_threshold: float | None = None,
                        review_fee: float, data: pd.DataFrame | None = None, dataset_name: str | None = None,
                        explanations=None, currency: str = CURRENCY) -> dict:
    """Workspace dict of a ``FraudRun`` at the chosen review / block thresholds and review fee.

    Money: fraud amount in the alerted transactions (review + block bands) against the cost of
    reviewing every alert, on the test period; net = caught minus review cost (savings vs no model).
    """
    from core.audit import attach_to_fingerprint
    from core.data.drift import build_profile
    from core.fraud.decisions import compute_decision_bands
    from core.fraud.pipeline import NETWORK, run_summary
    from core.fraud.trust import fraud_trust
    if review_fee < 0:
        raise DataValidationError(f"Expected a review fee of 0 or more; got {review_fee}. "
                                  "Fix: enter the cost of reviewing one alert, e.g. 5.")
    block = 1.0 if block_threshold is None else float(block_threshold)
    block = max(block, float(review_threshold))
    test = run.test
    # The recommended model's risk (the network's, or its blend with a baseline when that won on validation).
    y, p, a = test["label"].to_numpy(), test[run.score_column].to_numpy(), test["amount"].to_numpy(float)
    bands = compute_decision_bands(y, p, a, review_threshold=float(review_threshold),
                                   block_threshold=block).set_index("band")
    flagged = bands.loc[["review", "block"]]
    alerts = int(flagged["transactions"].sum())
    caught = float(flagged["fraud_amount"].sum())
    review_cost = review_fee * alerts
    recommended = run.recommended_section()
    net = recommended["metrics"]
    models = [*run.metrics, *(["ensemble"] if recommended["model"] == "ensemble" else [])]
    k = run.config.k
    cols = run.columns
    raw = [c for c in (cols.time, cols.amount, cols.customer, cols.terminal) if c] + list(run.extra_columns)
    hist = run.history
    numeric = [cols.amount] + [c for c in run.extra_columns if pd.api.types.is_numeric_dtype(hist[c])]
    categorical = [c for c in run.extra_columns if c not in numeric]
    train_rows = hist.iloc[run.split.train_idx]
    total_fraud = float((a * y).sum())
    return envelope(
        "fraud", name=name, dataset=attach_to_fingerprint(get_fingerprint(data if data is not None else hist,
                                                                          name=dataset_name), run.features.leakage),
        params=run_summary(run)["config"],
        quality=[quality_figure("PR-AUC", net.get("pr_auc")), quality_figure("ROC-AUC", net.get("roc_auc")),
                 quality_figure(f"Card precision@{k}", net.get(f"card_precision_at_{k}")),
                 quality_figure("Share of fraud amount caught", caught / total_fraud if total_fraud else None, ".1%")],
        impact=[money_figure("Fraud caught", caught, currency), money_figure("Review cost", review_cost, currency),
                money_figure("Net saving", caught - review_cost, currency)],
        assumptions=[f"Review fee {money_text(review_fee, currency)} per alert",
                     f"Alert (review) at risk ≥ {review_threshold:.3f}; block at ≥ {block:.3f}",
                     "A reviewed fraud is stopped and its amount saved; net saving = fraud caught minus "
                     "review cost, against no model (nothing reviewed)",
                     f"Test period {period_text(run.split.summary().get('test', ''))}: {len(y):,} transactions, "
                     f"{alerts:,} alerts, {int(y.sum()):,} frauds"],
        input_={"columns": raw, "numeric": numeric, "categorical": categorical, "kind": "table",
                "time": cols.time, "amount": cols.amount, "customer": cols.customer, "terminal": cols.terminal,
                "target": cols.target},
        profile=build_profile(train_rows, numeric=numeric, categorical=categorical),
        curves=roc_pr_curves(y, p, gains=("Share of transactions reviewed", "Share of frauds caught")),
        decision={"threshold": float(review_threshold), "review_threshold": float(review_threshold),
                  "block_threshold": block, "review_fee": float(review_fee),
                  "rule": "review when risk >= review_threshold, block when risk >= block_threshold"},
        explain=explain_section(None if explanations is None else explanations.global_sample),
        verdict=binary_verdict(y, p, {m: test[f"score_{m}"].to_numpy() for m in run.metrics if m != NETWORK}, "pr_auc"),
        trust=fraud_trust(y, p, a, review_threshold=float(review_threshold), review_fee=review_fee,
                          pr_auc=net.get("pr_auc"), currency=currency).to_list(),
        # Every model at the review threshold (the alert line), the recommended blend among them when it is one;
        # card precision@k and the rest do not depend on it.
        metrics=decision_metrics(y, {m: test[f"score_{m}"].to_numpy() for m in models}, float(review_threshold),
                                 keep={**run.metrics, "ensemble": recommended["metrics"]}),
        recommended=recommended,
    )
