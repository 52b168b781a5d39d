import hashlib

import pytest

from core.serve.access import OIDC, OPEN, PASSWORD, check_password, get_access_mode
from core.errors import DataValidationError

OIDC_OK = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 32,
           "client_id": "id", "client_secret": "s",
           "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def test_open_without_secrets():
    assert get_access_mode({}) == OPEN
    assert get_access_mode({"studio": {"password": ""}}) == OPEN


def test_password_mode_and_constant_time_check():
    secrets = {"studio": {"password": "s3cret-demo"}}
    assert get_access_mode(secrets) == PASSWORD
    assert check_password("s3cret-demo", secrets)
    assert not check_password("s3cret-dem", secrets)
    assert not check_password("", secrets)
    assert not check_password(None, secrets)


def test_password_sha256():
    secrets = {"studio": {"password_sha256": hashlib.sha256(b"investor day").hexdigest().upper()}}
    assert get_access_mode(secrets) == PASSWORD
    assert check_password("investor day", secrets)
    assert not check_password("investor-day", secrets)


def test_oidc_mode_flat_and_named_provider():
    assert get_access_mode({"auth": OIDC_OK}) == OIDC
    named = {"redirect_uri": OIDC_OK["redirect_uri"], "cookie_secret": "x",
             "google": {k: OIDC_OK[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    assert get_access_mode({"auth": named}) == OIDC
    # OIDC wins over a demo password when both are configured.
    assert get_access_mode({"auth": OIDC_OK, "studio": {"password": "p"}}) == OIDC


def test_incomplete_oidc_never_opens_silently():
    broken = {k: v for k, v in OIDC_OK.items() if k != "cookie_secret"}
    with pytest.raises(DataValidationError, match="incomplete: expected .*missing cookie_secret"):
        get_access_mode({"auth": broken})
    with pytest.raises(DataValidationError, match="missing client_id, client_secret, server_metadata_url"):
        get_access_mode({"auth": {"redirect_uri": "u", "cookie_secret": "c"}})


def test_secrets_object_that_raises_means_open():
    class NoFile(dict):
        def get(self, key, default=None):
            raise FileNotFoundError("no secrets.toml")

    assert get_access_mode(NoFile()) == OPEN
