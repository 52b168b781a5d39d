"""Who may open the studio: read from Streamlit secrets, decided without Streamlit.

Three modes, chosen by what the deployment's secrets hold:

- ``oidc``: an ``[auth]`` table for Streamlit's built-in OpenID Connect login (``st.login``):
  ``redirect_uri``, ``cookie_secret`` and either ``client_id`` / ``client_secret`` /
  ``server_metadata_url`` or named provider sub-tables.
- ``password``: a ``[studio]`` table with ``password`` (plain) or ``password_sha256`` (hex digest),
  for simple demos; compared in constant time.
- ``open``: neither is configured; anyone with the link can use the app.

Nothing here returns or logs a secret; callers get a mode and a yes/no.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from core.errors import DataValidationError

OPEN, PASSWORD, OIDC = "open", "password", "oidc"
_OIDC_SHARED = ("redirect_uri", "cookie_secret")
_OIDC_PROVIDER = ("client_id", "client_secret", "server_metadata_url")


def _table(secrets: Mapping, key: str) -> Mapping | None:
    try:
        value = secrets.get(key) if hasattr(secrets, "get") else None
    except Exception:  # st.secrets raises when no secrets file exists at all
        return None
    return value if isinstance(value, Mapping) else None


def get_access_mode(secrets: Mapping) -> str:
    """``oidc``, ``password`` or ``open`` (see the module docstring).

    Raises ``DataValidationError`` for a half-configured ``[auth]`` table, so a deployment that
    meant to require sign-in never silently opens.
    """
    auth = _table(secrets, "auth")
    if auth:
        missing = [k for k in _OIDC_SHARED if not auth.get(k)]
        has_provider = all(auth.get(k) for k in _OIDC_PROVIDER) or any(
            isinstance(v, Mapping) and all(v.get(k) for k in _OIDC_PROVIDER) for v in auth.values())
        if missing or not has_provider:
            need = missing + ([] if has_provider else ["client_id, client_secret, server_metadata_url"])
            raise DataValidationError(
                "Sign-in is configured in the secrets' [auth] table but incomplete: expected "
                f"redirect_uri, cookie_secret and a provider's client_id, client_secret and "
                f"server_metadata_url; missing {', '.join(need)}. Fix: complete [auth] in the app's "
                "secrets, or remove it to run the app open."
            )
        return OIDC
    studio = _table(secrets, "studio")
    if studio and (studio.get("password") or studio.get("password_sha256")):
        return PASSWORD
    return OPEN


def check_password(given: str, secrets: Mapping) -> bool:
    """Whether ``given`` matches the configured password, compared in constant time."""
    studio = _table(secrets, "studio") or {}
    given_bytes = str(given or "").encode("utf-8")
    if studio.get("password_sha256"):
        digest = hashlib.sha256(given_bytes).hexdigest().encode("ascii")
        return hmac.compare_digest(digest, str(studio["password_sha256"]).strip().lower().encode("ascii"))
    if studio.get("password"):
        return hmac.compare_digest(given_bytes, str(studio["password"]).encode("utf-8"))
    return False
