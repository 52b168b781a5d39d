"""Personal data in uploads: find the columns that hold it, then drop or hash them.

A shared demo server must not keep what identifies a person: e-mail addresses, phone numbers,
card and account numbers, national id numbers, names, street addresses or dates of birth.
``detect_personal_columns`` finds such columns from their values (a sample of each column; card
numbers must pass the Luhn check and IBANs the mod-97 check, so an ordinary 16-digit id is not
mistaken for a card) and, for names, addresses and birth dates, from their headers.
``protect_personal_data`` then drops them (the default) or replaces each value with a salted
SHA-256 digest, so a column can still group rows (a customer's transactions) without holding the
original. The salt is made per session (``new_salt``) and kept only in memory: the same value
hashes alike within a session and cannot be looked up from a saved digest. A column that is a key
(a card number that ties a customer's transactions together, chosen by a ``core.data.pseudonym.KeyRule``)
is replaced by a keyed pseudonym instead, whatever the mode, so the scenario keeps its history.

Nothing here logs or returns the original values: notices name the column and the kind of data only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MODES = ("drop", "hash")
DEFAULT_MODE = "drop"
# Share of a column's non-empty sampled values that must look personal for the column to count.
MIN_SHARE = 0.8
SAMPLE = 500

KINDS = {
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "card": "payment card numbers",
    "iban": "bank account numbers (IBAN)",
    "ssn": "national id numbers (US SSN)",
    "nino": "national id numbers (UK National Insurance)",
    "name": "people's names",
    "address": "street addresses",
    "birth": "dates of birth",
}

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_NINO = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TY][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$",
                   re.IGNORECASE)
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_CARD_CHARS = re.compile(r"^\d[\d -]{11,22}\d$")
_PHONE = re.compile(r"^(\+|00)?\(?\d[\d ().-]{6,18}\d$")
_WORDS = re.compile(r"[^\W\d_][^\d@]{0,60}")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T].*)?$")
# Headers that name a person (lower case, words split on _ - . and spaces, camelCase split).
_NAME_HEADERS = {
    ("name",), ("first", "name"), ("firstname",), ("last", "name"), ("lastname",), ("surname",),
    ("full", "name"), ("fullname",), ("given", "name"), ("family", "name"), ("middle", "name"),
    ("customer", "name"), ("client", "name"), ("applicant", "name"), ("holder", "name"),
    ("card", "holder"), ("cardholder",), ("cardholder", "name"), ("account", "holder"),
    ("account", "name"), ("forename",), ("maiden", "name"), ("first",), ("last",),
    ("user", "name"), ("username",), ("contact", "name"), ("person",), ("employee", "name"),
}
# Headers of street addresses and birth dates (tokens as for names): the values alone do not give them away.
_ADDRESS_HEADERS = {("street",), ("address",), ("street", "address"), ("home", "address"), ("addr",),
                    ("address", "line", "1"), ("address1",), ("street", "name")}
_BIRTH_HEADERS = {("dob",), ("date", "of", "birth"), ("birth", "date"), ("birthdate",), ("birthday",),
                  ("birth", "day"), ("born",)}
_HEADER_HINTS = {  # headers that say what the values are, checked with a looser value share
    "email": ("email", "e_mail", "mail", "email_address"),
    "phone": ("phone", "telephone", "tel", "mobile", "cell", "phone_number", "mobile_number"),
    "ssn": ("ssn", "social_security", "social_security_number"),
    "nino": ("ni_number", "nino", "national_insurance", "national_insurance_number"),
    "iban": ("iban",),
    "card": ("card_number", "cc_number", "pan", "credit_card", "card_no"),
}


@dataclass(frozen=True)
class PersonalColumn:
    """One column found to hold personal data: its name, what kind and why."""

    column: str
    kind: str  # a key of KINDS
    reason: str

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass
class PrivacyResult:
    """The frame with personal columns dropped or hashed (key columns pseudonymised), and a record
    of what was done."""

    df: pd.DataFrame
    mode: str
    columns: list[PersonalColumn] = field(default_factory=list)
    keyed: list[str] = field(default_factory=list)  # columns kept as keys (core.data.pseudonym)
    key_role: str = "key"

    @property
    def excluded(self) -> list[dict]:
        """``[{"column", "kind", "action"}]`` (plus ``"key"`` for a key column): safe to save (no
        values), for the run summary."""
        from core.data.pseudonym import key_action

        action = "dropped" if self.mode == "drop" else "hashed (salted SHA-256)"
        return [{"column": c.column, "kind": c.label, "action": key_action(self.key_role), "key": self.key_role}
                if c.column in self.keyed else {"column": c.column, "kind": c.label, "action": action}
                for c in self.columns]

    @property
    def notices(self) -> list[str]:
        from core.data.pseudonym import key_notice

        keys = [c for c in self.columns if c.column in self.keyed]
        rest = [c for c in self.columns if c.column not in self.keyed]
        out = [key_notice(keys, self.key_role)] if keys else []
        if not rest:
            return out
        names = ", ".join(f"'{c.column}' ({c.label})" for c in rest)
        if self.mode == "drop":
            return out + [f"Personal data left out: {names}. These columns were removed when the file was read, "
                          "so no model, saved run, report or log sees them."]
        return out + [f"Personal data hashed: {names}. Each value was replaced by a salted SHA-256 code kept for "
                      "this session only; equal values still match, the originals are not kept."]


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """Whether ``text`` (spaces allowed) is an IBAN with a valid mod-97 check."""
    s = text.replace(" ", "").upper()
    if not _IBAN.match(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _is_card(v: str) -> bool:
    if not _CARD_CHARS.match(v):
        return False
    digits = re.sub(r"[ -]", "", v)
    return 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1


def _is_phone(v: str) -> bool:
    if not _PHONE.match(v) or _DATE_LIKE.match(v):
        return False
    digits = re.sub(r"\D", "", v)
    if not 9 <= len(digits) <= 15:
        return False
    # Bare digits are a phone only when written like one (leading + / 00 / 0); an amount or an
    # id of nine digits is not.
    return bool(re.search(r"[ ().-]", v)) or v.startswith(("+", "0"))


_CHECKS = (
    ("email", lambda v: bool(_EMAIL.match(v))),
    ("iban", iban_ok),
    ("ssn", lambda v: bool(_SSN.match(v))),
    ("nino", lambda v: bool(_NINO.match(v))),
    ("card", _is_card),
    ("phone", _is_phone),
)


def _tokens(name) -> tuple[str, ...]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return tuple(t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t)


def _sample_text(s: pd.Series) -> list[str]:
    """Up to ``SAMPLE`` non-empty values as stripped text (whole numbers written without '.0')."""
    vals = s.dropna()
    if len(vals) > SAMPLE:
        vals = vals.sample(SAMPLE, random_state=0)
    if pd.api.types.is_float_dtype(vals):
        vals = vals[(vals % 1 == 0) & (vals.abs() < 1e19)]
        return [str(int(v)) for v in vals]
    return [t for t in (str(v).strip() for v in vals.tolist()) if t]


def _share(text: list[str], check) -> float:
    if not text:
        return 0.0
    return sum(1 for v in text if len(v) <= 64 and check(v)) / len(text)


def _could_be_card(s: pd.Series) -> bool:
    """Whether a numeric column holds numbers as long as a card number (13+ digits) at all."""
    if pd.api.types.is_bool_dtype(s):
        return False
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    v = np.abs(v[np.isfinite(v)])
    return bool(len(v)) and float(v.max()) >= 1e12


_HINTED = {h: k for k, hs in _HEADER_HINTS.items() for h in hs}


def detect_personal_columns(df: pd.DataFrame, *, pause=None) -> list[PersonalColumn]:
    """Columns of ``df`` that hold personal data, by their values (e-mail, phone, card with Luhn,
    IBAN with mod-97, US SSN, UK NI number) or their header (names, street addresses, dates of
    birth). Looks at a seeded sample of up to 500 values per column; each column is judged on its own
    values. ``pause()``, when given, is called between columns (the HTTP service's log writer)."""
    found: list[PersonalColumn] = []
    for i, c in enumerate(df.columns):
        if pause is not None and i:
            pause()
        s = df.iloc[:, i]
        tokens = _tokens(c)
        joined = "_".join(tokens)
        numeric = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)
        if numeric:
            # Numbers read as numbers are amounts, counts or ids; only a card number can hide there.
            if _could_be_card(s) and _share(_sample_text(s), _is_card) >= MIN_SHARE:
                found.append(PersonalColumn(str(c), "card", f"the values look like {KINDS['card']}"))
            continue
        text = _sample_text(s)
        hit = None
        if any(ch.isdigit() or ch == "@" for v in text[:50] for ch in v):
            for kind, check in _CHECKS:
                share = _share(text, check)
                if share >= MIN_SHARE or (_HINTED.get(joined) == kind and share >= 0.5):
                    hit = PersonalColumn(str(c), kind, f"{share:.0%} of the sampled values look like {KINDS[kind]}")
                    break
        if hit is None and tokens in _NAME_HEADERS and text:
            letters = sum(1 for v in text if _WORDS.fullmatch(v)) / len(text)
            if letters >= 0.5:
                hit = PersonalColumn(str(c), "name", f"the header '{c}' names a person and the values are words")
        if hit is None and tokens in _ADDRESS_HEADERS and text and sum(1 for v in text if _WORDS.search(v)) >= 0.5 * len(text):
            hit = PersonalColumn(str(c), "address", f"the header '{c}' names a street address and the values are text")
        if hit is None and tokens in _BIRTH_HEADERS and text:
            hit = PersonalColumn(str(c), "birth", f"the header '{c}' names a date of birth")
        if hit is None and joined in _HINTED and text and \
                sum(1 for v in text if any(ch.isdigit() or ch == "@" for ch in v)) >= 0.5 * len(text):
            kind = _HINTED[joined]
            hit = PersonalColumn(str(c), kind, f"the header '{c}' says it holds {KINDS[kind]}")
        if hit is not None:
            found.append(hit)
    return found


