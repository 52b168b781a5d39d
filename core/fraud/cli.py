"""Fraud flags for ``python -m core train --scenario fraud``.

The common flags (--data, --target, --imbalance, --epochs, --seed, --save, --json) are parsed by
core/cli.py; this module adds the column mapping, the time split and the alert settings.

    python -m core train --scenario fraud --data log.csv.gz --train-start 2018-07-25 \\
        --test-start 2018-08-08 --gap-days 7 --json
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from core.errors import DataValidationError

SUPPORTS_SEARCH = True  # --search-budget (see core/search)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Column mapping, split dates, label delay, k and network options."""
    g = parser.add_argument_group("fraud")
    g.add_argument("--time-col", help="timestamp column (default: detected, e.g. timestamp, TX_DATETIME)")
    g.add_argument("--time-unit", choices=("auto", "seconds", "minutes", "hours", "days", "steps"), default="auto",
                   help="a time column of numbers is elapsed time since the log's start in this unit (default auto: "
                        "dates are read as dates, numbers get a guessed unit, said on standard error); "
                        "--train-start / --test-start are then numbers in that unit")
    g.add_argument("--amount-col", help="amount column (default: detected)")
    g.add_argument("--customer-col", help="customer / card id column (default: detected)")
    g.add_argument("--terminal-col", help="terminal / merchant id column (default: detected)")
    g.add_argument("--train-start", help="first day of the training period (YYYY-MM-DD, or a number in the "
                   "--time-unit for elapsed time); earlier rows are history for the features")
    g.add_argument("--test-start", help="first day of the test period (YYYY-MM-DD, or a number in the --time-unit)")
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
    g.add_argument("--search-metric", choices=("pr_auc", "roc_auc"), default="pr_auc",
                   help="validation metric the search maximises (default pr_auc: average precision)")
    g.add_argument("--review-fee", type=float, default=5.0, help="cost of reviewing one alert")
    g.add_argument("--no-explain", action="store_true", help="skip SHAP reasons for the alert queue")
    from core.audit import add_keep_argument
    from core.fraud.sample import TIME_RULE
    from core.scale.sample import add_sample_arguments

    add_keep_argument(parser)  # --keep-column: keep a column the leakage audit leaves out

    add_sample_arguments(parser, rule=TIME_RULE)  # --sample-rows, --engine dask: a log larger than memory


def build_config(args):
    """A FraudConfig from parsed CLI arguments."""
    from core.audit import keep_list
    from core.fraud.features import FeatureConfig
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig

    over = {k: getattr(args, k) for k in ("width", "batch_size", "learning_rate", "epochs", "imbalance")
            if getattr(args, k, None) is not None}
    # The ensemble check is on unless --no-ensemble, scored by the search's metric (average precision by default).
    tab = replace(FRAUD_TABULAR, seed=int(getattr(args, "seed", 0) or 0), ensemble=getattr(args, "ensemble", None)
                  is not False, ensemble_metric=getattr(args, "search_metric", None) or FRAUD_TABULAR.ensemble_metric,
                  **over)
    delay = args.gap_days if args.delay_days is None else args.delay_days
    if delay < 0:
        raise DataValidationError(f"Expected --delay-days of 0 or more; got {delay}. Fix: e.g. 7.")
    return FraudConfig(train_start=args.train_start, test_start=args.test_start,
                       gap_days=args.gap_days, features=FeatureConfig(delay_days=delay),
                       drop_known_cards=not args.keep_known_cards, k=args.k, tabular=tab,
                       auto_batch=args.batch_size is None, keep_columns=keep_list(args))


def _labels(df, cols, args):
    """The log with its label as 0/1 when spelled otherwise (+/-, Y/N, fraud / ok / pending): the
    value meaning fraud from --positive (guessed for two values), the others from --negative."""
    from core.cli import negative_values
    from core.fraud.columns import parse_labels
    from core.data.outcome import as_binary_labels

    if args.positive is None and args.negative is None:
        try:
            parse_labels(df[cols.target], cols.target)
            return df, []
        except DataValidationError:
            pass  # spelled otherwise: read as an outcome below
    df, _, notices = as_binary_labels(df, cols.target, positive=args.positive, negative=negative_values(args))
    for notice in notices:
        print(notice, file=sys.stderr, flush=True)
    return df, notices


