"""Results that must not be trusted, said so wherever the figure appears.

``core.ml.verdict`` says whether the network beats the best baseline. Some results should not be read
at all, whatever the verdict: a model no better than chance, worse than a rule without any model,
too good to be true (an input that gives the answer away), or a decision that acts on (almost)
everyone or no one, so that its money figure describes a blanket rule and not the model. Each
scenario's ``core/<name>/trust.py`` asks the checks below of its test figures and gets a ``Trust``:
a tuple of ``TrustFlag`` (kind, a short bold headline, one plain sentence of why and what to do).

The flags are saved with the run (``headline.trust`` of the workspace summary), so the Overview,
presenter mode, the Runs page and the model card show the words the scenario page showed; the CLI
puts them in its JSON ``verdict`` and on standard error. A run saved before the flags existed has
no ``trust`` and shows none (``Trust.from_saved`` gives None).

Thresholds (documented in the README; the scenario-specific ones live with each scenario):

- chance: the 95 % bootstrap interval of the network's own ROC-AUC holds 0.5 (demand: the
  network's error is not below the seasonal-naive forecast's outside the noise);
- degenerate decision: it acts on at least ``ALL_SHARE`` of the rows, leaving at most a tenth of
  the share it should leave alone, or on at most ``NONE_SHARE`` of them and at most a tenth of
  the positives' share (so a fraud policy alerting on 0.4 % of a log with 0.2 % fraud is fine);
- worse than a blanket rule: the decision's money at its threshold is below approving / declining
  everyone (credit), reviewing no / every transaction (fraud), passing / rejecting every part.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Mapping

KINDS = ("chance", "below_baseline", "below_blanket", "too_good", "degenerate")
NO_BETTER_THAN_CHANCE = "No better than chance"
WORSE_THAN_CHANCE = "Worse than chance"
TOO_GOOD = "Too good to be true — check for leakage"
ALL_SHARE = 0.95  # a decision acting on at least this share of rows acts on (almost) everyone
NONE_SHARE = 0.005  # ... and on at most this share, on (almost) no one


@dataclass(frozen=True)
class TrustFlag:
    """One reason not to trust a result: ``kind`` (one of ``KINDS``), a short headline shown in
    bold, and one plain sentence of why and what to do. ``first_try`` flags are warnings about a
    plain training; a search the analyst ran deliberately drops them (``Trust.after_search``)."""

    kind: str
    headline: str
    why: str
    first_try: bool = False

    def text(self) -> str:
        """Plain text: ``"No better than chance: The network's ROC-AUC is ..."``."""
        return f"{self.headline}: {self.why}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> "TrustFlag | None":
        """A saved flag, or None when it is not one (saved by another version, damaged)."""
        if not isinstance(d, Mapping) or not all(isinstance(d.get(k), str) and d.get(k) for k in
                                                  ("kind", "headline", "why")):
            return None
        return cls(str(d["kind"]), str(d["headline"]), str(d["why"]), bool(d.get("first_try", False)))


@dataclass(frozen=True)
class Trust:
    """The flags of one result, in the order of ``KINDS``; no flag means nothing found to distrust."""

    flags: tuple[TrustFlag, ...] = ()

    @classmethod
    def of(cls, *flags: TrustFlag | None) -> "Trust":
        found = [f for f in flags if f is not None]
        return cls(tuple(sorted(found, key=lambda f: KINDS.index(f.kind) if f.kind in KINDS else len(KINDS))))

    @classmethod
    def from_saved(cls, saved) -> "Trust | None":
        """The flags saved with a run; None for a run saved without them (nothing was checked)."""
        if not isinstance(saved, (list, tuple)):
            return None
        return cls.of(*(TrustFlag.from_dict(d) for d in saved))

    @property
    def trusted(self) -> bool:
        return not self.flags

    def headlines(self) -> list[str]:
        return [f.headline for f in self.flags]

    def summary(self) -> str:
        """The headlines on one line (``""`` when there is none): a list or table cell."""
        return " · ".join(self.headlines())

    def notices(self) -> list[str]:
        """One line per flag for standard error."""
        return [f"Warning — {f.text()}" for f in self.flags]

    def after_search(self) -> "Trust":
        """The flags that still hold when the analyst searched the settings on purpose."""
        return Trust(tuple(f for f in self.flags if not f.first_try))

    def to_list(self) -> list[dict]:
        return [f.to_dict() for f in self.flags]


def verdict_json(verdict, trust: Trust, *, model: str = "The network", fmt: str = ".3f", more=()) -> dict:
    """The CLI's top-level ``verdict``: the page's verdict against the best baseline (outcome,
    difference and its interval, the sentence) and the trust flags. ``more``: further verdicts the
    page shows (quality's error rate beside its defect ROC-AUC)."""
    def one(v) -> dict:
        return {**v.to_dict(), "sentence": v.sentence(model, fmt=fmt)}

    out = one(verdict) if verdict is not None else {"outcome": None}
    out["trusted"] = trust.trusted
    out["trust"] = trust.to_list()
    if more:
        out["more"] = [one(v) for v in more]
    return out


# ---------------------------------------------------------------- the checks
def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def mid_sentence(name: str) -> str:
    """A baseline's display name inside a sentence: "Majority class" reads "majority class"; a name
    that starts with an acronym ("ARIMA", "HGB") or a brand keeps its capitals."""
    name = str(name)
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def money_in(unit: str) -> Callable[[float], str]:
    """Money as the saved headline writes it (``-€1,234``), in ``unit`` (a symbol such as "€")."""
    from core.report.runsummary import format_figure, money_figure

    return lambda v: format_figure(money_figure("", v, unit) | ({"fmt": ",.0f"} if v == 0 else {}))


def share_text(share: float) -> str:
    """A share as "99.8 %", with two decimals close to 0 or 100 % so "0.04 %" is not "0.0 %"."""
    v = 100.0 * float(share)
    return f"{v:.2f} %" if (0 < v < 0.1 or 99.9 < v < 100) else f"{v:.1f} %"


def check_chance(value: float, low: float, high: float, *, metric: str = "ROC-AUC", chance: float = 0.5,
                 model: str = "The network") -> TrustFlag | None:
    """No better than chance: the interval of the model's own ranking metric holds ``chance``
    (worse than chance when the whole interval is below it)."""
    if not _finite(value, low, high) or low > chance:
        return None
    if high < chance:
        return TrustFlag("chance", WORSE_THAN_CHANCE,
                         f"{model}'s {metric} is {value:.3f}, and its 95 % interval ({low:.3f} to {high:.3f}) lies "
                         f"below {chance:g}, what random scores get: it ranks the cases the wrong way round. Check "
                         "which value of the target means the positive outcome, then train again.")
    return TrustFlag("chance", NO_BETTER_THAN_CHANCE,
                     f"{model}'s {metric} is {value:.3f}, and its 95 % interval ({low:.3f} to {high:.3f}) holds "
                     f"{chance:g}, what random scores get: the figures say nothing about this model. Check that the "
                     "target is the right column and that the inputs can carry information about it.")


LEAK_CAUSE = ("an input probably gives the answer away (recorded after the outcome, derived from it, or a copy "
              "of it). Check the inputs for leakage before using these figures.")


def check_too_good(value: float, limit: float, *, metric: str, usual: str, higher_is_better: bool = True,
                   fmt: str = ".3f", model: str = "The network", cause: str = LEAK_CAUSE,
                   first_try: bool = False) -> TrustFlag | None:
    """Too good to be true: past ``limit`` (at or above, or at or below for an error), beyond what
    ``usual`` says this kind of data allows; ``cause``: what most often explains it and what to check."""
    if not _finite(value) or (value < limit if higher_is_better else value > limit):
        return None
    return TrustFlag("too_good", TOO_GOOD,
                     f"{model}'s {metric} of {value:{fmt}} is {'at or above' if higher_is_better else 'at or below'} "
                     f"{limit:{fmt}}, beyond what this kind of data allows ({usual}): {cause}", first_try)


def check_degenerate(share: float, prevalence: float, *, verb: str, rows: str, at: str) -> TrustFlag | None:
    """A decision that ``verb`` (declines, alerts on, rejects) (almost) all or no ``rows``: at
    least ``ALL_SHARE`` of them leaving at most a tenth of the rest's share, or at most
    ``NONE_SHARE`` and at most a tenth of the positives' share ``prevalence``."""
    if not _finite(share, prevalence):
        return None
    # Rows of one outcome only leave nothing to tell apart on that side: acting on none of them is no flaw.
    if share >= ALL_SHARE and 1 - share <= (1 - prevalence) / 10 and prevalence < 1:
        amount = "almost all"
    elif share <= NONE_SHARE and share <= prevalence / 10 and prevalence > 0:
        amount = "almost no"
    else:
        return None
    return TrustFlag("degenerate", f"{verb[:1].upper()}{verb[1:]} {share_text(share)} of {rows}",
                     f"At {at} the decision {verb} {amount} {rows}, so its money figures describe a blanket rule, "
                     "not this model. Check the costs (they set where the line falls) and the model's quality "
                     "before using them.")


def check_blanket(value: float, blankets: Mapping[str, float], *, measure: str, at: str,
                  money: Callable[[float], str], higher_is_better: bool = True) -> TrustFlag | None:
    """The decision's money ``value`` at its threshold (``measure``: "expected profit", "cost per
    part") is worse than the best blanket rule's (``blankets``: rule in words -> its money)."""
    options = {k: float(v) for k, v in blankets.items() if _finite(v)}
    if not _finite(value) or not options:
        return None
    pick = max if higher_is_better else min
    rule = pick(options, key=options.get)
    best = options[rule]
    gap = (best - value) if higher_is_better else (value - best)
    if gap <= 1e-9 * max(1.0, abs(best)):
        return None
    rule = mid_sentence(rule)
    return TrustFlag("below_blanket", f"Worse than {rule}",
                     f"At {at} the decision's {measure} is {money(value)}, against {money(best)} for {rule}: a "
                     "rule without any model does better. Use the optimal threshold, or check the costs and the "
                     "model.")


def check_below_baseline(verdict, *, headline: str, advice: str, model: str = "The network",
                         fmt: str = ".3f") -> TrustFlag | None:
    """A lower-is-better verdict (``core.ml.verdict.Verdict``) against a rule that needs no model
    (majority class, naive forecast) that the network loses outside the noise."""
    if verdict is None or verdict.outcome != "worse":
        return None
    return TrustFlag("below_baseline", headline,
                     f"{model}'s {verdict.metric} is {verdict.value:{fmt}} against {verdict.baseline_value:{fmt}} "
                     f"for {mid_sentence(verdict.baseline)}, worse outside the noise (95 % interval of the difference "
                     f"{verdict.low:+{fmt}} to {verdict.high:+{fmt}}): {advice}")
