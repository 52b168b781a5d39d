"""Keyed pseudonyms for personal data that serves as a key.

A card number is personal data, but in a transaction log it is also what ties a customer's
transactions together: dropped, every per-customer history feature goes with it. Such a column is
kept as a key and each value is replaced by a keyed pseudonym, ``"p:" + the first 20 hex digits of
HMAC-SHA256(secret, value)``: equal numbers get equal pseudonyms, so histories still line up, and
without the secret a pseudonym cannot be checked against a guessed number (a plain or salted hash
of a 16-digit card number can be brute-forced; an HMAC with a 256-bit secret cannot).

The secret is made per browser session on a page and per run on the command line. A saved run
keeps it in its own folder (``pseudonym.key``) so that files scored with the run later are
pseudonymised the same way; it is never printed, logged, put in metadata or shown.

Which columns are keys is decided by the caller (``KeyRule.pick``, e.g. the fraud column mapping's
customer / card column); ``KeyRule.columns`` fixes them (a saved run's key columns).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from core.errors import DataValidationError

SECRET_FILE = "pseudonym.key"
PREFIX = "p:"
_DIGITS = 20
_PSEUDONYM = re.compile(rf"^{PREFIX}[0-9a-f]{{{_DIGITS}}}$")
_SEPARATED_DIGITS = re.compile(r"^\d[\d -]*\d$")
# What one value of each kind is called in a sentence ("card number kept as the customer key").
VALUE_WORDS = {"card": "card number", "iban": "account number", "email": "e-mail address",
               "phone": "phone number", "ssn": "national id number", "nino": "national id number",
               "name": "name"}


def new_secret() -> bytes:
    """A random 32-byte secret for one session or one run."""
    return secrets.token_bytes(32)


def _check(secret) -> bytes:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise DataValidationError(
            "Expected a secret of at least 16 random bytes for keyed pseudonyms; got none. "
            "Fix: create one with core.data.pseudonym.new_secret() per session or run.")
    return bytes(secret)


def _norm(v) -> str:
    """The text a value is keyed on: whole floats without '.0' (a card number read as a float in a
    chunk with an empty cell keys like the integer), digits without spaces or dashes."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e19:
        return str(int(v))
    text = str(v).strip()
    return re.sub(r"[ -]", "", text) if _SEPARATED_DIGITS.match(text) else text


def is_pseudonym(v) -> bool:
    return isinstance(v, str) and bool(_PSEUDONYM.match(v))


def pseudonymise(s: pd.Series, secret: bytes) -> pd.Series:
    """Each non-empty value replaced by its keyed pseudonym; empty cells stay empty and values that
    are already pseudonyms are left as they are (so applying it twice changes nothing)."""
    key = _check(secret)
    cache: dict = {}

    def one(v):
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
            return v
        if is_pseudonym(v):
            return v
        text = _norm(v)
        if text not in cache:
            digest = hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
            cache[text] = PREFIX + digest[:_DIGITS]
        return cache[text]

    return s.map(one).astype(object)


def repeats_like_key(s: pd.Series, *, min_share: float = 0.5) -> bool:
    """Whether a column groups rows the way a customer / card / account key does: at least two
    distinct values, and at least ``min_share`` of the filled rows share their value with another
    row (a card number used once per row identifies a transaction, not a customer)."""
    counts = s.dropna().value_counts()
    filled = int(counts.sum())
    if len(counts) < 2 or filled == 0:
        return False
    return float(counts[counts >= 2].sum()) / filled >= min_share


