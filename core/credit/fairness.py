"""Fairness of approve / decline decisions by sensitive group.

For each group: approval rate, observed default rate, the true positive rate (share of actual
defaulters the model declines) and the false positive rate (share of good applicants the model
declines), and the disparate-impact ratio: the group's approval rate over the highest group's.
The four-fifths rule (US EEOC guidance, widely used in lending reviews) flags a ratio below 0.8.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import DataValidationError

FOUR_FIFTHS = 0.8
# Age bands used when the sensitive column is a numeric age.
AGE_BINS = [-np.inf, 25, 35, 45, 55, 65, np.inf]
AGE_LABELS = ["under 25", "25-34", "35-44", "45-54", "55-64", "65+"]


def make_groups(values: pd.Series, *, max_groups: int = 12) -> pd.Series:
    """Group labels for a sensitive column: age bands for ages, quartiles for other numbers,
    the category itself otherwise (rare ones beyond ``max_groups`` pooled as 'other')."""
    s = pd.Series(values).reset_index(drop=True)
    numeric = pd.to_numeric(s, errors="coerce")
    is_numeric = s.notna().any() and numeric.notna().sum() == s.notna().sum()
    is_age = re.search(r"(^|[_ ])age([_ ]|$)", str(s.name).lower()) is not None
    if is_numeric and (is_age or s.nunique() > max_groups):
        if is_age:
            out = pd.cut(numeric, AGE_BINS, labels=AGE_LABELS, right=False).astype("object")
        else:
            out = pd.qcut(numeric, 4, duplicates="drop").astype(str).astype("object")
            out[numeric.isna()] = np.nan
    else:
        out = s.astype("object").map(lambda v: v if pd.isna(v) else str(v))
        top = out.value_counts().index[:max_groups]
        out = out.where(out.isin(top) | out.isna(), "other")
    return out.fillna("missing").astype(str)


def natural_group_key(name: str):
    """Groups in their natural order: age bands youngest first, number ranges by their lower end,
    other names alphabetically, then 'other' and 'missing' last."""
    name = str(name)
    if name in AGE_LABELS:
        return (0, AGE_LABELS.index(name), "")
    m = re.match(r"^[\(\[]\s*(-?[\d.]+(?:e[-+]?\d+)?)", name)
    if m:
        return (1, float(m.group(1)), name)
    if name in ("other", "missing"):
        return (3, ("other", "missing").index(name), name)
    return (2, 0, name.lower())


# Column names that often stand in for a protected attribute (ethnicity, nationality, religion)
# even when the attribute itself is left out: where people live, what they are called, speak.
PROXY_NAMES = re.compile(r"region|post.?code|zip|postal|district|neighbou?rhood|city|address|county|"
                         r"nationality|citizenship|language|religion|first.?name|surname|last.?name|ethnic",
                         re.IGNORECASE)
PROXY_ASSOCIATION = 0.3  # Cramér's V at or above which a feature is said to carry the attribute


def _cramers_v(a: pd.Series, b: pd.Series) -> float:
    """Bias-corrected Cramér's V between two categorical series (0 = independent, 1 = the same)."""
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    n = table.sum()
    if n == 0 or min(table.shape) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
    r, k = table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / max(n - 1, 1))
    rc, kc = r - (r - 1) ** 2 / max(n - 1, 1), k - (k - 1) ** 2 / max(n - 1, 1)
    denom = min(kc - 1, rc - 1)
    return float(np.sqrt(phi2 / denom)) if denom > 0 else 0.0


