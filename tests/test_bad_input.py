"""Bad input, endpoint by endpoint: each case names its status, none is a 500, none changes data.

Every case runs against one shared world (two users, a session, a token, conversations and
messages) and compares a snapshot of every stored row and document before and after. A case
whose bad part were ignored would succeed and change something, so each body carries an
otherwise valid request around its bad field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from pymongo import MongoClient

from aura.app import create_app
from aura.settings import Settings
from tests.conftest import AURA_TABLES
from tests.factories import chat_user, say, start
from tests.identity import PASSWORD, login

MIB = 1_048_576
NOT_SENT = object()
SURROGATE = "\ud800-placeholder"
OTHER_EMAIL = "mallory@example.test"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expected: int
    auth: str = "token"
    body: object = NOT_SENT
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None

    def __str__(self) -> str:
        return self.name


# --- bodies: an otherwise valid request per endpoint, and what may be wrong in each field ----

ENDPOINTS = {
    "register": ("POST", "/api/auth/register", "none", {
        "name": "Mallory", "email": OTHER_EMAIL, "password": PASSWORD,
        "password_confirmation": PASSWORD,
    }),
    "login": ("POST", "/api/auth/login", "none", {
        "email": "alice@example.test", "password": PASSWORD,
    }),
    "mint": ("POST", "/api/auth/token", "token", {"name": "extra"}),
    "revoke": ("POST", "/api/auth/token/revoke", "session", {"name": "chat"}),
    "start": ("POST", "/chat/start", "token", {"title": "Nueva"}),
    "message": ("POST", "/chat/message", "token", {
        "conversation_id": "{conversation}", "content": "hola", "role": "user",
        "client_message_id": "c-1",
    }),
    "update": ("PUT", "/chat/conversations/{conversation}", "token", {
        "title": "Renombrada", "bubble_color": "#112233", "background_color": "#445566",
    }),
}
# Endpoints whose body may be absent; an empty body would be a valid request there.
OPTIONAL_BODY = {"mint", "revoke", "start"}

OPERATORS = {
    "gt": {"$gt": ""}, "ne": {"$ne": None}, "where": {"$where": "sleep(100) || true"},
    "regex": {"$regex": ".*"}, "in": {"$in": ["a", "b"]},
}
WRONG_TYPES = {"int": 7, "float": 1.5, "true": True, "list": ["x"], "empty-list": [],
               "object": {"a": "b"}}
STRING_FIELDS = {
    "register": ["name", "email", "password", "password_confirmation"],
    "login": ["email", "password"],
    "mint": ["name"],
    "revoke": ["name"],
    "start": ["title"],
    "message": ["conversation_id", "content", "role", "client_message_id"],
    "update": ["title", "bubble_color", "background_color"],
}
# Field values that are strings, but wrong: (endpoint, field, label, value).
WRONG_STRINGS = [
    ("register", "email", "no-at", "mallory.example.test"),
    ("register", "email", "no-domain-dot", "mallory@example"),
    ("register", "email", "space", "mal lory@example.test"),
    ("register", "email", "too-long", "m" * 250 + "@example.test"),
    ("register", "name", "too-long", "n" * 256),
    ("register", "name", "blank", "   "),
    ("register", "password", "short", "short"),
    ("register", "password", "over-72-bytes", "ñ" * 40),
    ("register", "password_confirmation", "mismatch", PASSWORD + "!"),
    ("login", "email", "empty", ""),
    ("login", "password", "empty", ""),
    ("mint", "name", "too-long", "n" * 256),
    ("revoke", "name", "too-long", "n" * 256),
    ("start", "title", "too-long", "t" * 201),
    ("message", "conversation_id", "short", "0" * 23),
    ("message", "conversation_id", "long", "0" * 25),
    ("message", "conversation_id", "not-hex", "g" * 24),
    ("message", "content", "empty", ""),
    ("message", "content", "blank", "   "),
    ("message", "content", "over-limit", "x" * 100_001),
    ("message", "role", "unknown", "admin"),
    ("message", "role", "upper", "USER"),
    ("message", "client_message_id", "blank", "   "),
    ("message", "client_message_id", "too-long", "c" * 201),
    ("update", "title", "too-long", "t" * 201),
    ("update", "bubble_color", "named", "red"),
    ("update", "bubble_color", "short", "#123"),
    ("update", "background_color", "no-hash", "112233"),
    ("update", "background_color", "script", "#112233;background:url(x)"),
]
OTHER_WRONG_VALUES = [
    ("login", "remember", "string", "yes"),
    ("login", "remember", "number", 2),
    ("login", "remember", "operator", {"$gt": ""}),
    ("login", "remember", "list", [True]),
    ("mint", "abilities", "string", "*"),
    ("mint", "abilities", "empty", []),
    ("mint", "abilities", "number-item", [1]),
    ("mint", "abilities", "operator-item", [{"$gt": ""}]),
    ("mint", "abilities", "operator", {"$ne": None}),
    ("mint", "abilities", "space", ["chat read"]),
    ("mint", "abilities", "long-item", ["a" * 101]),
    ("mint", "abilities", "nested", [["*"]]),
    ("mint", "abilities", "too-many", [f"a{number}" for number in range(51)]),
    ("mint", "expires_in", "zero", 0),
    ("mint", "expires_in", "negative", -5),
    ("mint", "expires_in", "huge", 10**12),
    ("mint", "expires_in", "float", 1.5),
    ("mint", "expires_in", "true", True),
    ("mint", "expires_in", "word", "soon"),
    ("mint", "expires_in", "unit", "5y"),
    ("mint", "expires_in", "operator", {"$gt": 0}),
    ("mint", "expires_in", "nul", "5\x00d"),
]
# Absent required fields (a 422 each; an absent optional field would be fine).
REQUIRED = {
    "register": ["name", "email", "password"],
    "login": ["email", "password"],
    "message": ["conversation_id", "content"],
}
BROKEN_JSON = {
    "truncated": b'{"title": "a"', "single-quotes": b"{'title': 'a'}", "bare-word": b"nul",
    "trailing-garbage": b'{"title": "a"} x', "missing-value": b'{"title": }',
    "nan": b'{"title": NaN}', "invalid-utf8": b'{"title": "\xff\xfe"}',
    "utf16-bom": b'\xff\xfe{\x00}\x00', "deep-arrays": b"[" * 100_000 + b"]" * 100_000,
    "deep-objects": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "deep-open": b"[" * 200_000,
}
NOT_OBJECTS = {"array": [], "string": "title", "number": 1, "null": None, "true": True,
               "array-of-object": [{"title": "a"}]}


def _field_cases(endpoint: str) -> Iterator[Case]:
    method, path, auth, base = ENDPOINTS[endpoint]

    def case(label: str, **changes) -> Case:
        return Case(f"{endpoint}-{label}", method, path, 422, auth,
                    body={**base, **changes})

    for name in STRING_FIELDS[endpoint]:
        for label, value in {**WRONG_TYPES, **OPERATORS}.items():
            yield case(f"{name}-{label}", **{name: value})
        yield case(f"{name}-nul", **{name: "ab\x00cd"})
        raw = json.dumps({**base, name: SURROGATE}).replace(
            json.dumps(SURROGATE)[1:-1], "\\ud800"
        ).encode()
        yield Case(f"{endpoint}-{name}-lone-surrogate", method, path, 422, auth, raw=raw)
    for target, name, label, value in WRONG_STRINGS + OTHER_WRONG_VALUES:
        if target == endpoint:
            yield case(f"{name}-{label}", **{name: value})
    for name in REQUIRED.get(endpoint, []):
        body = {key: value for key, value in base.items() if key != name}
        yield Case(f"{endpoint}-missing-{name}", method, path, 422, auth,
                   body={**body, "user_id": "2", "$where": "1"})


def _shape_cases(endpoint: str) -> Iterator[Case]:
    method, path, auth, _ = ENDPOINTS[endpoint]
    for label, raw in BROKEN_JSON.items():
        yield Case(f"{endpoint}-json-{label}", method, path, 422, auth, raw=raw)
    for label, body in NOT_OBJECTS.items():
        yield Case(f"{endpoint}-body-{label}", method, path, 422, auth, body=body)
    if endpoint not in OPTIONAL_BODY:
        yield Case(f"{endpoint}-body-empty", method, path, 422, auth, raw=b"")
        yield Case(f"{endpoint}-body-whitespace", method, path, 422, auth, raw=b"  \n ")
    yield Case(f"{endpoint}-body-over-limit", method, path, 413, auth,
               raw=b'{"title": "' + b"a" * MIB + b'"}')


# --- credentials: Authorization headers, cookies and CSRF headers -----------------------------

BAD_AUTHORIZATION = {
    "bearer-only": "Bearer", "bearer-space": "Bearer ", "no-space": "Bearer{token}",
    "basic": "Basic YWxpY2U6cGFzc3dvcmQ=", "token-scheme": "Token {token}",
    "empty-secret": "Bearer 1|", "empty-id": "Bearer |{secret}", "letters-id": "Bearer a|{secret}",
    "negative-id": "Bearer -1|{secret}", "huge-id": "Bearer 99999999999999999999999|{secret}",
    "changed-secret": "Bearer {token}x", "cut-secret": "Bearer {token_cut}",
    "sql": "Bearer 1' OR '1'='1", "operator": 'Bearer {"$ne": null}',
    "double-bearer": "Bearer {token} Bearer {token}", "long": "Bearer 1|" + "a" * 8000,
    "pipes": "Bearer ||||", "hash-as-token": "Bearer 1|{hash}",
}
GUARDED = [
    ("GET", "/api/user", NOT_SENT), ("GET", "/api/auth/me", NOT_SENT),
    ("GET", "/api/auth/tokens", NOT_SENT), ("GET", "/chat/history", NOT_SENT),
    ("POST", "/api/auth/token", {}), ("POST", "/api/auth/token/revoke", {}),
    ("POST", "/chat/start", {}), ("DELETE", "/chat/conversations/{conversation}", NOT_SENT),
    ("POST", "/chat/message", {"conversation_id": "{conversation}", "content": "hola"}),
]
# With the session cookie, an unsafe request needs X-XSRF-TOKEN equal to the XSRF-TOKEN cookie.
BAD_CSRF = {
    "no-header": {"cookie": "session+xsrf", "header": None},
    "wrong-header": {"cookie": "session+xsrf", "header": "not-the-token"},
    "empty-header": {"cookie": "session+xsrf", "header": ""},
    "no-xsrf-cookie": {"cookie": "session", "header": "{xsrf}"},
    "equal-garbage": {"cookie": "session+garbage", "header": "garbage"},
    "cut-header": {"cookie": "session+xsrf", "header": "{xsrf_cut}"},
}
UNSAFE = [
    ("POST", "/chat/start", {}), ("POST", "/api/auth/token", {}),
    ("POST", "/api/auth/logout", {}), ("POST", "/api/auth/token/revoke", {}),
    ("PUT", "/chat/conversations/{conversation}", {"title": "x"}),
    ("DELETE", "/chat/conversations/{conversation}", NOT_SENT),
    ("POST", "/chat/message", {"conversation_id": "{conversation}", "content": "hola"}),
]
BAD_SESSION_COOKIES = {
    "garbage": "garbage", "empty": "", "changed": "{session}x", "sql": "' OR 1=1 --",
    "long": "s" * 3000, "operator": '{"$ne":null}',
}


def _credential_cases() -> Iterator[Case]:
    for label, value in BAD_AUTHORIZATION.items():
        for method, path, body in GUARDED:
            yield Case(f"authorization-{label}-{method}-{path}", method, path, 401, "none",
                       body=body, headers={"Authorization": value})
    for method, path, body in GUARDED[:4]:
        yield Case(f"authorization-bad-beside-session-{path}", method, path, 401, "session",
                   body=body, headers={"Authorization": "Bearer 1|nope"})
    for label, csrf in BAD_CSRF.items():
        for method, path, body in UNSAFE:
            yield Case(f"csrf-{label}-{method}-{path}", method, path, 419, "csrf", body=body,
                       headers={"x-aura-csrf": json.dumps(csrf)})
    for label, value in BAD_SESSION_COOKIES.items():
        yield Case(f"session-cookie-{label}", "GET", "/api/auth/me", 401, "none",
                   headers={"Cookie": f"aura_session={value}"})


# --- ids in paths and query parameters -------------------------------------------------------

BAD_IDS = {
    "word": ("abc", 422), "short": ("0" * 23, 422), "long": ("0" * 25, 422),
    "not-hex": ("g" * 24, 422), "operator": ("%24where", 422), "nul": ("%00" * 24, 422),
    "very-long": ("a" * 4000, 422), "unicode": ("%C3%B1" * 24, 422),
    "spaces": ("%20" + "0" * 24, 422), "missing": ("0" * 24, 404), "others": ("{other}", 404),
}
BAD_TOKEN_IDS = {
    "word": ("abc", 422), "negative": ("-1", 422), "decimal": ("1.0", 422),
    "too-long": ("9" * 19, 422), "hex": ("0x1", 422), "exponent": ("1e3", 422),
    "space": ("%201", 422), "unicode-digit": ("%D9%A1", 422), "missing": ("999999", 404),
    "others": ("{other_token_id}", 404),
}
BAD_LIMITS = ["0", "-1", "101", "1000000", "abc", "1.5", "", " 5", "%00", "99999999999999999999",
              "1e2", "0x10"]
BAD_CURSORS = ["garbage", "a" * 5000, '{"$gt":""}', "eyJ9", "{cursor_other}"]


def _id_and_query_cases() -> Iterator[Case]:
    for label, (value, status) in BAD_IDS.items():
        base = f"/chat/conversations/{value}"
        yield Case(f"id-{label}-messages", "GET", f"{base}/messages", status)
        yield Case(f"id-{label}-put", "PUT", base, status, body={"title": "x"})
        yield Case(f"id-{label}-delete", "DELETE", base, status)
    for label, (value, status) in BAD_TOKEN_IDS.items():
        yield Case(f"token-id-{label}", "DELETE", f"/api/auth/tokens/{value}", status)
    for path in ("/chat/history", "/chat/conversations/{conversation}/messages"):
        for value in BAD_LIMITS:
            yield Case(f"limit-{value!r}-{path}", "GET", path, 422, params={"limit": value})
        for value in BAD_CURSORS:
            yield Case(f"cursor-{value[:20]!r}-{path}", "GET", path, 422,
                       params={"cursor": value})


def _extra_field_cases() -> Iterator[Case]:
    """Fields a client may not set are ignored: the update still changes nothing of theirs."""
    path = "/chat/conversations/{conversation}"
    for label, body in {
        "set-operator": {"$set": {"user_id": "2"}}, "user-id": {"user_id": "2"},
        "id": {"_id": "0" * 24}, "dates": {"created_at": "2000-01-01T00:00:00Z"},
        "theme-object": {"theme": {"bubble_color": "#000000"}},
    }.items():
        yield Case(f"update-extra-{label}", "PUT", path, 200, body=body)


CASES = [
    *(case for endpoint in ENDPOINTS for case in _field_cases(endpoint)),
    *(case for endpoint in ENDPOINTS for case in _shape_cases(endpoint)),
    *_credential_cases(),
    *_id_and_query_cases(),
    *_extra_field_cases(),
]


def test_the_table_has_at_least_300_cases_with_unique_names():
    assert len(CASES) >= 300
    assert len({case.name for case in CASES}) == len(CASES)


# --- the shared world and the snapshot ---------------------------------------------------------


@dataclass
class World:
    client: AsyncTestClient
    token: str
    session: str
    xsrf: str
    conversation: str
    other: str
    other_token_id: str
    cursor_other: str


@pytest.fixture(scope="module", autouse=True)
def clean_databases(database_url, mongo_server):
    """Once for the module: the cases share one world and must leave it as they found it."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {AURA_TABLES} RESTART IDENTITY")
    client = MongoClient(mongo_server.uri)
    for name in ("conversations", "messages"):
        client["aura_test"][name].delete_many({})
    client.close()