@dataclass(frozen=True)
class KeyRule:
    """Which personal columns a reader keeps as keys, and the secret their pseudonyms are keyed with.

    ``columns`` are always keys when present (a saved run's), whether or not the file's values are
    recognised as personal; ``pick(df, found)`` (``found``: the ``core.data.privacy.PersonalColumn``
    list of the file) chooses more. ``role`` names the key in notices ("customer / card key").
    """

    secret: bytes = field(repr=False)
    columns: tuple[str, ...] = ()
    pick: Callable | None = field(default=None, repr=False, compare=False)
    role: str = "key"
    kinds: tuple[tuple[str, str], ...] = ()  # (column, kind) of fixed columns, for the notice

    def __post_init__(self):
        _check(self.secret)

    def __repr__(self) -> str:  # never the secret
        return f"KeyRule(columns={list(self.columns)}, role={self.role!r})"

    def key_columns(self, df: pd.DataFrame, found) -> list[str]:
        """The key columns of ``df``: the fixed ones present, then those ``pick`` chooses."""
        names = [str(c) for c in df.columns]
        out = [c for c in self.columns if c in names]
        if self.pick is not None:
            out += [c for c in self.pick(df, list(found)) if c in names and c not in out]
        return out

    def apply(self, df: pd.DataFrame, columns=None) -> pd.DataFrame:
        """``df`` with the key columns (``columns``, or the fixed ones) pseudonymised (a new frame
        when anything changes)."""
        cols = [c for c in (self.columns if columns is None else columns) if c in set(map(str, df.columns))]
        if not cols:
            return df
        out = df.copy()
        for i, c in enumerate(out.columns):
            if str(c) in cols:
                out.isetitem(i, pseudonymise(out.iloc[:, i], self.secret))
        return out

    def fixed(self, columns, kinds: dict | None = None) -> "KeyRule":
        """The same secret with ``columns`` as the fixed key columns (what a saved run scores with)."""
        kinds = kinds or {}
        return KeyRule(self.secret, tuple(columns), role=self.role,
                       kinds=tuple((c, kinds[c]) for c in columns if c in kinds))


def key_action(role: str) -> str:
    """The action recorded for a key column (run summary, model card, command-line JSON)."""
    return f"kept as the {role}, replaced by a keyed pseudonym (HMAC-SHA256)"


def key_notice(columns: list, role: str) -> str:
    """One sentence naming each key column and what was done ("card number kept as the customer /
    card key, replaced by a keyed pseudonym"); ``columns`` are ``PersonalColumn``s."""
    parts = [f"'{c.column}' ({VALUE_WORDS.get(c.kind, 'value')} kept as the {role}, replaced by a keyed "
             "pseudonym)" for c in columns]
    return (f"Personal data kept as a key: {', '.join(parts)}. Each value became an HMAC-SHA256 code made with "
            "a secret that stays with this session or run and is never shown: equal values still match, so "
            "the history features per customer still work, and the original values are not kept.")


# ---------------------------------------------------------------- the secret in a saved run
def secret_file(secret: bytes) -> dict[str, bytes]:
    """The run folder file that keeps the secret (``save_run(files=...)``)."""
    return {SECRET_FILE: _check(secret)}


def run_key_rule(run_dir, meta: dict | None = None) -> KeyRule | None:
    """The key rule a saved run scores new files with (its key columns and its secret), or None
    for a run without pseudonymised keys."""
    from core.store.registry import read_metadata

    meta = read_metadata(run_dir) if meta is None else meta
    keyed = meta.get("pseudonymised") if isinstance(meta, dict) else None
    if not keyed:
        return None
    path = Path(run_dir) / SECRET_FILE
    if not path.is_file():
        raise DataValidationError(
            f"Expected the run's pseudonym secret ({SECRET_FILE}) in '{Path(run_dir).name}': the run keeps "
            f"{', '.join(k.get('column', '?') for k in keyed)} as keyed pseudonyms; got no such file. Fix: save the "
            "run again (the file cannot be rebuilt), or train a new run.")
    cols = [str(k.get("column")) for k in keyed if isinstance(k, dict)]
    kinds = {str(k.get("column")): str(k.get("kind", "")) for k in keyed if isinstance(k, dict)}
    role = next((str(k["role"]) for k in keyed if isinstance(k, dict) and k.get("role")), "key")
    return KeyRule(path.read_bytes(), tuple(cols), role=role, kinds=tuple(kinds.items()))