def run_train(args) -> dict:
    """Train on --data with a time split and report metrics, baselines, decisions and timings."""
    from core.data.datasets import read_table
    from core.fraud.columns import KEY_ROLE, customer_key_rule, keyed_customer, lost_key_notice, make_columns
    from core.data.pseudonym import KeyRule, new_secret
    from core.fraud.pipeline import NETWORK, run_summary
    from core.fraud.service import save, train_and_decide
    from core.scale.sample import wants_sample
    from core.ml.training import describe_epochs, summarize_epochs

    t0 = time.perf_counter()
    if getattr(args, "test_data", None):
        # The test period is the later part of the log itself (its windows need the history before it).
        raise DataValidationError(
            f"The fraud scenario evaluates on the later days of --data, not on a separate file; got --test-data "
            f"{args.test_data}. Fix: put the test days in the same log and choose where the test period starts "
            "with --test-start DATE (and --gap-days).")
    config, sample = build_config(args), None
    # Personal data is left out as it is read, except a customer key (a card number): that becomes a keyed
    # pseudonym made with this run's secret, kept in the saved run to score new files alike.
    keys = KeyRule(new_secret(), pick=customer_key_rule(args.customer_col), role=KEY_ROLE)
    if wants_sample(args):  # a log larger than memory: the documented time-aware sample (core/fraud/sample.py)
        from core.fraud.sample import read_fraud_sample

        table, sample = read_fraud_sample(args, config, keys=keys)
        if sample.train_start is not None:
            config = replace(config, train_start=sample.train_start)
    else:
        # Never sample a log (windows need every row); personal data is left out as it is read.
        from core.data.tablestream import choice_of

        table = read_table(args.data, max_rows=None, personal="drop", keys=keys, **choice_of(args))  # --member / --sheet
    t_read = time.perf_counter() - t0
    cols = make_columns(table.df, time=args.time_col, amount=args.amount_col, target=args.target,
                        customer=args.customer_col or keyed_customer(table.df), terminal=args.terminal_col,
                        time_unit=getattr(args, "time_unit", None))
    if sample is None:
        table.df, label_notices = _labels(table.df, cols, args)
        table.notices = [*table.notices, *label_notices]
    lost = lost_key_notice(table.df)
    said = [n for n in table.notices if n.startswith("Personal data")]
    for notice in [*said, lost, cols.time_notice]:
        if notice:  # what was assumed about personal data and time, before the long work starts
            print(notice, file=sys.stderr, flush=True)
    search_progress = None
    if getattr(args, "search_budget", None) is not None:
        from core.search.scenarios import print_trials

        search_progress = print_trials
    # With --engine dask the sample's window features were built on the cluster (core/fraud/scale.py).
    outcome = train_and_decide(table.df, cols, config=config, features=getattr(sample, "features", None),
                               search_budget=getattr(args, "search_budget", None),
                               search_trials=getattr(args, "search_trials", None),
                               search_metric=getattr(args, "search_metric", None) or "pr_auc",
                               review_fee=args.review_fee, explain_global=0 if args.no_explain else 200,
                               verdict=True, search_progress=search_progress,
                               notice=lambda line: print(line, file=sys.stderr, flush=True))
    run, search, decision = outcome.run, outcome.search, outcome.decision
    from core.audit import LeakAudit

    audit = LeakAudit.from_dict(run.features.leakage)
    leaks = audit.notices()  # with a warning per mapped column the audit suspects (kept: it is mapped)
    for notice in leaks:
        print(f"fraud leakage audit: {notice}", file=sys.stderr, flush=True)
    print(describe_epochs(summarize_epochs(run.tabular.history, run.config.tabular.epochs)), file=sys.stderr,
          flush=True)
    for notice in run.notices:  # a span fitted to a short log, no ids, known cards set aside, ...
        if notice != cols.time_notice and notice not in leaks:  # the audit's were said above
            print(notice, file=sys.stderr, flush=True)
    from core.ml.blend import recommended_line

    print(recommended_line(run.tabular), file=sys.stderr, flush=True)
    for line in outcome.trust.notices():  # the trust flags at the cost-optimal review threshold
        print(line, file=sys.stderr, flush=True)
    timings = {"read": t_read, **run.timings}
    test = run.test
    result = {
        "scenario": "fraud",
        "data": {"rows": int(len(table.df)), "fraud_rate": float(run.history[cols.target].mean()),
                 "train_rows": int(len(run.split.train_idx)), "test_rows": int(len(test)),
                 "notices": [*table.notices, *([lost] if lost else []), *run.notices]},
        **run_summary(run),
        "leakage": run.features.leakage,
        "warnings": audit.warnings(),  # e.g. the mapped amount separates fraud on its own: check when it is recorded
        **summarize_epochs(run.tabular.history, run.config.tabular.epochs),
        "metrics": run.metrics[NETWORK],
        "baselines": {k: v for k, v in run.metrics.items() if k != NETWORK},
        "cost_policy": {"review_fee": args.review_fee, **decision.policy},
        "verdict": outcome.verdict,
        # The model saved, scored and explained: the network, or its blend with a baseline (chosen on validation).
        "recommended": run.recommended_section(),
    }
    if sample is not None:
        result["data"]["sample"] = sample.summary()
    if search is not None:
        from core.search.scenarios import search_section

        result["search"] = search_section(search, run.tabular)
        timings["search"] = search.result.seconds
    if args.compare_imbalance:
        from core.fraud.compare import compare_imbalance, recommend_imbalance

        t1 = time.perf_counter()
        table_cmp = compare_imbalance(run, [m.strip() for m in args.compare_imbalance.split(",")])
        result["imbalance_comparison"] = table_cmp.to_dict(orient="records")
        result["imbalance_recommendation"] = recommend_imbalance(table_cmp)
        timings["compare_imbalance"] = time.perf_counter() - t1
    ex = outcome.explanations
    if ex is not None:
        timings["explain"] = ex.seconds
        result["top_alerts"] = [
            {"time": str(test["time"].iloc[i]), "customer": str(test["customer"].iloc[i]),
             "amount": float(test["amount"].iloc[i]), "risk": float(test[run.score_column].iloc[i]),
             "fraud": int(test["label"].iloc[i]), "reasons": ex.reasons[i]}
            for i in ex.alert_positions[:10]]
        result["global_importance"] = ex.global_sample.importance().head(10).to_dict(orient="records")
    if getattr(args, "save", None):
        from pathlib import Path

        from core.report.runsummary import default_run_name

        # --save DIR: the run's own folder (core.store.registry.check_save_target)
        result["saved_to"] = str(save(outcome, args.save, name=default_run_name("fraud", args.data), data=table.df,
                                      dataset_name=Path(args.data).name, secret=keys.secret if run.keyed else None))
    timings["total"] = time.perf_counter() - t0
    result["timings"] = timings
    return result


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """Scoring options: the alert threshold."""
    g = parser.add_argument_group("fraud")
    g.add_argument("--threshold", type=float, default=None,
                   help="alert at or above this risk (default: the threshold saved with the model)")


