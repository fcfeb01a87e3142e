"""`aura user` and `aura token` against the real database."""

import hashlib

import psycopg
from click.testing import CliRunner

from aura.cli import main


def _invoke(database_url, *args, input=None):
    env = {"DATABASE_URL": database_url, "BCRYPT_ROUNDS": "4", "AURA_ENV": "development"}
    return CliRunner().invoke(main, list(args), input=input, env=env)


def _scalar(database_url, sql, *params):
    with psycopg.connect(database_url) as connection:
        return connection.execute(sql, params).fetchone()[0]


def test_user_create_reads_the_password_from_stdin_and_stores_a_2y_hash(database_url):
    result = _invoke(database_url, "user", "create", "--email", "cli@example.test",
                     "--name", "Cli", input="a long password\n")

    assert result.exit_code == 0, result.output
    hashed = _scalar(database_url, "SELECT password FROM users WHERE email = 'cli@example.test'")
    assert hashed.startswith("$2y$04$")
    assert "a long password" not in result.output


def test_user_create_refuses_a_taken_email(database_url):
    _invoke(database_url, "user", "create", "--email", "cli@example.test", "--name", "Cli",
            input="a long password\n")

    result = _invoke(database_url, "user", "create", "--email", "CLI@example.test",
                     "--name", "Cli", input="a long password\n")

    assert result.exit_code != 0
    assert "already been taken" in result.output


def test_token_create_prints_the_plaintext_once_and_stores_its_hash(database_url):
    _invoke(database_url, "user", "create", "--email", "cli@example.test", "--name", "Cli",
            input="a long password\n")

    result = _invoke(database_url, "token", "create", "--email", "cli@example.test",
                     "--ability", "chat:read", "--expires-in", "30d")

    plain = result.output.strip()
    token_id, secret = plain.split("|", 1)
    stored = _scalar(database_url, "SELECT token FROM personal_access_tokens WHERE id = %s",
                     int(token_id))
    abilities = _scalar(database_url,
                        "SELECT abilities FROM personal_access_tokens WHERE id = %s", int(token_id))
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert abilities == '["chat:read"]'


def test_token_create_for_an_unknown_email_fails_cleanly(database_url):
    result = _invoke(database_url, "token", "create", "--email", "nobody@example.test")

    assert result.exit_code != 0
    assert "no user has that email" in result.output


def test_token_revoke_deletes_the_row(database_url):
    _invoke(database_url, "user", "create", "--email", "cli@example.test", "--name", "Cli",
            input="a long password\n")
    token_id = _invoke(database_url, "token", "create", "--email",
                       "cli@example.test").output.split("|")[0]

    result = _invoke(database_url, "token", "revoke", token_id)
    again = _invoke(database_url, "token", "revoke", token_id)

    assert result.exit_code == 0
    assert again.exit_code != 0
    assert _scalar(database_url, "SELECT count(*) FROM personal_access_tokens") == 0


def test_token_prune_removes_only_tokens_expired_longer_than_the_window(database_url):
    _invoke(database_url, "user", "create", "--email", "cli@example.test", "--name", "Cli",
            input="a long password\n")
    with psycopg.connect(database_url, autocommit=True) as connection:
        for name, expires in (("old", "now() - interval '25 hours'"),
                              ("recent", "now() - interval '1 hour'"),
                              ("never", "NULL")):
            connection.execute(
                "INSERT INTO personal_access_tokens (tokenable_type, tokenable_id, name, token,"
                f" abilities, expires_at, created_at) VALUES ('App\\Models\\User', 1, %s,"
                f" md5(%s) || md5(%s), '[\"*\"]', {expires}, now())", (name, name, name + "x"),
            )

    result = _invoke(database_url, "token", "prune", "--hours", "24")

    assert "Pruned 1" in result.output
    with psycopg.connect(database_url) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM personal_access_tokens")}
    assert names == {"recent", "never"}
