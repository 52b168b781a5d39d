"""API keys and where the service may listen.

The service binds 127.0.0.1 unless told otherwise, and refuses any other address without an API key
file: a model reachable from the network must not answer strangers. Keys are read from a file, one a
line (blank lines and ``#`` comments ignored, at least 16 characters each, so a typo or a placeholder
is not a key), and sent as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. A request's key is
compared with every configured key in constant time (``hmac.compare_digest``), so the time taken says
nothing about how much of a key was right. Keys are never logged or echoed.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from core.errors import DataValidationError
from core.serve.serving import RequestError

MIN_KEY_LENGTH = 16
NEW_KEY = "python -c \"import secrets; print(secrets.token_urlsafe(32))\" > api-keys.txt"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    host = str(host).strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_api_keys(path) -> list[bytes]:
    """The keys in ``path``; a clear error for a missing, empty or weak key file."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"Expected a readable API key file at '{path}'; got {type(exc).__name__}: "
                                  f"{getattr(exc, 'strerror', None) or exc}. Fix: create it, e.g. {NEW_KEY}") from exc
    keys = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not keys:
        raise DataValidationError(f"Expected at least one API key in '{path}' (one a line); got none. "
                                  f"Fix: {NEW_KEY}")
    short = [k for k in keys if len(k) < MIN_KEY_LENGTH]
    if short:
        raise DataValidationError(f"Expected API keys of at least {MIN_KEY_LENGTH} characters in '{path}'; got "
                                  f"{len(short)} shorter. Fix: use random keys, e.g. {NEW_KEY}")
    return [k.encode("utf-8") for k in keys]


def check_bind(host: str, keys: list[bytes]) -> None:
    """Refuse to listen beyond this machine without API keys."""
    if not is_loopback(host) and not keys:
        raise DataValidationError(
            f"Expected an API key file to listen on '{host}' (reachable from other machines); got none. "
            f"Fix: pass --api-key-file FILE (one key a line; e.g. {NEW_KEY}), or keep the default "
            "--host 127.0.0.1.")


def request_key(headers) -> str | None:
    """The key a request sends: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def key_matches(sent: str | None, keys: list[bytes]) -> bool:
    """Whether ``sent`` is one of ``keys``: every key compared in constant time, none skipped."""
    if sent is None:
        return False
    given = sent.encode("utf-8", "surrogateescape")
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(given, key)
    return ok


def require_key(headers, keys: list[bytes]) -> None:
    """Raise a 401 refusal unless the request carries a configured key (nothing to check without keys)."""
    if not keys:
        return
    sent = request_key(headers)
    if key_matches(sent, keys):
        return
    got = "no key" if sent is None else "a key that is not one of the service's keys"
    raise RequestError("an API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'", got,
                       "send one of the keys in the service's --api-key-file", status=401)
