"""Credit flags for ``python -m core train --scenario credit`` and ``python -m core score``.

The common flags (--data, --test-data, --target, --positive, --imbalance, --epochs, --seed,
--save, --json) are parsed by core/cli.py; this module adds the credit ones and does the work.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.errors import DataValidationError

SUPPORTS_SEARCH = True  # --search-budget (see core/search)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Network options, the test share, sensitive columns, costs and scorecard scaling."""
    from core.credit.profit import LOSS_DEFAULT, MARGIN_GOOD

    g = parser.add_argument_group("credit")
    g.add_argument("--width", type=int, default=None, help="units in the first hidden layer")
    g.add_argument("--depth", type=int, default=None, help="hidden layers")
    g.add_argument("--dropout", type=float, default=None)
    g.add_argument("--l2", type=float, default=None)
    g.add_argument("--learning-rate", type=float, default=None)
    g.add_argument("--batch-size", type=int, default=None)
    g.add_argument("--refit", choices=("off", "epochs", "scaled"), default=None,
                   help="after early stopping, train the network (and the baselines) again on every training row, "
                        "validation rows too, for the kept epochs ('epochs') or that many times the rows' ratio "
                        "('scaled'); the threshold and the blend stay chosen on the validated models "
                        "(default: 'scaled' from 50,000 fitting rows on, else off)")
    g.add_argument("--test-size", type=float, default=0.25, help="held-out share when --test-data is not given")
    g.add_argument("--sensitive", default=None,
                   help="comma-separated sensitive columns kept out of the features ('none' for none); "
                        "default: detected from the column names")
    g.add_argument("--loss-default", type=float, default=LOSS_DEFAULT, help="loss from approving a defaulter")
    g.add_argument("--margin-good", type=float, default=MARGIN_GOOD, help="margin lost by rejecting a good applicant")
    g.add_argument("--base-score", type=float, default=600.0)
    g.add_argument("--base-odds", type=float, default=50.0)
    g.add_argument("--pdo", type=float, default=20.0, help="points to double the odds")
    g.add_argument("--no-explain", action="store_true", help="skip the SHAP timing")
    from core.audit import add_keep_argument
    from core.scale.sample import UNIFORM_RULE, add_sample_arguments

    add_keep_argument(parser)  # --keep-column: keep a column the leakage audit leaves out

    add_sample_arguments(parser, rule=UNIFORM_RULE)  # --sample-rows, --engine dask: a file larger than memory


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """Scoring options: the threshold and whether to compute reason codes for declines."""
    g = parser.add_argument_group("credit")
    g.add_argument("--threshold", type=float, default=None, help="decline at or above this probability "
                   "(default: the threshold saved with the model)")
    g.add_argument("--no-reasons", action="store_true", help="skip SHAP reason codes for declined rows")


def sensitive_notice(columns: list[str], *, by_default: bool) -> str:
    """The line the CLI prints when sensitive attributes are kept out of the features."""
    why = "detected as sensitive attribute(s)" if by_default else "named with --sensitive"
    return (f"Note: {', '.join(map(str, columns))} {'is' if len(columns) == 1 else 'are'} kept out of the model's "
            f"features ({why}; used only for the fairness check). To use a column as a feature, list only the "
            "columns to keep out with --sensitive COL,... or pass --sensitive none.")


def _sensitive(arg: str | None) -> list[str] | None:
    if arg is None:
        return None
    if arg.strip().lower() in ("", "none"):
        return []
    return [c.strip() for c in arg.split(",") if c.strip()]


def _config(args):
    from core.credit.pipeline import default_credit_config

    overrides = {k: getattr(args, k) for k in ("width", "depth", "dropout", "l2", "learning_rate",
                                               "batch_size", "epochs", "imbalance", "refit")
                 if getattr(args, k, None) is not None}
    # The ensemble check is on unless --no-ensemble: a few validation scores of models already trained.
    return replace(default_credit_config(), seed=int(args.seed), ensemble=getattr(args, "ensemble", None) is not False,
                   **overrides)


