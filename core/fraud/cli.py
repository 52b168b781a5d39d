"""Fraud flags for ``python -m core train --scenario fraud``.

The common flags (--data, --target, --imbalance, --epochs, --seed, --save, --json) are parsed by
core/cli.py; this module adds the column mapping, the time split and the alert settings.

    python -m core train --scenario fraud --data log.csv.gz --train-start 2018-07-25 \\
        --test-start 2018-08-08 --gap-days 7 --json
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from core.errors import DataValidationError


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Column mapping, split dates, label delay, k and network options."""
    g = parser.add_argument_group("fraud")
    g.add_argument("--time-col", help="timestamp column (default: detected, e.g. timestamp, TX_DATETIME)")
    g.add_argument("--amount-col", help="amount column (default: detected)")
    g.add_argument("--customer-col", help="customer / card id column (default: detected)")
    g.add_argument("--terminal-col", help="terminal / merchant id column (default: detected)")
    g.add_argument("--train-start", help="first day of the training period (YYYY-MM-DD); "
                   "earlier rows are history for the features")
    g.add_argument("--test-start", help="first day of the test period (YYYY-MM-DD)")
    g.add_argument("--gap-days", type=int, default=7, help="days between training and test (default 7)")
    g.add_argument("--delay-days", type=int, default=None,
                   help="label delay for terminal risk features (default: --gap-days)")
    g.add_argument("--k", type=int, default=100, help="alerts per day for precision@k (default 100)")
    g.add_argument("--keep-known-cards", action="store_true",
                   help="keep test rows of cards already known to be compromised (default: set aside)")
    g.add_argument("--width", type=int, default=None)
    g.add_argument("--batch-size", type=int, default=None)
    g.add_argument("--learning-rate", type=float, default=None)
    g.add_argument("--compare-imbalance", default=None,
                   help="comma-separated strategies to train side by side (e.g. none,class_weight,smote)")
    g.add_argument("--review-fee", type=float, default=5.0, help="cost of reviewing one alert")
    g.add_argument("--no-explain", action="store_true", help="skip SHAP reasons for the alert queue")


def build_config(args):
    """A FraudConfig from parsed CLI arguments."""
    from core.fraud.features import FeatureConfig
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig

    over = {k: getattr(args, k) for k in ("width", "batch_size", "learning_rate", "epochs", "imbalance")
            if getattr(args, k, None) is not None}
    tab = replace(FRAUD_TABULAR, seed=int(getattr(args, "seed", 0) or 0), **over)
    delay = args.gap_days if args.delay_days is None else args.delay_days
    if delay < 0:
        raise DataValidationError(f"Expected --delay-days of 0 or more; got {delay}. Fix: e.g. 7.")
    return FraudConfig(train_start=args.train_start, test_start=args.test_start,
                       gap_days=args.gap_days, features=FeatureConfig(delay_days=delay),
                       drop_known_cards=not args.keep_known_cards, k=args.k, tabular=tab,
                       auto_batch=args.batch_size is None)


def run_train(args) -> dict:
    """Train on --data with a time split and report metrics, baselines, decisions and timings."""
    from core.datasets import read_table
    from core.fraud.columns import make_columns
    from core.fraud.decisions import compute_cost_curve, get_optimal_threshold
    from core.fraud.pipeline import NETWORK, explain_run, run_fraud, run_summary

    t0 = time.perf_counter()
    table = read_table(args.data, max_rows=None)  # never sample a log: windows need every row
    t_read = time.perf_counter() - t0
    cols = make_columns(table.df, time=args.time_col, amount=args.amount_col, target=args.target,
                        customer=args.customer_col, terminal=args.terminal_col)
    run = run_fraud(table.df, cols, config=build_config(args))
    timings = {"read": t_read, **run.timings}
    test = run.test
    curve = compute_cost_curve(test["label"], test[f"score_{NETWORK}"], test["amount"],
                               review_fee=args.review_fee)
    best = get_optimal_threshold(curve)
    result = {
        "scenario": "fraud",
        "data": {"rows": int(len(table.df)), "fraud_rate": float(run.history[cols.target].mean()),
                 "train_rows": int(len(run.split.train_idx)), "test_rows": int(len(test)),
                 "notices": [*table.notices, *run.notices]},
        **run_summary(run),
        "epochs_run": len(run.tabular.history.get("loss", [])),
        "metrics": run.metrics[NETWORK],
        "baselines": {k: v for k, v in run.metrics.items() if k != NETWORK},
        "cost_policy": {"review_fee": args.review_fee, **best},
    }
    if args.compare_imbalance:
        from core.fraud.compare import compare_imbalance, recommend_imbalance

        t1 = time.perf_counter()
        table_cmp = compare_imbalance(run, [m.strip() for m in args.compare_imbalance.split(",")])
        result["imbalance_comparison"] = table_cmp.to_dict(orient="records")
        result["imbalance_recommendation"] = recommend_imbalance(table_cmp)
        timings["compare_imbalance"] = time.perf_counter() - t1
    ex = None
    if not args.no_explain:
        ex = explain_run(run, top_alerts=20, global_rows=200)
        timings["explain"] = ex.seconds
        result["top_alerts"] = [
            {"time": str(test["time"].iloc[i]), "customer": str(test["customer"].iloc[i]),
             "amount": float(test["amount"].iloc[i]), "risk": float(test[f"score_{NETWORK}"].iloc[i]),
             "fraud": int(test["label"].iloc[i]), "reasons": ex.reasons[i]}
            for i in ex.alert_positions[:10]]
        result["global_importance"] = ex.global_sample.importance().head(10).to_dict(orient="records")
    if getattr(args, "save", None):
        from pathlib import Path

        from core.fraud.persist import save_fraud_run
        from core.workspace.summary import build_fraud_summary, default_run_name

        workspace = build_fraud_summary(
            run, name=default_run_name("fraud", args.data), review_threshold=min(best["threshold"], 1.0),
            review_fee=args.review_fee, data=table.df, dataset_name=Path(args.data).name, explanations=ex)
        result["saved_to"] = str(save_fraud_run(run, args.save, extra_metadata=workspace))
    timings["total"] = time.perf_counter() - t0
    result["timings"] = timings
    return result


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """Scoring options: the alert threshold."""
    g = parser.add_argument_group("fraud")
    g.add_argument("--threshold", type=float, default=None,
                   help="alert at or above this risk (default: the threshold saved with the model)")


def run_score(args) -> dict:
    """Score --data with the saved run in --model; write rows riskiest first to --out."""
    from core.datasets import read_table
    from core.fraud.persist import load_fraud_model

    t0 = time.perf_counter()
    saved = load_fraud_model(args.model)
    df = read_table(args.data, max_rows=None).df
    scored, _ = saved.score(df)
    threshold = saved.threshold if args.threshold is None else float(args.threshold)
    if not 0 <= threshold <= 1:
        raise DataValidationError(f"Expected --threshold between 0 and 1; got {threshold}. Fix: e.g. 0.3.")
    scored.insert(1, "alert", scored["risk"] >= threshold)
    scored.to_csv(args.out, index=False)
    return {"rows": int(len(scored)), "alerts": int(scored["alert"].sum()), "threshold": threshold,
            "out": str(args.out), "timings": {"total": time.perf_counter() - t0}}
