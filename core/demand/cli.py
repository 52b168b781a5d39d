"""Demand flags for ``python -m core train --scenario demand``.

    python -m core train --scenario demand --data FILE [--date-col COL] [--target COL]
        [--series-cols A,B] [--covariates-file FILE] --horizon H [--test-data FILE] [--epochs N]
        [--seed N] [--keep-column NAME ...] [--lag-column NAME ...] [--save DIR] --json

``--covariates-file`` joins a second file of known-in-advance covariates (e.g. per store and date)
on the columns it shares with the sales file's date and series columns; its rows past the sales
history are the covariates of the forecast horizon. The JSON's ``covariates_file`` says what joined.
The test set is the last H periods of each series (more with ``--origins``), or ``--test-data``.
Before training, the leakage audit (``core.demand.leakage``) checks every covariate on the training
periods: one that reconstructs the quantity or is observed with it is read through its past values
only (notices on standard error, ``leakage`` in the JSON); ``--keep-column`` overrides it.
The common flags are parsed by core/cli.py; this module adds the demand ones and does the work.
"""

from __future__ import annotations

import argparse
import time

from core.errors import DataValidationError
from core.data.safety import escape_formula_cells

DEFAULT_HORIZON = {"daily": 28, "weekly": 8, "monthly": 12}
SUPPORTS_SEARCH = True  # --search-budget (see core/demand/search.py)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Column roles, horizon, backtest origins, gap filling and the demand-event level."""
    g = parser.add_argument_group("demand")
    g.add_argument("--date-col", default=None, help="date column (default: guessed, e.g. 'date')")
    g.add_argument("--series-cols", default=None, help="comma-separated series id columns, e.g. store,product "
                   "('none' for one series; default: guessed)")
    g.add_argument("--covariates", default=None, help="comma-separated known-in-advance covariates "
                   "('none' for none; default: every other numeric column)")
    g.add_argument("--covariates-file", default=None, help="second file of known-in-advance covariates "
                   "(e.g. Store, Date, Temperature, MarkDown1..5), joined on the shared date / series columns")
    g.add_argument("--covariates-member", metavar="NAME", help="the table to read when --covariates-file is a zip "
                   "holding several")
    g.add_argument("--covariates-sheet", metavar="NAME", help="the sheet to read when --covariates-file is an Excel "
                   "workbook (default: the first sheet with data)")
    g.add_argument("--horizon", type=int, default=None, help="periods to forecast (default 28 daily, 8 weekly, 12 monthly)")
    g.add_argument("--origins", type=int, default=1, help="rolling-origin backtest origins (default 1)")
    g.add_argument("--step", type=int, default=None, help="periods between origins (default: horizon)")
    g.add_argument("--input-len", type=int, default=None, help="input window length (default from season and horizon)")
    g.add_argument("--fill-gaps", default="interpolate", choices=("interpolate", "zero"))
    g.add_argument("--lead-time-days", type=float, default=None,
                   help="supplier lead time in days (default 7), rounded up to whole periods of the data")
    g.add_argument("--review-days", type=float, default=None,
                   help="days between orders (default 7), rounded up to whole periods of the data")
    g.add_argument("--event-level", type=float, default=2.0,
                   help="demand event = next period above this multiple of the series' mean (0 to skip)")
    from core.audit import add_keep_argument

    add_keep_argument(parser, demand=True)  # --keep-column / --lag-column: the leakage audit's overrides


def _split_list(arg: str | None):
    if arg is None:
        return None
    if arg.strip().lower() in ("", "none"):
        return ()
    return tuple(c.strip() for c in arg.split(",") if c.strip())


def _personal_notice(notice: str) -> bool:
    """The personal-data notice of a file read (said once, with the run's summary), whichever file it is of."""
    return notice.startswith(("Personal data", "--test-data: Personal data", "--covariates-file: Personal data"))


