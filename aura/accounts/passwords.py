"""bcrypt passwords, written and read the way Laravel does."""

from __future__ import annotations

from passlib.hash import bcrypt

# Laravel hashes the first 72 bytes only; anything sharing them is the same password.
MAX_BYTES = 72
# Laravel refuses `$2b$` hashes: every hash Aura writes uses `$2y$`.
IDENT = "2y"
_ACCEPTED = ("$2a$", "$2b$", "$2y$")


def _secret(password: str) -> bytes:
    return password.encode("utf-8", "surrogatepass")[:MAX_BYTES]


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.using(rounds=rounds, ident=IDENT).hash(_secret(password))


def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed or not hashed.startswith(_ACCEPTED):
        return False
    try:
        return bcrypt.verify(_secret(password), hashed)
    except ValueError:
        return False


def needs_rehash(hashed: str, rounds: int) -> bool:
    """True for a `$2a$`/`$2b$` hash or a cost other than BCRYPT_ROUNDS."""
    try:
        cost = int(hashed[4:6])
    except ValueError:
        return True
    return not hashed.startswith("$2y$") or cost != rounds


_dummy_hashes: dict[int, str] = {}


def dummy_hash(rounds: int) -> str:
    """A hash to verify against when the email is unknown, so that both paths cost the same."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = hash_password("not-a-real-password", rounds)
    return _dummy_hashes[rounds]
