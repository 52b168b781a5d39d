"""Joining a second file of known-in-advance covariates (per store and date, say) onto sales history.

The join keys are the covariates file's columns that the sales file also has and that are its date
column or one of its series columns (``Store`` + ``Date`` for a file of store-level covariates). A
column that is in both files but is not a key (a holiday flag, typically) is kept once when both
files agree, and kept from both (the covariates file's copy renamed) when they do not. Covariates
with many blanks (promotional markdowns that were not running) are filled with 0; covariates with a
few blanks (an index published late) are carried forward within each key group. The covariates
file usually runs past the sales history: those rows are the covariates of the forecast horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MOSTLY_BLANK = 0.2  # share of blank values above which a covariate's blanks mean "none" (filled with 0)


@dataclass
class CovariateJoin:
    """Sales rows with the covariates joined, the covariate rows past the sales, and what happened."""

    frame: pd.DataFrame  # the sales rows (same order) with the covariate columns added
    table: pd.DataFrame  # every covariate row, blanks filled, keys in the sales file's form (horizon lookup)
    keys: tuple[str, ...]  # join keys, date column first
    joined: tuple[str, ...]  # covariate columns added to the sales rows
    unmatched_rows: int  # sales rows with no covariate row
    sales_rows: int
    last_covariate_date: pd.Timestamp
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence for the page and the CLI: which columns joined on which keys, what did not match."""
        matched = self.sales_rows - self.unmatched_rows
        text = (f"Joined {len(self.joined)} covariate column(s) ({', '.join(self.joined)}) on "
                f"{' + '.join(self.keys)}: {matched:,} of {self.sales_rows:,} sales rows matched, "
                f"{self.unmatched_rows:,} did not")
        return text + (" (their covariates come from the same series' nearest matched period, or are the "
                       "median where a series has none)." if self.unmatched_rows else ".")

    def to_dict(self) -> dict:
        return {"keys": list(self.keys), "joined": list(self.joined), "sales_rows": self.sales_rows,
                "unmatched_rows": self.unmatched_rows, "covariate_rows": int(len(self.table)),
                "last_covariate_date": str(self.last_covariate_date.date()), "notices": list(self.notices)}


def _dates(s: pd.Series, col: str, what: str) -> pd.Series:
    from core.data.datasets import parse_datetimes

    # Mixed time zones and years pandas cannot hold (9999) must not escape as exceptions.
    parsed = parse_datetimes(s if pd.api.types.is_datetime64_any_dtype(s) else s.astype(str).str.strip(),
                             formats=("mixed",), local=True)
    if parsed.notna().mean() < 0.95:
        from core.data.safety import short_list

        bad = short_list(s[parsed.isna()].astype(str).unique(), limit=3)
        raise DataValidationError(
            f"Date column '{col}' of the {what} must hold dates; {int(parsed.isna().sum())} of {len(s)} "
            f"could not be read (e.g. {bad}). Write dates as YYYY-MM-DD in both files.")
    return parsed.dt.normalize()


def _key(s: pd.Series) -> pd.Series:
    """Key values comparable across files: numbers as numbers (1 == 1.0 == '1'), else stripped text."""
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().all():
        return num.astype(float).astype(str)
    return s.astype(str).str.strip()


