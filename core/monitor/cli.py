"""The production loop on the command line (``core/cli.py`` hands these commands over):

    python -m core feedback --model RUN --data labels.csv [--id-column C] [--label-column L] [--json]
    python -m core monitor  --model RUN [--by day|week|month] [--out table.csv] [--retention-days N] [--json]
    python -m core retrain  --model RUN [--data NEW.csv] [--train-data FILE] [--save DIR] [--by week] [--json]
                            (quality: --train-data ORIGINAL.zip|DIR --data NEW.zip, images in class folders)
    python -m core promote  --model CHALLENGER [--json]

Messages go to standard error; the result (text, or one JSON object with ``--json``) to standard output.
Exit code 1 with ``error: ...`` for input the commands cannot use.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

COMMANDS = ("feedback", "monitor", "retrain", "promote")
PERIODS = ("day", "week", "month")


def _parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m core {command}")
    p.add_argument("--model", required=True, help="a saved run folder" + (" (the challenger)" if command == "promote" else ""))
    if command == "feedback":
        p.description = "Feed outcomes back: match the labels of a file with the run's logged predictions by id."
        p.add_argument("--data", required=True, help="CSV or Parquet with an id column and a label column")
        p.add_argument("--id-column", default=None, help="the column of ids the predictions were logged under "
                       "(default: the scenario's id column, e.g. applicant_id, transaction_id, or prediction_id)")
        p.add_argument("--label-column", default=None, help="the outcome column (default: the run's target, "
                       "else label / outcome)")
    if command == "monitor":
        p.description = "Per period: rows scored, drift (PSI), decisions, realized and estimated figures, alerts."
        p.add_argument("--by", choices=PERIODS, default="week", help="period length (default week)")
        p.add_argument("--out", default=None, help="also write the per-period table to this CSV")
    if command in ("monitor", "feedback"):
        p.add_argument("--retention-days", type=float, default=None, metavar="N",
                       help="keep the run's prediction log for N days (saved with the run)")
    if command == "retrain":
        p.description = ("Train a challenger on the original training data plus the newly labelled rows and compare it "
                         "with the champion on the latest labelled period.")
        p.add_argument("--data", default=None, help="a labelled file of new rows (with the outcome column) to train on "
                       "too; rows that are comparison rows are kept out (quality: a zip or folder of the newly "
                       "inspected images in class folders; those the run scored are compared on, the rest learnt from)")
        p.add_argument("--train-data", default=None, help="the run's original training file, when the run did not keep "
                       "a copy of it (quality: the zip or folder of images the run was trained on; required)")
        p.add_argument("--save", default=None, metavar="DIR", help="save the challenger as this new folder "
                       "(default: <runs folder>/<run>-challenger-<n>)")
        p.add_argument("--by", choices=PERIODS, default="week", help="period whose latest labelled one is compared on")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's own start-up lines")
    return p


def main(argv: Sequence[str]) -> int:
    from core.present.console import clean_json as _clean, quiet_native_stderr, say
    from core.errors import DataValidationError

    command, rest = argv[0], list(argv[1:])
    args = _parser(command).parse_args(rest)
    try:
        from core.store.registry import read_metadata

        read_metadata(args.model)  # a clear message for a folder that is not a saved run
        with quiet_native_stderr(not args.verbose):
            result, text = RUNNERS[command](args, say)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(_clean(result)) if args.json else text)
    return 0


def run_feedback(args, say):
    from core.data.datasets import read_table
    from core.monitor.feedback import read_outcomes_file, record_feedback
    from core.monitor.store import set_retention

    if args.retention_days is not None:
        set_retention(args.model, args.retention_days)
    table = read_table(args.data, max_rows=None, personal="drop").df
    outcomes = read_outcomes_file(args.model, table, id_column=args.id_column, label_column=args.label_column)
    result = record_feedback(args.model, outcomes)
    for notice in result.notices:
        say(notice)
    return result.to_dict(), result.sentence()


def run_monitor(args, say):
    from core.monitor.report import compute_monitor
    from core.monitor.store import set_retention

    if args.retention_days is not None:
        set_retention(args.model, args.retention_days)
    report = compute_monitor(args.model, by=args.by)
    for notice in report.notices:
        say(notice)
    table = report.table()
    if args.out:
        from core.store.registry import write_atomic
        from core.data.safety import escape_formula_cells

        write_atomic(args.out, escape_formula_cells(table).to_csv(index=False), what="Writing the monitor table")
    lines = [f"run {report.run_id} ({report.scenario}), by {report.by}: {len(report.periods)} period(s)"]
    if report.calibration is not None:
        lines.append(report.calibration.sentence())
    if len(table):
        shown = table.drop(columns=["Alerts"]).set_index("Period start").T
        lines.append(shown.to_string(float_format=lambda v: f"{v:.3f}"))
    alerts = report.alerts
    lines.append(f"{len(alerts)} alert(s)" + (":" if alerts else "."))
    lines += [f"  {p.start.date()}: {a.reason}" for p, a in alerts]
    return report.to_dict(), "\n".join(lines)


def run_retrain(args, say):
    from core.monitor.retrain import retrain

    result = retrain(args.model, data=args.data, train_data=args.train_data, save=args.save, by=args.by, progress=say)
    for notice in result.notices:
        say(notice)
    text = (f"challenger saved as {result.challenger}\n{result.sentence()}\n"
            f"Promote it with: python -m core promote --model {result.challenger}")
    return result.to_dict(), text


def run_promote(args, say):
    from core.monitor.lineage import promote

    done = promote(args.model)
    if done.get("verdict") not in (None, "better"):
        say(f"Note: this challenger was {done['verdict']} against its champion when compared; promoted as asked.")
    return done, f"promoted {done['promoted']}; {done['retired']} is retired."


RUNNERS = {"feedback": run_feedback, "monitor": run_monitor, "retrain": run_retrain, "promote": run_promote}
