"""Headless command line over the same engine the pages use.

    python -m core train --scenario credit --data FILE [--member NAME] [--sheet NAME]
        [--test-data FILE [--test-member NAME] [--test-sheet NAME]]
        [--target COL] [--positive VALUE] [--imbalance METHOD] [--epochs N] [--seed N] [--save DIR] --json
    python -m core score --model DIR --data FILE [--member NAME] [--sheet NAME] --out FILE
        [--personal-data drop|hash|keep]
        [--engine dask [--scheduler tcp://HOST:PORT] [--workers N] [--out-format csv|parquet]]
        [--no-log] [--retention-days N]
    python -m core serve --model DIR [--model DIR ...] [--runtime keras|onnx] ...   (core/server/cli.py)
    python -m core export --model DIR --format onnx [--out FILE]                   (core/runtime/cli.py)
    python -m core report --model DIR [--format html|pdf] [--out FILE]       (core/workspace/report_cli.py)
    python -m core feedback | monitor | retrain | promote ...   (the production loop: core/monitor/cli.py)

Each scenario package ``core/<name>/cli.py`` adds its own flags (``add_train_arguments``) and runs
the work (``run_train(args) -> dict``); this module only parses and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from core.present.console import clean_json as _clean, quiet_native_stderr, say  # noqa: F401  (their old home)
from core.errors import DataValidationError
from core.store.scenarios import ScenarioKeys, discover, extension_packages, find_scenario

PERSONAL_DATA_MODES = ("drop", "hash", "keep")  # core.data.privacy.OUTPUT_MODES, without importing pandas here

SCENARIOS = ScenarioKeys()  # every registered scenario (core.store.scenarios), read when the parser is built


def _scenario_module(name: str):
    """The scenario's train / score arguments and runners (its ``cli`` hook)."""
    scenario = find_scenario(name)
    if scenario is None:
        raise DataValidationError(f"Scenario must be one of {', '.join(SCENARIOS)}; got '{name}'.")
    return scenario.cli()


def _add_table_choice(p: argparse.ArgumentParser) -> None:
    p.add_argument("--member", metavar="NAME", help="the table to read when --data is a zip holding several "
                   "(its path in the zip, or its file name)")
    p.add_argument("--sheet", metavar="NAME", help="the sheet to read when --data is an Excel workbook "
                   "(default: the first sheet with data)")


def negative_values(args) -> list[str] | None:
    """``--negative good,unknown`` as ``["good", "unknown"]`` (None when not given)."""
    raw = getattr(args, "negative", None)
    return None if raw is None else [v.strip() for v in str(raw).split(",") if v.strip()]


def _check_table_choice(args) -> None:
    """--member / --sheet (and --test-member ... for the other files) name a table; a scenario that
    reads images has none to name, and a file that was not given has no table to pick."""
    from core.data.tablestream import TABLE_FLAGS, _attr

    contract = find_scenario(args.scenario)
    given = [f for _, *flags in TABLE_FLAGS.values() for f in flags if getattr(args, _attr(f), None) is not None]
    if given and contract is not None and contract.input_kind != "table":
        raise DataValidationError(
            f"{' and '.join(given)} name a table in a zip or workbook, but the {contract.key} scenario reads "
            f"{contract.input_kind}. Expected them only with a table file. Fix: leave out {' and '.join(given)}.")
    for path_flag, *flags in TABLE_FLAGS.values():
        named = [f for f in flags if getattr(args, _attr(f), None) is not None]
        if named and getattr(args, _attr(path_flag), None) is None:
            raise DataValidationError(
                f"{' and '.join(named)} name a table inside {path_flag}, but no {path_flag} was given. Expected "
                f"{' and '.join(named)} only with {path_flag} FILE. Fix: add {path_flag} FILE, or leave out "
                f"{' and '.join(named)}.")


