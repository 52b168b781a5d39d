"""Feature engineering for card transactions, using only each transaction's past.

Customer windows cover (t - w days, t] and include the transaction itself: its amount is known
when it is authorised, its label is not used. Terminal windows cover (t - delay - w, t - delay],
because fraud labels arrive only after an investigation delay; the current row and everything after
it never enter a terminal window, whatever the delay. This follows the Fraud Detection Handbook
(Le Borgne et al. 2022, chapter 3.3) and is computed without Python loops: rows are sorted by
(group, time), and each window edge is one ``np.searchsorted`` on a (group, time) key, so a window
sum is a difference of two cumulative sums. One million rows take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.fraud.columns import FraudColumns

DAY = 86_400
NIGHT_END_HOUR = 7  # hours 0-6 count as "night", as in the handbook (tx_hour <= 6)


@dataclass(frozen=True)
class FeatureConfig:
    """Options of the feature engineering."""

    windows: tuple[int, ...] = (1, 7, 30)
    delay_days: int = 7
    spending_ratios: bool = True  # amount and recent spending relative to the customer's usual
    history: bool = True  # customer / terminal windows (off for a log too short for them)


@dataclass
class FeatureSet:
    """Engineered features, row-aligned with the prepared log, plus a description of each."""

    frame: pd.DataFrame
    descriptions: dict[str, str]
    numeric: list[str]
    categorical: list[str] = field(default_factory=list)
    leakage: dict | None = None  # the leakage audit of the log's columns (core.audit.LeakAudit.to_dict())

    @property
    def names(self) -> list[str]:
        return self.numeric + self.categorical

    def describe(self) -> pd.DataFrame:
        """A table of feature name and plain-words description for the analyst."""
        return pd.DataFrame({"feature": self.names,
                             "description": [self.descriptions[n] for n in self.names]})


def _seconds(times: pd.Series) -> np.ndarray:
    ns = times.to_numpy("datetime64[ns]").astype(np.int64)
    return (ns - ns.min()) // 1_000_000_000


def _group_index(groups: pd.Series, secs: np.ndarray, max_offset: int):
    """Sort order by (group, time, row) and a monotone int64 key for window look-ups."""
    codes = pd.factorize(groups, use_na_sentinel=False)[0].astype(np.int64)
    order = np.lexsort((np.arange(len(secs)), secs, codes))
    span = int(secs.max()) + max_offset + 1
    key = codes[order] * span + secs[order]
    return order, key


def _edge(key: np.ndarray, offset: int) -> np.ndarray:
    """For each sorted row, the first position whose time is > t - offset (same group)."""
    return np.searchsorted(key, key - offset, side="right")


def customer_features(groups: pd.Series, secs: np.ndarray, amount: np.ndarray,
                      windows=(1, 7, 30)) -> dict[str, np.ndarray]:
    """Per customer: count and mean amount of transactions in (t - w days, t], this one included."""
    order, key = _group_index(groups, secs, max(windows) * DAY)
    pos = np.arange(len(key))
    a = amount[order]
    csum = np.concatenate([[0.0], np.cumsum(a)])
    csq = np.concatenate([[0.0], np.cumsum(a * a)])
    out = {}
    for w in windows:
        lo = _edge(key, w * DAY)
        n = pos + 1 - lo  # positional end: ties later in the order are not "past"
        avg = (csum[pos + 1] - csum[lo]) / n
        out[f"cust_nb_tx_{w}d"] = _unsort(order, n.astype(float))
        out[f"cust_avg_amount_{w}d"] = _unsort(order, avg)
        if w == max(windows):
            var = np.maximum((csq[pos + 1] - csq[lo]) / n - avg * avg, 0.0)
            out[f"_std_{w}d"] = _unsort(order, np.sqrt(var))
    return out


def terminal_features(groups: pd.Series, secs: np.ndarray, label: np.ndarray,
                      windows=(1, 7, 30), delay_days: int = 7) -> dict[str, np.ndarray]:
    """Per terminal: count and fraud rate of transactions in (t - delay - w, t - delay].

    Unknown labels (NaN, e.g. in a file being scored) count as not fraud.
    """
    d = int(delay_days) * DAY
    order, key = _group_index(groups, secs, (max(windows) + delay_days) * DAY)
    fsum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(label[order], nan=0.0))])
    # Only strictly earlier times: never the current row, nor one with the same timestamp,
    # whose label would be just as unknown (this matters with a delay of 0).
    hi = np.minimum(_edge(key, d), np.searchsorted(key, key, side="left"))
    out = {}
    for w in windows:
        lo = np.minimum(_edge(key, d + w * DAY), hi)
        n = hi - lo
        frauds = fsum[hi] - fsum[lo]
        risk = np.divide(frauds, n, out=np.zeros(len(n)), where=n > 0)
        out[f"term_nb_tx_{w}d"] = _unsort(order, n.astype(float))
        out[f"term_risk_{w}d"] = _unsort(order, risk)
    return out


def _unsort(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def compute_features(log: pd.DataFrame, cols: FraudColumns, *, config: FeatureConfig | None = None,
                     extra: list[str] | None = None) -> FeatureSet:
    """Engineer the model inputs for every row of a prepared log (see :func:`prepare_log`)."""
    config = config or FeatureConfig()
    times = log[cols.time]
    secs = _seconds(times)
    amount = log[cols.amount].to_numpy(float)
    feats: dict[str, np.ndarray] = {"amount": amount}
    desc = {"amount": "Amount of this transaction."}
    unit = getattr(cols, "time_unit", None)
    hour = times.dt.hour.to_numpy()
    if unit in (None, "seconds", "minutes", "hours"):
        feats["tx_hour"] = (hour + times.dt.minute.to_numpy() / 60).astype(float)
        desc["tx_hour"] = ("Time of day of the transaction, in hours (0-24)." if unit is None else
                           "Hours since the start of the log's day (0-24): the time of day counted from the "
                           "log's first instant, as the log has no clock time.")
    if unit is None:  # no weekday or night for elapsed time: the log's clock time is unknown
        feats["tx_during_night"] = (hour < NIGHT_END_HOUR).astype(float)
        desc["tx_during_night"] = f"1 if the transaction happened between midnight and {NIGHT_END_HOUR} am."
        feats["tx_during_weekend"] = (times.dt.dayofweek.to_numpy() >= 5).astype(float)
        desc["tx_during_weekend"] = "1 if the transaction happened on a Saturday or Sunday."
    word = "step" if unit == "steps" else "day"
    if cols.customer and config.history:
        cust = customer_features(log[cols.customer], secs, amount, config.windows)
        w = max(config.windows)
        std = cust.pop(f"_std_{w}d")
        feats.update(cust)
        for w in config.windows:
            span = ("24 hours" if word == "day" else word) if w == 1 else f"{w} {word}s"
            desc[f"cust_nb_tx_{w}d"] = (f"Number of transactions by this customer/card in the last "
                                        f"{span}, this one included.")
            desc[f"cust_avg_amount_{w}d"] = (f"Average amount of this customer's transactions in "
                                             f"the last {span}, this one included.")
        if config.spending_ratios:
            # Ratios make "unusual for this customer" explicit; a network finds ratios hard to
            # learn from the raw amounts, and the compromised-card pattern is exactly that.
            avg_w = np.maximum(feats[f"cust_avg_amount_{w}d"], 0.01)
            w1 = min(config.windows)
            feats[f"amount_to_cust_avg_{w}d"] = amount / avg_w
            desc[f"amount_to_cust_avg_{w}d"] = (f"This amount divided by the customer's {w}-{word} "
                                                "average: far above 1 means unusual spending.")
            feats[f"amount_zscore_{w}d"] = (amount - avg_w) / np.maximum(std, 1.0)
            desc[f"amount_zscore_{w}d"] = (f"How many standard deviations this amount lies above "
                                           f"the customer's {w}-{word} average.")
            feats[f"cust_avg_{w1}d_to_{w}d"] = feats[f"cust_avg_amount_{w1}d"] / avg_w
            desc[f"cust_avg_{w1}d_to_{w}d"] = (f"The customer's average amount over the last "
                                               f"{w1} {word}(s) divided by the {w}-{word} average.")
    if cols.terminal and config.history:
        label = (log[cols.target].to_numpy(float) if cols.target and cols.target in log
                 else np.full(len(log), np.nan))
        feats.update(terminal_features(log[cols.terminal], secs, label, config.windows,
                                       config.delay_days))
        dl = config.delay_days
        for w in config.windows:
            span = word if w == 1 else f"{w} {word}s"
            desc[f"term_nb_tx_{w}d"] = (f"Number of transactions at this terminal in the {span} "
                                        f"ending {dl} {word}s ago (labels arrive after {dl} {word}s).")
            desc[f"term_risk_{w}d"] = (f"Share of fraudulent transactions at this terminal in the "
                                       f"{span} ending {dl} {word}s ago (known fraud only).")
    frame = pd.DataFrame(feats, index=log.index)
    numeric = list(feats)
    categorical = []
    for c in extra or []:
        s = log[c]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            frame[c] = s.astype(float)
            numeric.append(c)
            desc[c] = f"Column '{c}' from your file, as is."
        else:
            frame[c] = s.astype("string").fillna("(missing)").astype(object)
            categorical.append(c)
            desc[c] = f"Column '{c}' from your file (a category)."
    return FeatureSet(frame=frame, descriptions=desc, numeric=numeric, categorical=categorical)
