"""``python -m core report --model RUN [--format html|pdf] [--out FILE]``: a saved run's model card.

The same card the Runs page hands out (``build_report_html``, and ``build_report_pdf`` made from it),
written atomically to ``--out`` (default ``model-card-<run id>.html`` or ``.pdf`` in the current
folder). Without ``--format`` the format follows ``--out``'s extension, else HTML. Prints where the
card went, its size and SHA-256, and the run's headline figures the card opens with; a run whose figures
must not be trusted gets the card's warning as ``Warning — ...`` lines on standard error.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from core.errors import DataValidationError

FORMATS = ("html", "pdf")
SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core report",
                                description="Write a saved run's model card (HTML or PDF), as the Runs page does.")
    p.add_argument("--model", required=True, help="a saved run folder (the one holding metadata.json, "
                   "e.g. runs/credit-1 from train --save)")
    p.add_argument("--format", default=None, metavar="html|pdf",
                   help="html: self-contained, interactive charts, opens offline; pdf: the same sections, figures "
                        "and tables for filing or printing (default: from --out's extension, else html)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="where to write the card (default: model-card-<run id>.html or .pdf in this folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def resolve_format(fmt: str | None, out: str | None) -> str:
    """The card's format from ``--format`` and ``--out``: they must agree when both name one."""
    implied = SUFFIXES.get(Path(out).suffix.lower()) if out else None
    if fmt is None:
        return implied or "html"
    chosen = str(fmt).strip().lower().lstrip(".")
    if chosen not in FORMATS:
        raise DataValidationError(f"Expected --format html or pdf; got '{fmt}'. Fix: pass --format pdf for a PDF "
                                  "card or --format html (the default) for the interactive one.")
    if implied is not None and implied != chosen:
        raise DataValidationError(f"--format {chosen} writes a {chosen.upper()} card, but --out '{out}' names a "
                                  f"{implied.upper()} file. Expected the two to agree. Fix: end --out in .{chosen}, "
                                  "or leave out --format.")
    return chosen


def check_run_folder(model: str) -> Path:
    """``model`` as a saved run's folder; a missing folder or one that holds no run says so."""
    run_dir = Path(model)
    if not run_dir.exists():
        raise DataValidationError(
            f"No saved run at '{model}': that folder does not exist. Expected the folder of a saved run (the one "
            "holding metadata.json, e.g. runs/credit-1 from train --save DIR). Fix: check the path; the Runs "
            "page lists the saved runs and their folders.")
    if not run_dir.is_dir() or not (run_dir / "metadata.json").is_file():
        raise DataValidationError(
            f"'{model}' is not a saved run: expected a folder holding metadata.json; got "
            f"{'a file' if not run_dir.is_dir() else 'a folder without it'}. Fix: pass the run's own folder "
            "(e.g. runs/credit-1), not the runs folder above it or a file inside it.")
    return run_dir


def run_report(args) -> dict:
    """Write the model card of ``args.model``; return where it went and the headline figures it shows."""
    from core.present.console import say
    from core.store.registry import read_metadata, write_atomic
    from core.report.trust import Trust
    from core.workspace.report import get_report_filename, strip_secrets
    from core.workspace.runs import format_figure, get_headline, get_run_name

    fmt = resolve_format(args.format, args.out)
    run_dir = check_run_folder(args.model)
    meta = strip_secrets(read_metadata(run_dir))  # a damaged or incompatible run says so here
    if fmt == "pdf":
        from core.workspace.pdf import build_report_pdf, get_pdf_filename

        data: bytes = build_report_pdf(run_dir)
        default = get_pdf_filename(meta)
    else:
        from core.workspace.report import build_report_html

        data = build_report_html(run_dir).encode("utf-8")
        default = get_report_filename(meta)
    out = Path(args.out) if args.out else Path(default)
    write_atomic(out, data, what=f"Writing the {fmt.upper()} model card")
    head = get_headline(meta)
    figures = {str(f.get("label", "?")): format_figure(f) for f in head["quality"] + head["impact"]
               if isinstance(f, dict)}
    result = {"out": str(out), "format": fmt, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "run_id": meta.get("run_id", run_dir.name), "name": get_run_name(meta),
              "scenario": meta.get("scenario"), "headline": figures}
    trust = Trust.from_saved(head.get("trust"))
    if trust is not None:  # the card opens with the same warning; the figures printed here carry it too
        for line in trust.notices():
            say(line)
        result["trusted"] = trust.trusted
        result["trust"] = trust.to_list()
    return result
