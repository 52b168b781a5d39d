"""Loading and validating sales history: columns, frequency, duplicates, gaps, negatives.

Everything the loader changes is written into a ``DataReport`` so the planner sees exactly what
was done to the data before any model saw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list

SERIES_COL = "series"
# Seasonal period used by seasonal naive, MASE and the input window, per detected frequency.
SEASON = {"daily": 7, "weekly": 52, "monthly": 12}
GAP_FILLS = ("interpolate", "zero")


@dataclass(frozen=True)
class ColumnMap:
    """Which columns hold the date, the quantity, the series identifiers and the covariates.

    ``covariates=None`` means every other numeric column (known in advance, e.g. price, promo).
    ``lagged`` are covariates observed with the quantity (the leakage audit, ``core.demand.leakage``):
    the network reads only their past values, never their value for the period it forecasts.
    """

    date: str
    target: str
    series: tuple[str, ...] = ()
    covariates: tuple[str, ...] | None = None
    lagged: tuple[str, ...] = ()


@dataclass
class DataReport:
    """What was found in the data and what the loader did about it."""

    frequency: str = ""
    n_series: int = 0
    n_rows: int = 0
    start: str = ""
    end: str = ""
    issues: list[dict] = field(default_factory=list)  # {"issue", "count", "action"}
    leakage: dict | None = None  # the leakage audit of the covariates (core.audit.LeakAudit.to_dict())

    def add(self, issue: str, count: int, action: str) -> None:
        if count:
            self.issues.append({"issue": issue, "count": int(count), "action": action})

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.issues, columns=["issue", "count", "action"])


@dataclass
class SalesData:
    """Clean, regular sales history: one row per series and period, no gaps, no duplicates.

    ``frame`` has columns ``series`` (str), ``date`` (Timestamp), ``y`` (float >= 0) and the
    covariates (float). Rows are sorted by series, then date.
    """

    frame: pd.DataFrame
    frequency: str  # "daily" | "weekly" | "monthly"
    freq: str  # pandas offset alias used to extend dates into the future
    season: int
    covariates: list[str]
    binary_covariates: list[str]
    columns: ColumnMap
    report: DataReport

    @property
    def series_ids(self) -> list[str]:
        return list(dict.fromkeys(self.frame[SERIES_COL]))

    def series(self, sid: str) -> pd.DataFrame:
        """One series' rows (date-sorted)."""
        return self.frame[self.frame[SERIES_COL] == sid]

    def lengths(self) -> pd.Series:
        return self.frame.groupby(SERIES_COL, sort=False).size()


def _require_columns(df: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{what} column(s) {short_list(missing)} not found; the file has columns {short_list(df.columns, limit=30)}. "
            "Pick columns that exist in the file."
        )


def detect_frequency(dates: pd.Series, series: pd.Series) -> tuple[str, str]:
    """Return (label, pandas alias) from the typical spacing of dates within each series."""
    d = pd.DataFrame({"s": series.to_numpy(), "d": dates.to_numpy()}).drop_duplicates()
    d = d.sort_values(["s", "d"])
    step = d.groupby("s")["d"].diff().dt.days.dropna()
    step = step[step > 0]
    if step.empty:
        raise DataValidationError(
            "Could not detect the frequency: every series has a single date. Expected daily, weekly "
            "or monthly history with at least two dates per series; check the date column."
        )
    typical = float(step.median())
    if typical == 1:
        return "daily", "D"
    if 6 <= typical <= 8:
        weekday = pd.Series(pd.DatetimeIndex(d["d"]).day_name().str[:3].str.upper()).mode()[0]
        return "weekly", f"W-{weekday}"
    if 28 <= typical <= 31:
        return "monthly", "MS"
    raise DataValidationError(
        f"Dates are typically {typical:g} days apart; expected daily (1), weekly (7) or monthly "
        "(28-31). Aggregate the data to one of these frequencies before uploading."
    )