def run_train(args) -> dict:
    """Train on --data, evaluate on a split or --test-data, and report metrics, baselines, timings."""
    from core.audit import LeakAudit, keep_list
    from core.credit.pipeline import guess_target
    from core.credit.scorecard import ScorecardConfig
    from core.credit.service import EXPLAIN_ROWS, save, train_and_decide
    from core.data.datasets import read_table
    from core.cli import negative_values
    from core.data.outcome import choose_outcome_rows
    from core.scale.sample import wants_sample
    from core.data.tablestream import choice_of, read_file_of
    from core.ml.blend import recommended_line, recommended_section
    from core.ml.tabular_fit import describe_refit
    from core.ml.training import describe_epochs, summarize_epochs

    t_start = time.perf_counter()
    if args.save:  # checked before training, so nobody waits for a run that cannot be saved
        from core.store.registry import check_save_target

        check_save_target(args.save, scenario="credit")
    sample = None
    if wants_sample(args):  # a file larger than memory: a seeded sample read block by block (core/scale/sample.py)
        from core.scale.sample import read_uniform_sample

        table, sample = read_uniform_sample(args, seed=int(args.seed))
    else:
        # Personal data (e-mail, phone, card numbers, ids, names) is left out as the file is read.
        table = read_table(args.data, personal="drop", **choice_of(args))  # --member / --sheet
    test_table = (read_file_of(args, "test", personal="drop")  # --test-member / --test-sheet
                  if getattr(args, "test_data", None) else None)
    target = args.target or guess_target(table.df.columns)
    if target is None:
        raise DataValidationError(
            f"No target column given and none of {list(table.df.columns)[:12]} looks like one. "
            "Fix: pass --target COLUMN."
        )
    # An outcome with more than two values: --negative says which mean repaid, the rest are left out.
    negative = negative_values(args)
    table.df, outcome_notices = choose_outcome_rows(table.df, target, positive=args.positive, negative=negative)
    table.notices = [*table.notices, *outcome_notices]
    if test_table is not None:
        from core.data.tablestream import require_columns

        require_columns(test_table, "test", [target])  # e.g. a workbook's first sheet held notes
        test_table.df, test_notices = choose_outcome_rows(test_table.df, target, positive=args.positive,
                                                          negative=negative)
        read = [n for n in test_table.notices if not n.startswith("--test-data: Personal data")]
        table.notices += [*read, *(f"--test-data: {n}" for n in test_notices)]
    for notice in [n for n in table.notices if not n.startswith("Personal data")]:
        print(notice, file=sys.stderr, flush=True)
    config = _config(args)
    search_progress = None
    if getattr(args, "search_budget", None) is not None:
        from core.search.scenarios import print_trials

        search_progress = print_trials
    outcome = train_and_decide(table.df, target=target, positive=args.positive, sensitive=_sensitive(args.sensitive),
                               config=config, test_df=None if test_table is None else test_table.df,
                               test_size=args.test_size, keep_columns=keep_list(args),
                               search_budget=getattr(args, "search_budget", None),
                               search_trials=getattr(args, "search_trials", None),
                               shap_rows=0 if args.no_explain else EXPLAIN_ROWS, loss_default=args.loss_default,
                               margin_good=args.margin_good, verdict=True, search_progress=search_progress,
                               notice=lambda line: print(line, file=sys.stderr, flush=True))
    run, search, decision = outcome.run, outcome.search, outcome.decision
    tab = run.tabular
    for notice in LeakAudit.from_dict(run.setup.leakage).notices():
        print(f"credit leakage audit: {notice}", file=sys.stderr, flush=True)
    if run.setup.sensitive:
        print(sensitive_notice(run.setup.sensitive, by_default=args.sensitive is None), file=sys.stderr, flush=True)
    print(describe_epochs(summarize_epochs(tab.history, config.epochs)), file=sys.stderr, flush=True)
    if describe_refit(tab.history):
        print(describe_refit(tab.history), file=sys.stderr, flush=True)
    print(recommended_line(tab), file=sys.stderr, flush=True)  # which model is saved, scored and explained
    for line in outcome.trust.notices():  # the trust flags at the profit-optimal threshold
        print(line, file=sys.stderr, flush=True)
    timings = {"train": tab.timings["train"], **{k: v for k, v in tab.timings.items() if k != "train"}}
    if "explain" in outcome.timings:
        timings["explain"] = outcome.timings["explain"]
    scorecard = ScorecardConfig(base_score=args.base_score, base_odds=args.base_odds, pdo=args.pdo)
    result = {
        "scenario": "credit",
        "data": {"rows": int(len(table.df)), "train_rows": int(len(run.train_df)),
                 "test_rows": int(len(run.test_df)), "target": target, "positive": str(run.setup.positive),
                 "default_rate": float(np.mean(run.y_test)), "features": run.setup.features,
                 "sensitive": run.setup.sensitive, "notices": [*table.notices, *run.setup.notices, *tab.notices]},
        "leakage": run.setup.leakage,
        # The settings the network was trained with (the automatic batch size and L2 resolved).
        "config": {k: getattr(tab.config, k) for k in ("imbalance", "width", "depth", "dropout", "l2",
                                                       "learning_rate", "epochs", "batch_size", "seed", "bins",
                                                       "n_models", "refit")},
        **summarize_epochs(tab.history, config.epochs),
        "refit_epochs": len(tab.history.get("refit_loss") or []),  # 0: the validated network is the one saved
        "metrics": tab.metrics["network"],
        "baselines": {k: v for k, v in tab.metrics.items() if k != "network"},
        "decision": {"loss_default": decision.loss_default, "margin_good": decision.margin_good,
                     "optimal_threshold": decision.threshold,
                     **{k: v for k, v in decision.kpis.items() if k != "threshold"}},
        "verdict": outcome.verdict,
        # The model saved, scored and explained: the network, or its blend with a baseline (chosen on validation).
        "recommended": recommended_section(tab),
    }
    if sample is not None:
        result["data"]["sample"] = sample
    if search is not None:
        from core.search.scenarios import search_section

        result["search"] = search_section(search, tab)
        timings["search"] = search.result.seconds
    if args.save:
        from core.report.runsummary import default_run_name

        result["saved_to"] = str(save(outcome, args.save, name=default_run_name("credit", args.data), data=table.df,
                                      dataset_name=Path(args.data).name, scorecard=scorecard))
    timings["total"] = time.perf_counter() - t_start
    result["timings"] = timings
    return result