def _numeric(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    low = s.astype(str).str.strip().str.lower()
    if low.isin(["true", "false", "nan", ""]).all() and low.isin(["true", "false"]).any():
        return low.map({"true": 1.0, "false": 0.0})
    num = pd.to_numeric(s, errors="coerce")
    return num.astype(float) if num.notna().sum() >= 0.5 * s.notna().sum() and s.notna().any() else None


def join_covariates(sales: pd.DataFrame, covariates: pd.DataFrame, *, date_col: str,
                    series_cols: Sequence[str] = ()) -> CovariateJoin:
    """Left-join ``covariates`` onto ``sales`` on the shared date / series columns (see module doc)."""
    if covariates is None or len(covariates) == 0:
        raise DataValidationError("The covariates file is empty; expected rows of date (and store) with "
                                  "covariate values. Upload a file with data or remove it.")
    if date_col not in covariates.columns:
        raise DataValidationError(
            f"The covariates file must have the sales file's date column '{date_col}' to join on; it has "
            f"columns {list(covariates.columns)}. Rename its date column to '{date_col}'.")
    keys = [date_col] + [c for c in series_cols if c in covariates.columns]
    notices: list[str] = []
    cov = covariates.copy()
    cov[date_col] = _dates(cov[date_col], date_col, "covariates file")
    left = pd.DataFrame({date_col: _dates(sales[date_col], date_col, "sales file")}, index=sales.index)
    for k in keys[1:]:
        left[k] = _key(sales[k])
        cov[k] = _key(cov[k])

    values, skipped, duplicates = [], [], {}
    for c in cov.columns:
        if c in keys:
            continue
        num = _numeric(cov[c])
        if num is None:
            skipped.append(c)
            continue
        cov[c] = num
        values.append(c)
    if skipped:
        notices.append(f"Covariate column(s) {skipped} are not numeric and were not joined; encode them as "
                       "numbers (e.g. 0/1) to use them.")
    if not values:
        raise DataValidationError(
            f"The covariates file has no numeric columns besides the keys {keys}; got columns "
            f"{list(covariates.columns)}. Add numeric covariates (temperature, price, 0/1 flags).")

    dup = int(cov.duplicated(keys).sum())
    if dup:
        cov = cov.groupby(keys, as_index=False, sort=False)[values].mean()
        notices.append(f"{dup:,} covariate rows repeat a {' + '.join(keys)} combination: their values were averaged.")
    cov = cov[keys + values].sort_values(keys[1:] + [date_col]).reset_index(drop=True)

    # Blanks: "mostly blank" means the thing was not happening (no markdown that week) -> 0;
    # a few blanks are a gap in a slow-moving series (an index published late) -> carry forward.
    zero_filled, carried = [], []
    group = cov.groupby(keys[1:], sort=False) if len(keys) > 1 else None
    for c in values:
        share = float(cov[c].isna().mean())
        if share == 0:
            continue
        if share > MOSTLY_BLANK:
            cov[c] = cov[c].fillna(0.0)
            zero_filled.append(f"{c} ({share:.0%})")
        else:
            filled = (group[c].transform(lambda s: s.ffill().bfill()) if group is not None
                      else cov[c].ffill().bfill())
            carried.append(f"{c} ({int(cov[c].isna().sum()):,})")
            cov[c] = filled.fillna(0.0)
    if zero_filled:
        notices.append(f"Mostly blank covariates filled with 0 (blank share): {', '.join(zero_filled)}. "
                       "A blank there is read as 'none that week' (no markdown, no promotion).")
    if carried:
        notices.append(f"Blank covariate values carried forward from the previous date of the same "
                       f"{' + '.join(keys[1:]) or 'file'}: {', '.join(carried)}.")

    # Columns in both files that are not keys: keep once when they agree, else keep both.
    right = cov.rename(columns={c: f"__cov_{c}" for c in values})
    merged = left.reset_index().merge(right, on=keys, how="left", indicator=True).set_index("index")
    merged = merged.loc[sales.index]
    matched = merged["_merge"] == "both"
    unmatched = int((~matched).sum())
    if matched.sum() == 0:
        ex_s = sales[keys].head(2).astype(str).to_dict("records")
        ex_c = covariates[keys].head(2).astype(str).to_dict("records")
        raise DataValidationError(
            f"No sales row matched a covariates row on {' + '.join(keys)}; sales keys look like {ex_s}, "
            f"covariates keys like {ex_c}. Make the dates (same weekday for weekly data) and "
            "the store codes the same in both files.")
    out = sales.copy()
    joined, renames = [], {}
    for c in values:
        col = merged[f"__cov_{c}"]
        if c in sales.columns:
            mine = _numeric(sales[c])
            agree = float((np.isclose(mine[matched], col[matched])).mean()) if mine is not None else 0.0
            if agree >= 0.99:
                duplicates[c] = "kept once"
                renames[c] = c  # the sales rows keep theirs; the horizon still reads the file's values
                notices.append(f"'{c}' is in both files and agrees on {agree:.1%} of the matched rows: kept once.")
                continue
            name = f"{c}_covariates"
            duplicates[c] = f"kept both, the covariates file's as '{name}'"
            notices.append(f"'{c}' is in both files but agrees on only {agree:.1%} of the matched rows: the "
                           f"sales file's is kept as '{c}', the covariates file's as '{name}'.")
        else:
            name = c
        out[name] = col.to_numpy()
        joined.append(name)
        renames[c] = name
    table = cov[keys + list(renames)].rename(columns=renames)
    for k in keys[1:]:  # keys back in the sales file's form, so series ids built from them match
        table[k] = table[k].map(dict(zip(_key(sales[k]), sales[k])))
    table = table[table[keys[1:]].notna().all(axis=1)] if len(keys) > 1 else table
    if unmatched:
        notices.append(f"{unmatched:,} of {len(sales):,} sales rows had no covariates row for their "
                       f"{' + '.join(keys)}.")
        out = _fill_unmatched(out, joined, sales, series_cols, date_col, notices)
    out.attrs["source_sha256"] = sales.attrs.get("source_sha256")  # the sales file's: the rows trained on
    return CovariateJoin(out, table.reset_index(drop=True), tuple(keys), tuple(joined), unmatched, len(sales),
                         cov[date_col].max(), notices)


def _fill_unmatched(out: pd.DataFrame, joined: list[str], sales: pd.DataFrame, series_cols: Sequence[str],
                    date_col: str, notices: list[str]) -> pd.DataFrame:
    """Covariates of unmatched sales rows: the same series' nearest matched period, else the median."""
    from core.data.datasets import parse_datetimes

    order = parse_datetimes(sales[date_col].astype(str), formats=("mixed",), local=True)
    work = out.assign(__order=order).sort_values("__order", kind="stable")
    if series_cols:
        g = work.groupby(list(series_cols), sort=False)[joined]
        work[joined] = g.ffill()
        work[joined] = work.groupby(list(series_cols), sort=False)[joined].bfill()
    else:
        work[joined] = work[joined].ffill().bfill()
    left = work[joined].isna().any(axis=1)
    if left.any():
        none = work.loc[left, list(series_cols)].drop_duplicates() if series_cols else work.iloc[:1]
        work[joined] = work[joined].fillna(work[joined].median())
        example = ", ".join(" / ".join(str(v) for v in r) for r in none.head(3).itertuples(index=False))
        notices.append(f"{len(none):,} series have no covariates at all (e.g. {example}): their covariates are "
                       "set to the median over the file. Add their rows to the covariates file.")
    return work.drop(columns="__order").loc[out.index]


def horizon_covariates(join: CovariateJoin, series_cols: Sequence[str], data) -> pd.DataFrame:
    """Covariates per series id and date (the ``SalesData`` form) from the joined file's rows, for the
    periods after each series' history: what ``train_demand`` reads for the forecast horizon."""
    from core.demand.data import SERIES_COL, _snap, series_ids

    date_col = join.keys[0]
    covs = [c for c in join.table.columns if c not in join.keys and c in data.covariates]
    combos = join.frame[list(series_cols)].drop_duplicates() if series_cols else pd.DataFrame(index=[0])
    combos = combos.assign(**{SERIES_COL: series_ids(combos, series_cols).to_numpy()})
    on = list(join.keys[1:])
    rows = combos.merge(join.table, on=on, how="inner") if on else combos.merge(join.table, how="cross")
    out = pd.DataFrame({SERIES_COL: rows[SERIES_COL].to_numpy(),
                        "date": _snap(pd.to_datetime(rows[date_col]), data.frequency, data.freq).to_numpy()})
    for c in covs:
        out[c] = rows[c].to_numpy(dtype=float)
    last = data.frame.groupby(SERIES_COL, sort=False)["date"].max()
    out = out[out["date"] > out[SERIES_COL].map(last)]
    return out.drop_duplicates([SERIES_COL, "date"]).reset_index(drop=True)