def new_salt() -> bytes:
    """A random 16-byte salt for one session (keep it in memory only, never save it)."""
    return secrets.token_bytes(16)


def hash_values(s: pd.Series, salt: bytes) -> pd.Series:
    """Each non-empty value replaced by ``"h:" + the first 16 hex digits of SHA-256(salt + value)``."""
    if not isinstance(salt, (bytes, bytearray)) or len(salt) < 8:
        raise DataValidationError("Expected a random salt of at least 8 bytes for hashing personal data; "
                                  "got none. Fix: create one with core.data.privacy.new_salt() per session.")
    cache: dict = {}

    def one(v):
        if v is None or (isinstance(v, float) and v != v):
            return v
        key = str(v).strip()
        if key not in cache:
            cache[key] = "h:" + hashlib.sha256(bytes(salt) + key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return cache[key]

    return s.map(one).astype(object)


def _with_keys(df: pd.DataFrame, found: list[PersonalColumn], keys) -> tuple[list[PersonalColumn], list[str]]:
    """(the personal columns, those of them ``keys`` keeps as keys). A fixed key column the values
    did not give away (a short file) is still a key, and listed with the kind the run recorded."""
    keyed = keys.key_columns(df, found) if keys is not None else []
    kinds = dict(getattr(keys, "kinds", ()) or ())
    known = {c.column for c in found}
    extra = [PersonalColumn(c, kinds.get(c) if kinds.get(c) in KINDS else "card", "a key column of the run")
             for c in keyed if c not in known]
    return found + extra, keyed


def protect_personal_data(df: pd.DataFrame, *, mode: str = DEFAULT_MODE, salt: bytes | None = None,
                          columns: list[PersonalColumn] | None = None, keys=None) -> PrivacyResult:
    """Drop (``mode="drop"``, the default) or hash (``mode="hash"``, needs ``salt``) the personal
    columns of ``df`` (found with ``detect_personal_columns`` unless given). Columns that ``keys``
    (a ``core.data.pseudonym.KeyRule``) keeps as keys are replaced by keyed pseudonyms instead, whatever
    the mode. Returns a new frame."""
    if mode not in MODES:
        raise DataValidationError(f"Personal data handling must be one of {list(MODES)}; got {mode!r}. "
                                  "Fix: choose drop or hash.")
    found = detect_personal_columns(df) if columns is None else list(columns)
    found, keyed = _with_keys(df, found, keys)
    role = getattr(keys, "role", "key")
    if not found:
        return PrivacyResult(df, mode, [])
    names = [c.column for c in found if c.column not in keyed]
    if mode == "drop":
        out = df.drop(columns=[c for c in df.columns if str(c) in names])
    else:
        out = df.copy()
        for i, c in enumerate(out.columns):
            if str(c) in names:
                out.isetitem(i, hash_values(out.iloc[:, i], salt))
    if keyed:
        out = keys.apply(out, keyed)
    return PrivacyResult(out, mode, found, keyed=keyed, key_role=role)


# ---------------------------------------------------------------- files read in chunks (command line)
OUTPUT_MODES = ("drop", "hash", "keep")  # ``python -m core score --personal-data``
DEFAULT_OUTPUT_MODE = "drop"


def _hash_key(s: pd.Series) -> pd.Series:
    """Whole numbers written without '.0', so a card number read as an integer in one chunk and as a
    float in another (a chunk with an empty cell) hashes alike."""
    if pd.api.types.is_float_dtype(s):
        whole = s.notna() & (s % 1 == 0) & (s.abs() < 1e19)
        return s.astype(object).where(~whole, s[whole].map(lambda v: str(int(v))))
    return s


class PersonalDataFilter:
    """One run's handling of personal data in a file read chunk by chunk (or block by block on a
    cluster): the columns are found on the first chunk and the same columns are then dropped or
    hashed in every chunk, so a column is never left out of one chunk and written from the next.
    ``hash`` uses one random salt made for this run and held in memory only (never printed, logged
    or written), so equal values get equal codes across chunks and workers of the run, and no code
    can be looked up afterwards. ``keep`` passes the columns through (and still names them).
    """

    def __init__(self, mode: str = DEFAULT_OUTPUT_MODE, *, keys=None):
        if mode not in OUTPUT_MODES:
            raise DataValidationError(f"Expected personal data handling {' / '.join(OUTPUT_MODES)}; got {mode!r}. "
                                      "Fix: pass --personal-data drop, hash or keep.")
        self.mode = mode
        self._salt = new_salt() if mode == "hash" else None
        self.columns: list[PersonalColumn] | None = None  # None until the first chunk is seen
        self.keys = keys  # a core.data.pseudonym.KeyRule: a saved run's key columns, pseudonymised in every mode
        self.keyed: list[str] = []

    def __repr__(self) -> str:  # never the salt
        return f"PersonalDataFilter(mode={self.mode!r}, columns={self.names}, keyed={self.keyed})"

    def use_keys(self, keys) -> None:
        """Pseudonymise ``keys``' columns (a saved run's) with its secret; set before the first chunk."""
        self.keys = keys

    @property
    def names(self) -> list[str]:
        return [c.column for c in self.columns or []]

    def detect(self, df: pd.DataFrame) -> list[PersonalColumn]:
        """The personal columns, found on the first frame given and fixed from then on."""
        if self.columns is None:
            self.columns, self.keyed = _with_keys(df, detect_personal_columns(df), self.keys)
        return self.columns

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with this run's personal columns dropped / hashed (a new frame), or as it is for keep;
        key columns pseudonymised in every mode (the raw key never reaches the model or the output)."""
        names = {c.column for c in self.detect(df)} - set(self.keyed)
        if self.keyed:
            df = self.keys.apply(df, self.keyed)
        if self.mode == "keep" or not names:
            return df
        if self.mode == "drop":
            return df.drop(columns=[c for c in df.columns if str(c) in names])
        out = df.copy()
        for i, c in enumerate(out.columns):
            if str(c) in names:
                out.isetitem(i, hash_values(_hash_key(out.iloc[:, i]), self._salt))
        return out

    @property
    def excluded(self) -> list[dict]:
        """``[{"column", "kind", "action"}]`` with no values, for the command's JSON."""
        from core.data.pseudonym import key_action

        action = {"drop": "dropped", "hash": "hashed (salted SHA-256, salt not kept)", "keep": "kept"}[self.mode]
        role = getattr(self.keys, "role", "key")
        return [{"column": c.column, "kind": c.label,
                 "action": key_action(role) if c.column in self.keyed else action} for c in self.columns or []]

    def notice(self) -> str | None:
        """One line for standard error naming the columns and what was done, or None."""
        from core.data.pseudonym import key_notice

        if not self.columns:
            return None
        keys = [c for c in self.columns if c.column in self.keyed]
        rest = [c for c in self.columns if c.column not in self.keyed]
        first = key_notice(keys, getattr(self.keys, "role", "key")) if keys else ""
        if not rest:
            return first
        names = ", ".join(f"'{c.column}' ({c.label})" for c in rest)
        return (first + " " if first else "") + {"drop": f"Personal data left out of the output: {names}. Pass --personal-data hash to keep them "
                        "as salted codes.",
                "hash": f"Personal data hashed in the output: {names} (salted SHA-256 with a salt made for this "
                        "run and not kept; equal values share a code within this run only).",
                "keep": f"Personal data copied into the output as it is (--personal-data keep): {names}."}[self.mode]

    def check_missing(self, missing) -> None:
        """Raise a clear error when a column the model reads was left out here as personal data."""
        gone = [c for c in self.columns or [] if self.mode == "drop" and c.column in set(map(str, missing))]
        if gone:
            names = ", ".join(f"'{c.column}' ({c.label})" for c in gone)
            raise DataValidationError(
                f"Expected the column(s) the model reads; {names} hold personal data and were left out "
                "(--personal-data drop, the default). Fix: pass --personal-data hash to score them as salted "
                "codes (new codes for every run), or --personal-data keep to read them as they are.")


def with_run_keys(args, keys):
    """The command's personal-data filter (``args.personal``, made here when absent) with the saved run's
    key rule set, so key columns are pseudonymised with the run's secret in every chunk or block."""
    guard = getattr(args, "personal", None)
    if guard is None:
        guard = args.personal = PersonalDataFilter(getattr(args, "personal_data", None) or "drop")
    guard.use_keys(keys)
    return guard
