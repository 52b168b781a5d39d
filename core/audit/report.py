"""What the leakage audit found and did: one ``Finding`` per suspected column, gathered in a ``LeakAudit``.

Both are plain data: the page shows them, the CLI prints ``notices()`` on standard error and puts
``to_dict()`` in its JSON (``"leakage"``), and a saved run keeps ``to_dict()`` in its data fingerprint
(``workspace.dataset.leakage``), where the model card's data section reads it.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field

# What happened to a suspected column.
LEFT_OUT = "left_out"  # not a model input (credit, fraud)
PAST_ONLY = "past_only"  # demand: enters only through its past values (lagged), never its same-period value
KEPT = "kept"  # the analyst kept it as it was (--keep-column, or the page's keep control)
NOT_INPUT = "not_an_input"  # an identifier that encodes the outcome; identifiers are never inputs anyway
MAPPED = "kept_mapped"  # a column the analyst mapped to a role (fraud: the amount): kept, with a warning

ACTION_WORDS = {LEFT_OUT: "left out", PAST_ONLY: "past values only", KEPT: "kept at your request",
                NOT_INPUT: "not a model input (identifier)", MAPPED: "kept: you mapped it (check it)"}


@dataclass(frozen=True)
class Finding:
    """One suspected column: the evidence in words, the measured figure behind it and the action taken.

    ``kind`` says which rule fired: ``separates`` (ROC-AUC alone), ``name`` (recorded after the outcome),
    ``id`` (an identifier's part gives the class), ``sum`` / ``fit`` (covariates reconstruct the quantity),
    ``observed`` (measured with the quantity, not planned ahead)."""

    column: str
    kind: str
    evidence: str
    action: str
    score: float | None = None
    together: tuple[str, ...] = ()  # the other columns of the set the evidence is about (sum / fit)
    role: str = ""  # the role the analyst mapped the column to (action ``kept_mapped``), e.g. "amount"

    def to_dict(self) -> dict:
        out = {"column": self.column, "kind": self.kind, "evidence": self.evidence, "action": self.action,
               "score": None if self.score is None else round(float(self.score), 4),
               "together": list(self.together)}
        if self.role:
            out["role"] = self.role
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        return cls(str(d["column"]), str(d.get("kind", "")), str(d.get("evidence", "")), str(d.get("action", "")),
                   d.get("score"), tuple(d.get("together") or ()), str(d.get("role") or ""))

    def mapped_warning(self) -> str:
        """The warning for a mapped column the audit suspects (kept: the analyst said what it is)."""
        alone = ", almost perfectly on its own" if self.kind == "separates" else ""
        return (f"Check the {self.role} column: {self.evidence}{alone}. Make sure it is not "
                f"recorded after the outcome (a refund, a chargeback, an amount corrected once the case was known): "
                f"if it is, the model's figures are far better than they will be on new cases. It stays a model "
                f"input because it is mapped as the {self.role}.")


@dataclass
class LeakAudit:
    """The audit of one training set: every suspected column and the rows it was measured on.

    ``roles`` (demand only) gives every covariate's role and why, suspected or not."""

    rows: int
    checked: list[str]
    findings: list[Finding] = field(default_factory=list)
    roles: list[dict] = field(default_factory=list)
    note: str = ""  # how the rows were chosen, e.g. "a seeded sample of 200,000 of 1,200,000 training rows"

    @property
    def left_out(self) -> list[str]:
        """Columns that are no longer inputs (credit, fraud) or no longer same-period inputs (demand)."""
        return [f.column for f in self.findings if f.action in (LEFT_OUT, PAST_ONLY)]

    @property
    def kept(self) -> list[str]:
        return [f.column for f in self.findings if f.action == KEPT]

    @property
    def suspects(self) -> list[str]:
        """Suspected columns the analyst can keep (identifiers are not inputs either way, mapped columns stay)."""
        return [f.column for f in self.findings if f.action not in (NOT_INPUT, MAPPED)]

    def warnings(self) -> list[str]:
        """One warning per suspected column that stays an input because the analyst mapped it to a role."""
        return [f.mapped_warning() for f in self.findings if f.action == MAPPED]

    def notices(self) -> list[str]:
        """One plain sentence per piece of evidence (columns that sum together share one), e.g.
        "Possible leak, left out: 'x' alone separates default at ROC-AUC 0.999 on 750 training rows. ..."."""
        groups: dict[tuple[str, str], list[str]] = {}
        for f in self.findings:
            if f.action != MAPPED:  # said by warnings()
                groups.setdefault((f.evidence, f.action), []).append(f.column)
        out = []
        for (evidence, action), cols in groups.items():
            flags = " ".join(f"--keep-column {shlex.quote(c)}" for c in cols)
            if action == KEPT:
                out.append(f"Possible leak kept at your request: {evidence}. The model's figures may look better "
                           "than they will be on new data.")
            elif action == PAST_ONLY:
                out.append(f"Not a same-period input, used through its past values only: {evidence}. To read "
                           f"{'it' if len(cols) == 1 else 'them'} for the forecast period anyway, pass {flags} "
                           "(or tick it on the page).")
            elif action == NOT_INPUT:
                out.append(f"Identifier that encodes the outcome (not a model input): {evidence}. The file may "
                           "have been put together from separate extracts per outcome; check that the other "
                           "columns were recorded the same way for every row.")
            else:
                out.append(f"Possible leak, left out: {evidence}. If it is known before the outcome, keep it with "
                           f"{flags} (or one click on the page).")
        return [*out, *self.warnings()]

    def to_dict(self) -> dict:
        """The machine-readable audit: rows measured, columns checked, and per finding column, evidence, action."""
        out = {"rows": int(self.rows), "checked": list(self.checked),
               "findings": [f.to_dict() for f in self.findings]}
        if self.roles:
            out["roles"] = [dict(r) for r in self.roles]
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, d: dict | None) -> "LeakAudit | None":
        if not isinstance(d, dict):
            return None
        return cls(int(d.get("rows") or 0), list(d.get("checked") or []),
                   [Finding.from_dict(f) for f in d.get("findings") or [] if isinstance(f, dict)],
                   [dict(r) for r in d.get("roles") or [] if isinstance(r, dict)], str(d.get("note") or ""))


def add_keep_argument(parser: argparse.ArgumentParser, *, demand: bool = False) -> None:
    """``--keep-column NAME`` (repeatable): keep a column the leakage audit would leave out; demand also
    gets ``--lag-column NAME``: use a covariate through its past values only although the audit did not flag it."""
    g = parser.add_argument_group("leakage audit")
    what = ("use a covariate the leakage audit flags (it reconstructs the quantity or is observed with it) as a "
            "same-period input anyway" if demand else
            "keep a column the leakage audit leaves out (it separates the outcome almost perfectly alone, is "
            "named like something recorded after the outcome, or is an id that encodes it)")
    g.add_argument("--keep-column", action="append", default=[], metavar="NAME", help=what + "; repeatable")
    if demand:
        g.add_argument("--lag-column", action="append", default=[], metavar="NAME",
                       help="use this covariate through its past values only (observed with the quantity, e.g. "
                            "footfall or measured weather), as the audit does with the columns it flags; repeatable")


def keep_list(args, name: str = "keep_column") -> tuple[str, ...]:
    """The repeated flag's values, commas also accepted (``--keep-column a,b``)."""
    values = getattr(args, name, None) or []
    return tuple(dict.fromkeys(v.strip() for item in values for v in str(item).split(",") if v.strip()))