def _snap(dates: pd.Series, frequency: str, freq: str) -> pd.Series:
    """Put every date on the frequency's grid (month start, the week's anchor day)."""
    if frequency == "monthly":
        return dates.dt.to_period("M").dt.to_timestamp()
    if frequency == "weekly":
        anchor = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"].index(freq[2:])
        shift = (anchor - dates.dt.day_of_week) % 7
        return (dates + pd.to_timedelta(shift, unit="D")).dt.normalize()
    return dates.dt.normalize()


def _parse_dates(df: pd.DataFrame, col: str, report: DataReport) -> pd.Series:
    raw = df[col]
    from core.data.datasets import parse_datetimes

    # Mixed time zones become UTC and years pandas cannot hold (9999) count as unreadable.
    parsed = parse_datetimes(raw if pd.api.types.is_datetime64_any_dtype(raw) else raw.astype(str).str.strip(),
                             formats=("mixed",), local=True)
    bad = int(parsed.isna().sum())
    if bad > 0.05 * len(df):
        examples = short_list(raw[parsed.isna()].astype(str).unique(), limit=3)
        raise DataValidationError(
            f"Date column '{col}' must hold dates; {bad} of {len(df)} values could not be read "
            f"(e.g. {examples}). Pick the right date column or write dates as YYYY-MM-DD."
        )
    report.add("unreadable dates", bad, "rows dropped")
    return parsed