def _train_parser(scenario_module=None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core train", description="Train a scenario's model headless.")
    p.add_argument("--scenario", required=True, choices=SCENARIOS)
    p.add_argument("--data", required=True, help="training data file: CSV or text of any extension, gzip, zip, "
                   "Excel (.xlsx, .xls) or Parquet; images (a zip or folder) for quality")
    _add_table_choice(p)
    p.add_argument("--test-data", help="evaluate on this file instead of a split of --data (credit, demand, quality; "
                   "fraud evaluates on the later days of --data, see --test-start)")
    p.add_argument("--test-member", metavar="NAME", help="the table to read when --test-data is a zip holding several")
    p.add_argument("--test-sheet", metavar="NAME", help="the sheet to read when --test-data is an Excel workbook "
                   "(default: the first sheet with data)")
    p.add_argument("--target", help="target column")
    p.add_argument("--positive", help="value of the target that counts as the positive class")
    p.add_argument("--negative", metavar="VALUE[,VALUE]",
                   help="with --positive, for an outcome with more than two values (good / bad / unknown): the "
                        "value(s) that mean the event did not happen; rows with any other value are left out "
                        "(list every other value to count them all as negative)")
    p.add_argument("--imbalance", default=None, help="none, class_weight, oversample, undersample, smote, adasyn, smote_tomek")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", metavar="DIR", help="save the trained run as this new folder, e.g. runs/credit-1 "
                   "(then: score --model runs/credit-1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's own start-up and device log lines")
    s = p.add_argument_group("model search")
    s.add_argument("--search-budget", type=float, default=None, metavar="SECONDS",
                   help="search the network's settings on the training rows for this many seconds, then train "
                        "the best (off unless given)")
    s.add_argument("--search-trials", type=int, default=None, metavar="N",
                   help="stop the search after N trials (makes the best trial reproducible)")
    s.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=None,
                   help="blend the network with the best baseline when the blend beats the network on validation rows, "
                        "and recommend (save, score, explain) that blend; on by default for credit, fraud and quality "
                        "(--no-ensemble: the network alone), with --search-budget for demand")
    if scenario_module is not None:
        scenario_module.add_train_arguments(p)
    return p


def _score_parser(scenario_module=None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core score", description="Score new rows with a saved model.")
    p.add_argument("--model", required=True, help="a saved run directory")
    p.add_argument("--data", required=True, help="the file to score: CSV or text of any extension, gzip, zip, "
                   "Excel (.xlsx, .xls) or Parquet; images for a quality run")
    _add_table_choice(p)
    p.add_argument("--out", required=True, help="output CSV (with --engine dask: a Parquet folder, or a CSV "
                   "when the name ends in .csv or --out-format csv)")
    p.add_argument("--scenario", choices=SCENARIOS, help="defaults to the saved run's scenario")
    p.add_argument("--chunk-size", type=int, default=50_000, help="rows read, scored and written at a time "
                   "(with --engine dask: rows per partition)")
    g = p.add_argument_group("scaling out (--engine dask)")
    g.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: one process, chunk by chunk; dask: partitions scored in parallel on a Dask cluster")
    g.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                   "(default: start a cluster on this machine's cores)")
    g.add_argument("--workers", type=int, default=None, help="worker processes of the cluster started on this "
                   "machine (default: one per core)")
    g.add_argument("--out-format", choices=("csv", "parquet"), default=None,
                   help="parquet: a folder with one part per partition; csv: one file (default: from --out's name)")
    p.add_argument("--personal-data", choices=PERSONAL_DATA_MODES, default="drop",
                   help="columns holding personal data (e-mail, phone, card / account and national id numbers, "
                        "names), found on the first rows read: drop leaves them out of the output (default), hash "
                        "writes salted SHA-256 codes (a new salt every run, never saved), keep copies them as they are")
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    p.add_argument("--json", action="store_true")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's own start-up and device log lines")
    m = p.add_argument_group("prediction log (the Monitor page, python -m core monitor)")
    m.add_argument("--no-log", action="store_true", help="do not record these predictions in the run's prediction "
                   "log (e.g. re-scoring test files); recorded by default")
    m.add_argument("--retention-days", type=float, default=None, metavar="N",
                   help="keep the run's prediction log for N days (saved with the run; default 400, or "
                        "$STUDIO_LOG_RETENTION_DAYS)")
    if scenario_module is not None and hasattr(scenario_module, "add_score_arguments"):
        scenario_module.add_score_arguments(p)
    return p


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_clean(result)))
        return
    for section, value in result.items():
        if isinstance(value, dict):
            print(f"{section}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{section}: {value}")