def run_score(args) -> dict:
    """Score --data with the saved model in --model and write the scored CSV to --out.

    The file is read, scored and written in chunks of --chunk-size rows (``stream_score``), so
    memory stays flat however long it is; progress goes to standard error. Columns are checked
    against the model's on the first chunk, and drift (PSI) is counted over every chunk.
    """
    import sys

    if getattr(args, "engine", "local") == "dask":
        from core.credit.scale import run_score_dask

        return run_score_dask(args)
    from core.credit.persist import load_credit_model
    from core.credit import service
    from core.serve.streaming import stream_score
    from core.data.tablestream import choice_of

    t0 = time.perf_counter()
    model = load_credit_model(args.model)
    threshold = model.threshold if args.threshold is None else float(args.threshold)
    if not 0 <= threshold <= 1:
        raise DataValidationError(f"--threshold must be between 0 and 1; got {threshold}. Fix: pass e.g. 0.2.")
    target, positive = model.credit["target"], model.credit["positive"]
    declined, p_sum, ys, ps = 0, 0.0, [], []

    def score_chunk(part):
        nonlocal declined, p_sum
        scored, p = service.score_chunk(model, part, threshold=threshold, reasons=not args.no_reasons)
        if target in part.columns:
            ys.append((part[target].astype(str) == positive).to_numpy(np.int8))
            ps.append(p.astype(np.float32))
        declined += len(service.declined_rows(p, threshold))
        p_sum += float(p.sum())
        return scored

    def progress(rows):
        if not getattr(args, "quiet", False):
            print(f"scored {rows:,} rows ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)

    done = stream_score(model.metadata, args.data, args.out, score_chunk,
                        chunk_size=int(getattr(args, "chunk_size", 50_000) or 50_000), progress=progress,
                        personal=getattr(args, "personal", None),  # --personal-data: drop (default), hash, keep
                        log=getattr(args, "prediction_log", None),  # the run's prediction log (core.monitor)
                        **choice_of(args))  # --member / --sheet
    rows = done.rows
    result = {"rows": rows, "approved": rows - declined, "declined": declined,
              "approval_rate": float(1 - declined / max(rows, 1)), "threshold": threshold,
              "mean_probability": p_sum / rows if rows else None, "out": str(args.out), "notices": done.notices,
              "timings": {"total": time.perf_counter() - t0}}
    if done.drift is not None:
        result["drift"] = done.drift.to_dict(orient="records")
    if ys:
        y, p = np.concatenate(ys), np.concatenate(ps)
        if 0 < y.sum() < len(y):
            from core.ml.metrics import compute_binary_metrics

            result["metrics"] = compute_binary_metrics(y, p.astype(float), threshold)
    return result