def _numeric_covariates(df: pd.DataFrame, cmap: ColumnMap) -> list[str]:
    used = {cmap.date, cmap.target, *cmap.series}
    if cmap.covariates is None:
        return [c for c in df.columns if c not in used and (
            pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    _require_columns(df, list(cmap.covariates), "Covariate")
    clash = [c for c in cmap.covariates if c in used]
    if clash:
        raise DataValidationError(
            f"Covariates {clash} are already used as date, quantity or series columns. "
            "Remove them from the covariates."
        )
    bad = [c for c in cmap.covariates if pd.to_numeric(df[c], errors="coerce").notna().mean() < 0.95]
    if bad:
        raise DataValidationError(
            f"Covariates must be numeric (price, promotion 0/1, holiday 0/1); {short_list(bad)} are not. "
            "Drop them from the covariates or encode them as numbers."
        )
    return list(cmap.covariates)


def series_ids(df: pd.DataFrame, series) -> pd.Series:
    """Each row's series id: the series columns joined with " / " ("S1 / P7"), or "all"."""
    series = list(series)
    if not series:
        return pd.Series("all", index=df.index)
    # Column-wise string concatenation: a row-wise join takes minutes on a few hundred thousand rows.
    ids = df[series[0]].astype(str)
    for c in series[1:]:
        ids = ids + " / " + df[c].astype(str)
    return ids


def forecast_ids(series, dates) -> pd.Series:
    """``"<series id>|YYYY-MM-DD"``: how a forecast and its actual sale find each other."""
    days = pd.to_datetime(pd.Series(dates).reset_index(drop=True), errors="coerce", format="mixed")
    ids = pd.Series(series).reset_index(drop=True).astype(str) + "|" + days.dt.strftime("%Y-%m-%d")
    return ids.where(days.notna(), None)


def load_sales(df: pd.DataFrame, cmap: ColumnMap, *, fill_gaps: str = "interpolate",
               max_rows: int | None = None) -> SalesData:
    """Validate and clean raw sales rows into a regular ``SalesData``.

    Duplicate (series, date) rows are summed, negative quantities (returns) set to 0, missing
    periods inserted and filled (``fill_gaps``: "interpolate" or "zero"), covariate gaps carried
    forward. Each change is counted in ``report``. ``max_rows`` caps the cleaned history by keeping
    the most recent periods of every series (random row sampling would punch holes in a time series).
    """
    if fill_gaps not in GAP_FILLS:
        raise DataValidationError(f"Gap filling must be one of {GAP_FILLS}; got '{fill_gaps}'.")
    if df is None or len(df) == 0:
        raise DataValidationError("The sales table is empty; expected rows of date, quantity. Upload a file with data.")
    _require_columns(df, [cmap.date], "Date")
    _require_columns(df, [cmap.target], "Quantity")
    _require_columns(df, list(cmap.series), "Series")
    if cmap.target == cmap.date or cmap.target in cmap.series or cmap.date in cmap.series:
        raise DataValidationError(
            f"Date '{cmap.date}', quantity '{cmap.target}' and series columns {list(cmap.series)} "
            "must be different columns. Pick a separate column for each role."
        )
    report = DataReport()
    covs = _numeric_covariates(df, cmap)
    y = pd.to_numeric(df[cmap.target], errors="coerce").astype(float)
    if y.notna().sum() == 0:
        raise DataValidationError(
            f"Quantity column '{cmap.target}' must be numeric; got values like "
            f"{list(df[cmap.target].astype(str).unique()[:3])}. Pick the units sold column."
        )
    dates = _parse_dates(df, cmap.date, report)
    sid = series_ids(df, cmap.series)
    work = pd.DataFrame({SERIES_COL: sid, "date": dates, "y": y})
    for c in covs:
        work[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    work = work[work["date"].notna()]
    frequency, freq = detect_frequency(work["date"], work[SERIES_COL])
    work["date"] = _snap(work["date"], frequency, freq)
    report.add("missing quantities", int(work["y"].isna().sum()), f"filled like gaps ({fill_gaps})")
    neg = work["y"] < 0
    report.add("negative quantities (returns)", int(neg.sum()), "set to 0")
    work.loc[neg, "y"] = 0.0
    dup = work.duplicated([SERIES_COL, "date"], keep=False)
    if dup.any():
        report.add("duplicate series/date rows", int(dup.sum()), "quantities summed, covariates averaged")
        agg = {"y": lambda s: s.sum(min_count=1), **{c: "mean" for c in covs}}
        work = work.groupby([SERIES_COL, "date"], as_index=False, sort=False).agg(agg)
    frames, n_gaps, n_cov_gaps = [], 0, 0
    for s, g in work.sort_values([SERIES_COL, "date"]).groupby(SERIES_COL, sort=False):
        full = pd.date_range(g["date"].iloc[0], g["date"].iloc[-1], freq=freq)
        g = g.set_index("date").reindex(full)
        n_gaps += int(g[SERIES_COL].isna().sum())
        g[SERIES_COL] = s
        if fill_gaps == "zero":
            g["y"] = g["y"].fillna(0.0)
        else:
            g["y"] = g["y"].interpolate(limit_direction="both").fillna(0.0)
        if covs:
            n_cov_gaps += int(g[covs].isna().sum().sum())
            g[covs] = g[covs].ffill().bfill().fillna(0.0)
        frames.append(g.rename_axis("date").reset_index())
    report.add("missing periods (gaps)", n_gaps, f"inserted and filled ({fill_gaps})")
    report.add("missing covariate values", n_cov_gaps, "carried forward from the previous period")
    frame = pd.concat(frames, ignore_index=True)[[SERIES_COL, "date", "y", *covs]]
    if max_rows and len(frame) > max_rows:
        keep = max(1, max_rows // frame[SERIES_COL].nunique())
        before = len(frame)
        frame = frame.groupby(SERIES_COL, sort=False, group_keys=False).tail(keep).reset_index(drop=True)
        report.add("periods beyond the size limit", before - len(frame),
                   f"dropped: kept the most recent {keep:,} periods of each series")
    binary = [c for c in covs if set(np.unique(frame[c])) <= {0.0, 1.0}]
    report.frequency, report.n_series, report.n_rows = frequency, frame[SERIES_COL].nunique(), len(frame)
    report.start, report.end = str(frame["date"].min().date()), str(frame["date"].max().date())
    # What the reader left out as personal data travels with the cleaned frame to the saved summary.
    if df.attrs.get("personal_data"):
        frame.attrs["personal_data"] = list(df.attrs["personal_data"])
    # The sales file's SHA-256 as uploaded (core.data.datasets.read_table) stays with the cleaned rows: a saved
    # run records which file it was trained on.
    frame.attrs["source_sha256"] = df.attrs.get("source_sha256")
    return SalesData(frame, frequency, freq, SEASON[frequency], covs, binary, cmap, report)