def run_score(args) -> dict:
    """Score --data with the saved run in --model; write the scored rows to --out.

    The file is read and scored in chunks of --chunk-size rows (``stream_score``) with a rolling
    history: each chunk's window features look back over the saved log and the rows scored before
    it, and history older than the longest window plus the label delay is dropped, so memory stays
    flat for a log of any length. A file in time order gives exactly the figures of scoring it in
    one piece. Rows keep the file's order. Columns are checked against the model's on the first
    chunk, and drift (PSI) is counted over every chunk.
    """
    import sys

    if getattr(args, "engine", "local") == "dask":
        from core.fraud.scale import run_score_dask

        return run_score_dask(args)
    from core.fraud.persist import load_fraud_model
    from core.fraud.pipeline import prepare_new_transactions
    from core.fraud.service import decision_thresholds, history_keep, roll_history, score_chunk as score_rows
    from core.data.privacy import with_run_keys
    from core.store.registry import read_metadata
    from core.serve.streaming import stream_score

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    saved = load_fraud_model(args.model)
    review, block = decision_thresholds(meta, args.threshold)
    cols, keep = saved.columns, history_keep(saved.feature_config)
    state = {"history": saved.history, "last_time": None, "alerts": 0, "blocked": 0, "unordered": False}

    def score_chunk(part):
        new_log = prepare_new_transactions(part, cols, saved.extra_columns)
        last = state["last_time"]
        if last is not None and new_log[cols.time].min() < last - keep:
            state["unordered"] = True
        scored = score_rows(saved, part, new_log, state["history"], review=review, block=block)
        # The scored rows become history for the next chunk (their labels are unknown).
        state["history"], state["last_time"] = roll_history(state["history"], new_log, cols.time, last, keep)
        decision = scored["decision"].to_numpy()
        state["alerts"] += int((decision != "approve").sum())
        state["blocked"] += int((decision == "block").sum())
        return scored

    def progress(rows):
        if not getattr(args, "quiet", False):
            print(f"scored {rows:,} transactions ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)

    from core.data.tablestream import choice_of

    # --personal-data: drop (default), hash, keep; the run's key columns are pseudonymised with its secret in
    # every mode, so histories line up and the scored file never holds a raw card number.
    guard = with_run_keys(args, saved.keys)
    done = stream_score(meta, args.data, args.out, score_chunk,
                        chunk_size=int(getattr(args, "chunk_size", 50_000) or 50_000), progress=progress,
                        personal=guard, log=getattr(args, "prediction_log", None),  # the run's prediction log
                        **choice_of(args))  # --member / --sheet
    notices = list(done.notices)
    if state["unordered"]:
        notices.append("The file is not in time order: rows far older than the rows before them were scored "
                       "with part of their history missing. Sort the file by time.")
    result = {"rows": done.rows, "alerts": state["alerts"], "blocked": state["blocked"], "threshold": review,
              "block_threshold": block, "out": str(args.out), "notices": notices,
              "timings": {"total": time.perf_counter() - t0}}
    if done.drift is not None:
        result["drift"] = done.drift.to_dict(orient="records")
    return result
