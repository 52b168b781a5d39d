"""Security: loopback by default, no other address without API keys, keys checked in constant time and
sent as a Bearer token or an X-API-Key header; the start-up checks fail with a clear message."""

from __future__ import annotations

import httpx
import pytest

from core.errors import DataValidationError
from core.server.auth import check_bind, is_loopback, key_matches, read_api_keys, request_key
from tests.server.conftest import Server, serving

KEY = "k3y-for-the-tests-0123456789abcdef"


@pytest.fixture(scope="module")
def secured(onnx_ready, tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    keys = folder / "keys.txt"
    keys.write_text(f"# service keys\n{KEY}\n\nsecond-key-9876543210zyxw\n")
    with serving(["--model", str(onnx_ready["credit"]), "--runtime", "onnx", "--api-key-file", str(keys)],
                 log=folder / "server.log", headers={"X-API-Key": KEY}) as server:
        yield server


def _example(server) -> dict:
    return httpx.get(f"{server.url}/v1/models/credit-1", headers={"X-API-Key": KEY}).json()["input"]["example"]


def test_requests_without_or_with_a_wrong_key_are_401(secured):
    body = _example(secured)
    for headers in ({}, {"Authorization": "Bearer not-the-key-but-long-enough"}, {"X-API-Key": KEY[:-1]},
                    {"Authorization": f"Basic {KEY}"}):
        r = httpx.post(f"{secured.url}/v1/models/credit-1:predict", json=body, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        err = r.json()["error"]
        assert err["expected"] == "an API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
        assert KEY not in r.text
    for path in ("/v1/models", "/v1/models/credit-1", "/openapi.json", "/docs"):
        assert httpx.get(f"{secured.url}{path}").status_code == 401


def test_either_header_with_a_configured_key_is_answered(secured):
    body = _example(secured)
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": "second-key-9876543210zyxw"}):
        r = httpx.post(f"{secured.url}/v1/models/credit-1:predict", json=body, headers=headers)
        assert r.status_code == 200 and "probability_of_default" in r.json()["predictions"][0]


def test_health_without_a_key_says_only_that_it_is_up(secured):
    assert httpx.get(f"{secured.url}/health").json() == {"status": "ok"}
    full = httpx.get(f"{secured.url}/health", headers={"X-API-Key": KEY}).json()
    assert full["runtime"] == "onnx" and full["models"][0]["name"] == "credit-1"


def test_the_docs_say_a_key_is_needed(secured):
    doc = httpx.get(f"{secured.url}/openapi.json", headers={"X-API-Key": KEY}).json()
    assert doc["security"] and "bearer" in doc["components"]["securitySchemes"]
    assert "Authorization: Bearer $STUDIO_API_KEY" in httpx.get(f"{secured.url}/docs", headers={"X-API-Key": KEY}).text


def test_a_non_loopback_host_without_keys_is_refused_before_loading_anything(runs, tmp_path):
    server = Server(["--model", str(runs["credit"]), "--host", "0.0.0.0"], log=tmp_path / "server.log")
    assert server.proc.wait(timeout=120) == 1
    log = server.log.read_text()
    assert "error: Expected an API key file to listen on '0.0.0.0' (reachable from other machines); got none." in log
    assert "Fix: pass --api-key-file FILE" in log


@pytest.mark.parametrize("content, match", [
    ("", r"Expected at least one API key in .* \(one a line\); got none\. Fix:"),
    ("# only a comment\n", r"Expected at least one API key"),
    ("short\n", r"Expected API keys of at least 16 characters in .*; got 1 shorter\. Fix: use random keys"),
])
def test_weak_or_empty_key_files_are_refused(tmp_path, content, match):
    path = tmp_path / "keys.txt"
    path.write_text(content)
    with pytest.raises(DataValidationError, match=match):
        read_api_keys(path)


def test_a_missing_key_file_is_refused(tmp_path):
    with pytest.raises(DataValidationError, match=r"Expected a readable API key file at .*nope.txt'; got FileNotFoundError"):
        read_api_keys(tmp_path / "nope.txt")


def test_loopback_and_key_helpers():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "::", "example.org", ""))
    with pytest.raises(DataValidationError, match=r"Expected an API key file to listen on '10\.0\.0\.5'"):
        check_bind("10.0.0.5", [])
    check_bind("10.0.0.5", [KEY.encode()])
    check_bind("127.0.0.1", [])
    keys = [KEY.encode(), b"another-key-0123456789"]
    assert key_matches(KEY, keys) and key_matches("another-key-0123456789", keys)
    assert not key_matches(KEY + "x", keys) and not key_matches("", keys) and not key_matches(None, keys)
    assert request_key({"authorization": f"bearer {KEY}"}) == KEY and request_key({"x-api-key": f" {KEY} "}) == KEY
    assert request_key({"authorization": f"Basic {KEY}"}) is None


def test_keys_are_compared_in_constant_time():
    """``hmac.compare_digest`` is what compares them (checked on the source: timing tests are flaky)."""
    import inspect

    from core.server import auth

    src = inspect.getsource(auth.key_matches)
    assert "hmac.compare_digest" in src and "==" not in src and "break" not in src and "return True" not in src