def _load(file: str, args, cmap=None):
    """Read and clean --data or --test-data (``file``: "data" or "test", which names the flags
    --member / --sheet or --test-member / --test-sheet). Without ``cmap`` the column roles are
    guessed (flags win) and the guess, with the reason for each role, is printed on standard error
    before anything trains."""
    import sys

    from core.demand.data import ColumnMap, load_sales
    from core.demand.roles import guess_roles
    from core.data.tablestream import read_file_of

    table = read_file_of(args, file, max_rows=None, personal="drop")  # personal data left out as it is read
    if cmap is not None:  # the test file: the columns found in --data
        from core.data.tablestream import require_columns

        require_columns(table, file, [cmap.date, cmap.target, *cmap.series])
    for notice in [n for n in table.notices if not _personal_notice(n)]:
        print(notice, file=sys.stderr)
    guess = None
    if cmap is None:
        series = _split_list(args.series_cols)
        covs = _split_list(args.covariates)
        if covs and getattr(args, "covariates_file", None):  # the rest come from the covariates file
            covs = tuple(c for c in covs if c in table.df.columns)
        guess = guess_roles(table.df, date=args.date_col, target=args.target, series=series, covariates=covs)
        print("demand column roles (pass --date-col / --target / --series-cols to change them):", file=sys.stderr)
        for line in guess.describe():
            print(f"  {line}", file=sys.stderr)
        base = guess.to_columns()  # stops here, listing the candidates, when the quantity is only a guess
        cmap = ColumnMap(date=base.date, target=base.target, series=base.series,
                         covariates=_split_list(args.covariates))
    df, join = table.df, None
    if getattr(args, "covariates_file", None):
        from core.demand.covariates import join_covariates

        covariates = read_file_of(args, "covariates", max_rows=None, personal="drop")  # --covariates-member / -sheet
        if len(covariates.sheets) > 1 or len(covariates.members) > 1:  # e.g. a first sheet of notes: say which
            from core.data.tablestream import require_columns

            require_columns(covariates, "covariates", [cmap.date])
        for notice in [n for n in covariates.notices if not _personal_notice(n)]:
            print(notice, file=sys.stderr)
        join = join_covariates(df, covariates.df, date_col=cmap.date, series_cols=cmap.series)
        df = join.frame
        print(f"demand covariates file: {join.summary()}", file=sys.stderr)
    return load_sales(df, cmap, fill_gaps=args.fill_gaps), cmap, guess, join


