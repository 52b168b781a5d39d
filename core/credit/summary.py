"""The workspace summary of a credit run: headline figures at the chosen decline threshold and costs,
the verdict against the best baseline, the columns a file to score must have and the training profile."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from core.report.runsummary import (CURRENCY, binary_verdict, decision_metrics, envelope, explain_section, get_fingerprint,
                             jsonable, money_figure, money_text, quality_figure, roc_pr_curves)


def build_credit_summary(run, *, name: str, threshold: float, loss_default: float, margin_good: float,
                         data: pd.DataFrame | None = None, dataset_name: str | None = None, shap=None,
                         scorecard=None, currency: str = CURRENCY, proxies_out: bool = True) -> dict:
    """Workspace dict of a ``CreditRun`` at the chosen decline threshold and costs.

    Money: expected profit on the test applicants at the threshold, and the loss avoided against
    approving everyone (the same profit rule as the page: approved goods earn ``margin_good``,
    approved defaulters lose ``loss_default``). Fairness: the fairness tab's table for every sensitive
    attribute and the features flagged as possible proxies (``core.credit.fairness.fairness_section``);
    ``proxies_out`` (the credit default) keeps those out of reason codes wherever the run scores, else they
    are marked.
    """
    from core.audit import attach_to_fingerprint
    from core.credit.profit import compute_decision_kpis
    from core.credit.trust import credit_trust
    from core.data.drift import build_profile
    from core.ml.metrics import compute_binary_metrics
    from core.ml.blend import recommended_section

    # The recommended model's probabilities (the network's, or its blend with a baseline when that won on validation).
    y, p = np.asarray(run.y_test).astype(int), np.asarray(run.p_test, dtype=float)
    kpi = compute_decision_kpis(y, p, threshold=threshold, loss_default=loss_default, margin_good=margin_good)
    bads = int(y.sum())
    approve_all = margin_good * (len(y) - bads) - loss_default * bads
    m = compute_binary_metrics(y, p, threshold)
    setup = run.setup
    frame = data if data is not None else pd.concat([run.train_df, run.test_df], ignore_index=True)
    params = dict(run.tabular.save_metadata()["config"])
    params["test_rows"], params["train_rows"] = int(len(run.test_df)), int(len(run.train_df))
    from core.credit.fairness import fairness_section
    from core.credit.reasons import PROXY_POLICIES

    fairness = fairness_section(run, threshold, proxies_out=proxies_out)
    decision = {"threshold": float(threshold), "rule": "decline when P(default) >= threshold",
                "loss_default": float(loss_default), "margin_good": float(margin_good),
                "proxy_reasons": PROXY_POLICIES[bool(proxies_out)]}
    if scorecard is not None:
        decision["scorecard"] = asdict(scorecard)
    ws = envelope(
        "credit", name=name, dataset=attach_to_fingerprint(get_fingerprint(frame, name=dataset_name), setup.leakage),
        params=params,
        quality=[quality_figure("ROC-AUC", m["roc_auc"]), quality_figure("PR-AUC", m["pr_auc"]), quality_figure("Gini", m["gini"]),
                 quality_figure("Approval rate", kpi["approval_rate"], ".1%"),
                 quality_figure("Bad rate of approved", kpi["bad_rate"], ".1%")],
        impact=[money_figure("Loss avoided", kpi["profit"] - approve_all, currency),
                money_figure("Expected profit", kpi["profit"], currency)],
        assumptions=[f"Loss per approved defaulter {money_text(loss_default, currency)}",
                     f"Margin per approved good applicant {money_text(margin_good, currency)}",
                     f"Decline when P(default) ≥ {threshold:.3f}; loss avoided = profit at this threshold "
                     "minus profit when approving everyone",
                     f"Counted on {len(y):,} held-out test applicants ({y.mean():.1%} defaults); declined "
                     "applicants earn and cost nothing"],
        input_={"columns": list(setup.features), "numeric": list(setup.numeric),
                "categorical": list(setup.categorical), "kind": "table", "target": setup.target,
                "positive": str(setup.positive), "sensitive": list(setup.sensitive)},
        profile=build_profile(run.train_df, numeric=setup.numeric, categorical=setup.categorical),
        curves=roc_pr_curves(y, p, gains=("Share of applicants declined", "Share of defaulters caught")), decision=decision,
        explain=explain_section(shap, "Train with SHAP rows above 0 to record global importance."),
        verdict=binary_verdict(y, p, {k: v for k, v in run.tabular.proba.items() if k != "network"}, "roc_auc"),
        trust=credit_trust(y, p, threshold=threshold, loss_default=loss_default, margin_good=margin_good,
                           currency=currency).to_list(),
        # Every model at the decline threshold, the recommended blend among them when it is one.
        metrics=decision_metrics(y, {**run.tabular.proba, **({"ensemble": p} if run.tabular.recommended == "ensemble"
                                                             else {})}, threshold),
        recommended=recommended_section(run.tabular),
    )
    ws["fairness"] = jsonable(fairness)
    return ws