def _open_log(args):
    """The run's prediction log for ``score`` (None with --no-log or STUDIO_PREDICTION_LOG=0); either
    engine logs into it, and its parts are published once the output is in place."""
    from core.monitor.record import open_recorder
    from core.monitor.store import set_retention

    if args.retention_days is not None:
        set_retention(args.model, args.retention_days)
    return open_recorder(args.model, source="cli", enabled=not args.no_log, deferred=True)


def _scenario_from_argv(argv: Sequence[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--scenario" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--scenario="):
            return a.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.monitor.cli import COMMANDS as LOOP

    if argv and argv[0] == "serve":
        from core.server.cli import main as serve_main

        return serve_main(argv[1:])
    if argv and argv[0] == "export":
        return _export(argv[1:])
    if argv and argv[0] == "report":
        return _report(argv[1:])
    if argv and argv[0] in LOOP:
        from core.monitor.cli import main as loop_main

        return loop_main(argv)
    if not argv or argv[0] not in ("train", "score"):
        print(f"usage: python -m core {{train,score,serve,export,report,{','.join(LOOP)}}} --help", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        if extension_packages():  # a package named in STUDIO_SCENARIOS that is not there stops here, with its fix
            discover(strict=True)
        scenario = _scenario_from_argv(rest)
        if command == "score" and scenario is None and "--model" in rest:
            from core.store.registry import read_metadata

            scenario = read_metadata(rest[rest.index("--model") + 1]).get("scenario")
        module = _scenario_module(scenario) if scenario in SCENARIOS else None
        parser = (_train_parser if command == "train" else _score_parser)(module)
        args = parser.parse_args(rest)
        if module is None:
            module = _scenario_module(args.scenario)
        if command == "train" and getattr(args, "search_budget", None) is not None:
            from core.search import check_budget

            check_budget(args.search_budget)
            if not getattr(module, "SUPPORTS_SEARCH", False):
                raise DataValidationError(
                    f"--search-budget is not available for the {args.scenario} scenario yet; got "
                    f"--search-budget {args.search_budget:g}. Fix: train without it.")
        if command == "train" and getattr(args, "save", None):
            from core.store.registry import check_save_target

            check_save_target(args.save, scenario=args.scenario)  # before training: the run must be savable
        with quiet_native_stderr(not args.verbose):
            if command == "train":
                from core.ml.training import probe_device_info

                # One line naming the device, in place of TensorFlow's own start-up lines.
                _check_table_choice(args)
                say(f"Training on {probe_device_info().label}")
                result = module.run_train(args)
            else:
                if not hasattr(module, "run_score"):
                    raise DataValidationError(f"Scenario '{scenario}' has no batch scoring from the command line yet.")
                from core.data.privacy import PersonalDataFilter

                args.scenario = scenario
                _check_table_choice(args)
                # Found on the first rows read, then dropped / hashed the same way in every chunk or block.
                args.personal = PersonalDataFilter(args.personal_data)
                log = args.prediction_log = _open_log(args)
                try:
                    result = module.run_score(args)
                except BaseException:
                    if log is not None:
                        log.abort()  # nobody received these predictions: they are not logged
                    raise
                if args.personal.notice():
                    say(args.personal.notice())
                    if isinstance(result, dict):
                        result["personal_data"] = args.personal.excluded
                if log is not None:
                    log.commit()  # the output is in place: its predictions become visible to the monitor
                    if log.notice():
                        say(log.notice())
                    if isinstance(result, dict):
                        result["prediction_log"] = log.summary()
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _emit(result, getattr(args, "json", False))
    return 0


def _export(argv: Sequence[str]) -> int:
    """``python -m core export``: the run's network as ONNX (``core.runtime.cli``)."""
    from core.runtime.cli import export_parser, run_export

    args = export_parser().parse_args(list(argv))
    try:
        with quiet_native_stderr(not args.verbose):
            result = run_export(args)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _emit(result, args.json)
    return 0


def _report(argv: Sequence[str]) -> int:
    """``python -m core report``: the run's model card as HTML or PDF (``core.workspace.report_cli``)."""
    from core.workspace.report_cli import report_parser, run_report

    args = report_parser().parse_args(list(argv))
    try:
        result = run_report(args)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _emit(result, args.json)
    return 0