def run_train(args) -> dict:
    """Train, backtest against the baselines, cost the inventory policy; return a JSON-able dict."""
    from core.demand.forecast import DemandConfig, run_summary
    from core.demand.fmetrics import clean_metrics, mape_note
    from core.demand.leakage import hold_periods, roles_with_audit
    from core.demand.inventory import DEFAULT_LEAD_TIME_DAYS, DEFAULT_REVIEW_DAYS, describe_params

    t0 = time.perf_counter()
    data, cmap, guess, join = _load("data", args)  # --member / --sheet
    test = _load("test", args, cmap)[0] if args.test_data else None  # --test-member / --test-sheet
    horizon = args.horizon or DEFAULT_HORIZON[data.frequency]
    data, audit = _audit(data, join, args, hold=0 if test is not None else hold_periods(horizon, args.origins, args.step))
    cfg = DemandConfig(horizon=horizon, input_len=args.input_len, origins=args.origins, step=args.step,
                       seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    future = None
    if join is not None:
        from core.demand.covariates import horizon_covariates

        future = horizon_covariates(join, cmap.series, data)
    from core.cli import say
    from core.demand import service
    from core.search.scenarios import print_trials

    searching = getattr(args, "search_budget", None) is not None
    outcome = service.train_and_decide(
        data, config=cfg, test=test, future=future, search_budget=args.search_budget if searching else None,
        search_trials=getattr(args, "search_trials", None), search_ensemble=bool(getattr(args, "ensemble", False)),
        search_progress=print_trials if searching else None, notice=lambda line: say(f"search: {line}"),
        ensemble=getattr(args, "ensemble", None) is not False, lead_time_days=args.lead_time_days,
        review_days=args.review_days, policy=True, verdict=True)
    run, search, decision = outcome.run, outcome.search, outcome.decision
    recommended = _recommended(decision.recommended)
    table = run.metrics
    nn = table.loc["Keras quantile network"].to_dict()
    sn = table.loc["Seasonal naive"].to_dict()
    nn["relmae_snaive"] = nn["mae"] / sn["mae"] if sn["mae"] else None
    baselines = {"seasonal_naive": clean_metrics(sn),
                 "moving_average": clean_metrics(table.loc["Moving average"].to_dict())}
    days = {"lead_time_days": DEFAULT_LEAD_TIME_DAYS if args.lead_time_days is None else args.lead_time_days,
            "review_days": DEFAULT_REVIEW_DAYS if args.review_days is None else args.review_days}
    params = decision.params
    policy = {**decision.policy, "aggregate_sigma_scale": round(decision.aggregate_sigma_scale, 4)}
    for line in outcome.trust.notices():  # the trust flags, also on standard error
        say(line)
    out = {"scenario": "demand", "metrics": clean_metrics(nn), "baselines": baselines,
           "data": {"frequency": data.frequency, "series": data.report.n_series, "rows": data.report.n_rows,
                    "start": data.report.start, "end": data.report.end, "issues": data.report.issues,
                    "columns": {"date": cmap.date, "target": cmap.target, "series": list(cmap.series),
                                "covariates": data.covariates},
                    "column_roles": roles_with_audit(guess.roles(), audit)},
           "leakage": audit.to_dict(),
           "policy": {"params": params.__dict__, "units": {**describe_params(params, data.frequency), **days},
                      "notes": list(decision.notes), **policy}, **run_summary(run),
           "verdict": outcome.verdict}
    if mape_note(nn):
        out["metric_notes"] = [mape_note(nn)]
    out["recommended"] = recommended
    if join is not None:
        out["covariates_file"] = {"file": str(args.covariates_file), "summary": join.summary(), **join.to_dict()}
    if args.event_level and args.event_level > 0:
        out["events"] = _events(run, args)
    if search is not None:
        from core.demand.search import demand_search_section

        out["search"] = demand_search_section(search, run)
    if args.save:
        from pathlib import Path

        from core.report.runsummary import default_run_name

        # --save DIR: the run's own folder (core.store.registry.check_save_target)
        out["saved_to"] = out["saved"] = str(service.save(outcome, Path(args.save),
                                                          name=default_run_name("demand", args.data),
                                                          dataset_name=Path(args.data).name))
    out["timings"] = {**run.timings, **({"search": round(search.result.seconds, 3)} if search else {}),
                      "cli_total": round(time.perf_counter() - t0, 3)}
    return out


def _recommended(rec: dict) -> dict:
    """The recommended forecast, chosen on the validation periods and made the run's saved one
    (``core.demand.blend``): which it is, and why, to standard error."""
    from core.cli import say

    if rec.get("checked"):
        say(f"demand recommended forecast (saved and scored): {rec['label'] if rec['model'] == 'ensemble' else 'Keras quantile network'}"
            f" — chosen on the validation periods by {rec['metric'].upper()}")
    for line in [rec.get("note")] if rec.get("note") else []:
        say(f"demand recommended forecast: {line}")
    return rec


def _audit(data, join, args, *, hold: int):
    """The leakage audit of the covariates on the training periods (``core.demand.leakage``), its notices on
    standard error; returns the data to train on (suspects as past values only) and the audit."""
    from core.audit import keep_list
    from core.cli import say
    from core.demand.leakage import apply_audit, audit_sales, known_ahead

    audit = audit_sales(data, hold=hold, known=known_ahead(join, data), keep=keep_list(args),
                        lag=keep_list(args, "lag_column"), seed=args.seed)
    for notice in audit.notices():
        say(f"demand leakage audit: {notice}")
    return apply_audit(data, audit), audit


def _events(run, args) -> dict:
    from core.demand.events import EventConfig, compute_event_metrics, event_note, train_events

    try:
        ev = train_events(run, EventConfig(value=args.event_level, imbalance=args.imbalance or "class_weight",
                                           seed=args.seed, epochs=min(args.epochs or 15, 15)))
        table = compute_event_metrics(ev)
    except DataValidationError as exc:  # no events at this level: report, do not fail the run
        return {"skipped": str(exc)}
    out = {"level": args.event_level, "imbalance": ev.config.imbalance, "train_counts": ev.train_counts,
           **{name.lower().replace(" ", "_"): row.to_dict() for name, row in table.iterrows()}}
    notes = [event_note(name, row) for name, row in table.iterrows()]
    return out | ({"notes": [n for n in notes if n]} if any(notes) else {})


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """No extra flags: the saved run carries its column map, horizon and calibration."""


def run_score(args) -> dict:
    """Forecast the horizon after the history in --data with the saved run in --model; CSV to --out.

    The same engine as the Score page: P10 / P50 / P90 per series and date with each series'
    safety stock and reorder point under the policy saved with the run (order quantities when the
    file has an ``on_hand`` column), columns checked first, drift against the training history.
    """
    if getattr(args, "engine", "local") == "dask":
        from core.demand.scale import run_score_dask

        return run_score_dask(args)
    from core.data.datasets import read_table
    from core.serve.batch import score_with_run

    t0 = time.perf_counter()
    from core.data.privacy import PersonalDataFilter

    # --personal-data: personal columns left out (default), hashed or kept before anything reads them.
    guard = getattr(args, "personal", None) or PersonalDataFilter()
    from core.data.tablestream import choice_of

    read = read_table(args.data, max_rows=None, **choice_of(args))  # --member / --sheet
    result = score_with_run(args.model, guard.apply(read.df), max_rows=10 ** 12,
                            log=getattr(args, "prediction_log", None))  # the run's prediction log (core.monitor)
    table = result.scored
    from core.store.registry import write_atomic

    # Complete or absent under its name, even if the process is killed while writing.
    write_atomic(args.out, escape_formula_cells(table).to_csv(index=False), what="Writing the forecast")
    out = {"rows": int(len(table)), "series": int(table["series"].nunique()), "out": str(args.out),
           "notices": [*read.notices, *result.notices], "policy": result.settings,
           "timings": {"total": round(time.perf_counter() - t0, 3)}}
    if result.drift is not None:
        out["drift"] = result.drift.to_dict(orient="records")
    return out