@pytest.fixture(scope="module")
async def world(database_url, mongo_server, tmp_path_factory) -> AsyncIterator[World]:
    settings = Settings(
        _env_file=None, database_url=database_url, mongo_uri=mongo_server.uri,
        mongo_db="aura_test", aura_data_dir=tmp_path_factory.mktemp("bad-input"),
        secret_key="test-secret-key-that-is-long-enough-for-tests", bcrypt_rounds=4,
        login_max_attempts=1000,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        bob = await chat_user(client, "bob@example.test")
        other = await start(client, bob, "Bob's")
        for number in range(3):
            await say(client, bob, other["id"], f"bob {number}")
        page = await client.get(f"/chat/conversations/{other['id']}/messages",
                                params={"limit": 1}, headers=bob.headers)
        alice = await chat_user(client, "alice@example.test")
        conversation = await start(client, alice, "Alice's")
        await say(client, alice, conversation["id"], "hola", client_message_id="c-1")
        await login(client)
        session, xsrf = client.cookies["aura_session"], client.cookies["XSRF-TOKEN"]
        client.cookies.clear()
        yield World(
            client, alice.headers["Authorization"].split()[1], session, xsrf,
            conversation["id"], other["id"],
            bob.headers["Authorization"].split()[1].split("|")[0], page.json()["next_cursor"],
        )


class Store:
    """Direct connections to both databases, to photograph everything Aura stores."""

    def __init__(self, database_url: str, mongo_uri: str) -> None:
        self.postgres = psycopg.connect(database_url, autocommit=True)
        self.mongo = MongoClient(mongo_uri)

    def snapshot(self) -> dict:
        """Every row and document, less the columns Aura updates on any authenticated read."""
        run = self.postgres.execute
        database = self.mongo["aura_test"]
        return {
            "users": run("SELECT * FROM users ORDER BY id").fetchall(),
            "tokens": run(
                "SELECT id, tokenable_id, name, token, abilities, expires_at, created_at"
                " FROM personal_access_tokens ORDER BY id").fetchall(),
            "sessions": run("SELECT id, user_id FROM sessions ORDER BY id").fetchall(),
            "conversations": list(database.conversations.find().sort("_id")),
            "messages": list(database.messages.find().sort("_id")),
        }

    def close(self) -> None:
        self.postgres.close()
        self.mongo.close()


@pytest.fixture(scope="module")
def store(database_url, mongo_server) -> Iterator[Store]:
    opened = Store(database_url, mongo_server.uri)
    yield opened
    opened.close()


def _fill(text: str, world: World) -> str:
    secret = world.token.split("|", 1)[1]
    return (
        text.replace("{conversation}", world.conversation).replace("{other}", world.other)
        .replace("{other_token_id}", world.other_token_id)
        .replace("{cursor_other}", world.cursor_other or "")
        .replace("{token_cut}", world.token[:-2]).replace("{token}", world.token)
        .replace("{secret}", secret).replace("{session}", world.session)
        .replace("{hash}", hashlib.sha256(secret.encode()).hexdigest())
        .replace("{xsrf_cut}", world.xsrf[:-2]).replace("{xsrf}", world.xsrf)
    )


def _fill_body(body: object, world: World) -> object:
    if isinstance(body, str):
        return _fill(body, world)
    if isinstance(body, dict):
        return {key: _fill_body(value, world) for key, value in body.items()}
    return body


def _headers(case: Case, world: World) -> dict[str, str]:
    headers = {name: _fill(value, world) for name, value in case.headers.items()}
    if case.auth == "token":
        headers["Authorization"] = f"Bearer {world.token}"
    elif case.auth == "session":
        headers["Cookie"] = f"aura_session={world.session}; XSRF-TOKEN={world.xsrf}"
        headers["X-XSRF-TOKEN"] = world.xsrf
    elif case.auth == "csrf":
        csrf = json.loads(headers.pop("x-aura-csrf"))
        cookies = {"session": f"aura_session={world.session}",
                   "xsrf": f"XSRF-TOKEN={world.xsrf}", "garbage": "XSRF-TOKEN=garbage"}
        headers["Cookie"] = "; ".join(cookies[part] for part in csrf["cookie"].split("+"))
        if csrf["header"] is not None:
            headers["X-XSRF-TOKEN"] = _fill(csrf["header"], world)
    if case.raw is not None or case.body is not NOT_SENT:
        headers["Content-Type"] = "application/json"
    return headers


def _content(case: Case, world: World) -> bytes | None:
    if case.raw is not None:
        return case.raw.replace(b"{conversation}", world.conversation.encode())
    if case.body is NOT_SENT:
        return None
    return json.dumps(_fill_body(case.body, world), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_bad_input_is_refused_and_changes_nothing(case, world, store):
    before = store.snapshot()

    response = await world.client.request(
        case.method, _fill(case.path, world), content=_content(case, world),
        headers=_headers(case, world), params=case.params,
    )

    world.client.cookies.clear()
    assert response.status_code == case.expected, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert response.status_code < 400 or "message" in response.json()
    assert store.snapshot() == before