def _as_groups(s: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(s, errors="coerce")
    if s.notna().any() and numeric.notna().sum() == s.notna().sum() and s.nunique() > 12:
        return pd.qcut(numeric, 5, duplicates="drop").astype(str).where(numeric.notna(), "missing")
    return make_groups(s)


def find_proxy_features(df: pd.DataFrame, features: list[str], sensitive: list[str], *,
                        threshold: float = PROXY_ASSOCIATION) -> pd.DataFrame:
    """Model features that may stand in for a sensitive attribute.

    A feature is flagged when its association with a sensitive column (bias-corrected Cramér's V,
    numbers in quintiles) is at least ``threshold``, or when its name is one that often carries a
    protected attribute (region, postcode, nationality, language ...). Columns: feature,
    attribute, association, flagged, why; strongest first.
    """
    rows = []
    for f in features:
        if f not in df.columns:
            continue
        by_name = bool(PROXY_NAMES.search(str(f)))
        fg = _as_groups(df[f].reset_index(drop=True))
        best = (None, 0.0)
        for a in sensitive:
            if a not in df.columns or a == f:
                continue
            v = _cramers_v(fg, make_groups(df[a].reset_index(drop=True).rename(a)))
            if v > best[1]:
                best = (a, v)
        attr, v = best
        why = []
        if v >= threshold:
            why.append(f"strongly associated with {attr} (Cramér's V {v:.2f})")
        if by_name:
            why.append("its name suggests where a person lives or who they are, which can stand in for "
                       "ethnicity or nationality")
        rows.append({"feature": f, "attribute": attr, "association": round(v, 3), "flagged": bool(why),
                     "why": "; ".join(why)})
    out = pd.DataFrame(rows, columns=["feature", "attribute", "association", "flagged", "why"])
    return out.sort_values(["flagged", "association"], ascending=[False, False]).reset_index(drop=True)


def compute_fairness_table(y, p_default, groups, *, threshold: float) -> pd.DataFrame:
    """Per-group decision rates and the disparate-impact ratio, one row per group.

    Columns: group, count, default_rate, approval_rate, tpr, fpr, di_ratio, four_fifths
    ('pass' or 'FLAG'). The reference for the ratio is the group with the highest approval rate.
    """
    y = np.asarray(y).astype(int).ravel()
    p = np.asarray(p_default, dtype=float).ravel()
    g = pd.Series(groups).astype(str).to_numpy()
    if not len(y) == len(p) == len(g):
        raise DataValidationError(
            f"Outcomes, probabilities and groups must have the same length; got {len(y)}, "
            f"{len(p)} and {len(g)}. Fix: pass the sensitive column for the scored rows."
        )
    if len(y) == 0:
        raise DataValidationError(
            "Fairness needs scored applicants; got none. Fix: train a model first."
        )
    decline = p >= threshold
    rows = []
    for name in sorted(set(g), key=natural_group_key):
        m = g == name
        bad, good = m & (y == 1), m & (y == 0)
        rows.append({
            "group": name,
            "count": int(m.sum()),
            "default_rate": float(y[m].mean()),
            "approval_rate": float((~decline[m]).mean()),
            "tpr": float(decline[bad].sum() / bad.sum()) if bad.any() else float("nan"),
            "fpr": float(decline[good].sum() / good.sum()) if good.any() else float("nan"),
        })
    out = pd.DataFrame(rows)
    best = out["approval_rate"].max()
    out["di_ratio"] = out["approval_rate"] / best if best > 0 else float("nan")
    out["four_fifths"] = np.where(out["di_ratio"] < FOUR_FIFTHS, "FLAG", "pass")
    return out


def summarise_fairness(table: pd.DataFrame) -> str:
    """One sentence: which groups fail the four-fifths rule, or that none do."""
    flagged = table.loc[table["four_fifths"] == "FLAG", "group"].tolist()
    if not flagged:
        low = table["di_ratio"].min()
        return f"No group falls below the four-fifths rule (lowest disparate-impact ratio {low:.2f})."
    return (f"{len(flagged)} group(s) fall below the four-fifths rule (approval rate under 80 % of the "
            f"best group's): {', '.join(flagged)}.")


# The fairness table's columns as the page and the model card head them.
FAIRNESS_HEADERS = {"count": "Applicants", "default_rate": "Default rate", "approval_rate": "Approval rate",
                    "tpr": "Defaulters declined (TPR)", "fpr": "Good applicants declined (FPR)",
                    "di_ratio": "DI ratio", "four_fifths": "Four-fifths rule"}


def fairness_columns(run) -> list[str]:
    """The columns the fairness tab offers to group by: the sensitive ones first, then the other
    categorical columns of the test rows (at most 200 values)."""
    df, setup = run.test_df, run.setup
    others = [c for c in df.columns if c != setup.target and df[c].nunique() <= 200 and c not in setup.numeric]
    return list(dict.fromkeys([*setup.sensitive, *others, *[c for c in setup.sensitive if c in setup.numeric]]))


def proxy_features(run) -> list[str]:
    """The model's features the fairness check flags as possible stand-ins for a protected attribute."""
    found = find_proxy_features(run.train_df, list(run.setup.features), list(run.setup.sensitive))
    return [str(f) for f in found.loc[found["flagged"], "feature"]]


def fairness_section(run, threshold: float, *, proxies_out: bool = True) -> dict:
    """What a saved credit run keeps of the fairness tab: the table by group (at the decline threshold) for
    every sensitive attribute, the features flagged as possible proxies with why, and whether reason codes
    leave them out or mark them. Plain JSON for the model card."""
    from core.credit.reasons import PROXY_POLICIES

    y, p = np.asarray(run.y_test).astype(int), np.asarray(run.p_test, dtype=float)
    attributes = {}
    for attr in [c for c in run.setup.sensitive if c in run.test_df.columns]:
        table = compute_fairness_table(y, p, make_groups(run.test_df[attr].rename(attr)), threshold=threshold)
        attributes[str(attr)] = {"rows": [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                                           for k, v in r.items()} for r in table.to_dict("records")],
                                 "summary": summarise_fairness(table),
                                 "flagged": [str(g) for g in table.loc[table["four_fifths"] == "FLAG", "group"]]}
    found = find_proxy_features(run.train_df, list(run.setup.features), list(run.setup.sensitive))
    flagged = found[found["flagged"]]
    return {"threshold": float(threshold), "attributes": attributes,
            "proxies": [{"feature": str(r.feature), "attribute": None if r.attribute is None else str(r.attribute),
                         "why": str(r.why)} for r in flagged.itertuples()],
            "proxy_reasons": PROXY_POLICIES[bool(proxies_out)]}
