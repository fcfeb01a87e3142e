"""`/schema` documents every operation with its errors, and the running server keeps to it.

Schemathesis generates requests from the schema, valid and invalid, and sends them to a real
`aura serve` process, once with a bearer token and once with a logged-in session cookie; no
answer may be a 5xx and every answer must match what the schema says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from aura.app import create_app
from aura.settings import Settings
from tests.browser import conftest as browser_conftest
from tests.identity import PASSWORD

ALWAYS = {503}
GUARDED = {401}
UNSAFE_WITH_BODY = {413, 419, 422}
PUBLIC = {("get", "/health"), ("get", "/up"), ("get", "/sanctum/csrf-cookie"),
          ("post", "/api/auth/register"), ("post", "/api/auth/login")}


def _operations(app) -> Iterator[tuple[str, str, dict]]:
    for path, item in app.openapi_schema.to_schema()["paths"].items():
        for method in ("get", "post", "put", "delete"):
            if method in item:
                yield method, path, item[method]


def test_every_operation_documents_its_error_responses(app):
    for method, path, operation in _operations(app):
        documented = {int(status) for status in operation["responses"]}
        expected = set(ALWAYS)
        if (method, path) not in PUBLIC:
            expected |= GUARDED
        if path.startswith("/chat/"):
            expected |= {403, 422}
        if "requestBody" in operation:
            expected |= UNSAFE_WITH_BODY

        assert expected <= documented, (method, path, documented)


def test_error_bodies_are_described_by_their_two_shapes(app):
    schemas = app.openapi_schema.to_schema()["components"]["schemas"]

    assert set(schemas["ErrorBody"]["required"]) == {"message"}
    assert set(schemas["ValidationErrorBody"]["required"]) == {"message", "errors"}


# `aura serve` on the suite's databases in its own process, as the browser tests start it.
live_server = browser_conftest.live_server


class Caller:
    """A user with a session and a token; either one authenticates the generated requests.

    Generated requests may log out, revoke or replace these credentials; `ensure` renews
    whichever no longer works before the next request.
    """

    def __init__(self, base_url: str, via: str) -> None:
        self.base_url = base_url
        self.via = via
        self.email = f"fuzz-{via}-{time.monotonic_ns()}@example.test"
        self.session = requests.Session()
        self.token = ""
        self._call("get", "/sanctum/csrf-cookie")
        self._call("post", "/api/auth/register", json={
            "name": "Fuzz", "email": self.email, "password": PASSWORD,
            "password_confirmation": PASSWORD,
        })

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-XSRF-TOKEN": self.session.cookies.get("XSRF-TOKEN", "")}
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def ensure(self) -> None:
        if self._call("get", "/api/auth/me").status_code != 200:
            self.session.cookies.clear()
            self._call("get", "/sanctum/csrf-cookie")
            self._call("post", "/api/auth/login", json={"email": self.email, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {self.token}"}
        if requests.get(self.base_url + "/api/user", headers=bearer).status_code != 200:
            minted = self._call("post", "/api/auth/token", json={"name": "fuzz"})
            self.token = minted.json()["token"]

    def headers(self) -> dict[str, str]:
        xsrf = {"X-XSRF-TOKEN": self.session.cookies.get("XSRF-TOKEN", "")}
        if self.via == "token":
            return {"Authorization": f"Bearer {self.token}", **xsrf}
        return xsrf


@pytest.fixture
def callers(live_server) -> list[Caller]:
    return [Caller(live_server.url, "token"), Caller(live_server.url, "session")]


def _documented_schema() -> dict:
    """The schema as the app builds it; building the app opens no connection."""
    settings = Settings(
        _env_file=None, database_url="postgresql://schema-only/aura",
        mongo_uri="mongodb://schema-only", secret_key="schema-only-secret-key-long-enough-12345",
    )
    return create_app(settings).openapi_schema.to_schema()


# Loaded when the module is collected, so that pytest shows one test per operation; the
# requests go to the `aura serve` process, whose own /schema is checked to be this one.
schema = schemathesis.openapi.from_dict(_documented_schema())
# The schema states types, lengths and patterns, not every rule: Aura reads bodies leniently
# where Laravel does ("1" is a fine `remember`) and checks what a schema cannot say (the
# password confirmation must match, an email must have a dot in its domain). So whether data
# is accepted or refused is left to the bad-input suite; here every answer must be documented,
# match its schema and never be a 5xx.
# Litestar's automatic OPTIONS answer lists only one of the methods two handlers share on
# one path (PUT and DELETE on a conversation); Allow is not what the SPA or CORS rely on.
schema.config.checks.update(
    excluded_check_names=[
        "negative_data_rejection", "positive_data_acceptance", "allow_header_conformance",
    ]
)


def test_the_server_serves_the_documented_schema(live_server):
    served = requests.get(f"{live_server.url}/schema/openapi.json", timeout=5)

    assert served.json() == _documented_schema()


@schema.parametrize()
@settings(
    max_examples=8, deadline=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_server_keeps_to_its_schema(case, callers):
    for caller in callers:
        caller.ensure()

        case.call_and_validate(
            base_url=caller.base_url, session=caller.session, headers=caller.headers()
        )
