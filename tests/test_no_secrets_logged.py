"""No password, token, token hash, session id or CSRF token reaches any log line."""

import hashlib
import logging

from tests.identity import PASSWORD, bearer, login, mint, register


async def test_a_full_identity_flow_logs_no_secret(client, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = [PASSWORD, "wrong-password-123"]

    await register(client)
    secrets_seen.append(client.cookies["aura_session"])
    secrets_seen.append(client.cookies["XSRF-TOKEN"])
    token = await mint(client)
    secret = token.split("|", 1)[1]
    secrets_seen += [token, secret, hashlib.sha256(secret.encode()).hexdigest()]
    client.cookies.clear()
    await login(client, password="wrong-password-123")
    await login(client)
    secrets_seen.append(client.cookies["aura_session"])
    await client.get("/api/user", headers=bearer(token))
    await client.get("/api/user", headers=bearer(token[:-1] + "x"))
    await client.get("/api/user", headers=bearer("garbage-token-value"))
    await client.post("/api/auth/token/revoke", headers=bearer(token))
    await client.get("/api/user", headers=bearer(token))

    captured = capfd.readouterr()
    logged = "\n".join(
        [captured.out, captured.err]
        + [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    )
    assert caplog.records, "the flow should have produced log records to inspect"
    for value in secrets_seen + ["garbage-token-value"]:
        assert value not in logged
