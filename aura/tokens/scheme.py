"""Sanctum's personal access token format, byte for byte.

This is Aura's own code because no library implements Sanctum's scheme: the plaintext is
`{id}|{prefix}{40 random [A-Za-z0-9]}{crc32b of those 40}`, and the table stores the SHA-256
hex of everything after the first `|`.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib
from dataclasses import dataclass

ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 40
# Bigger ids cannot be a bigint primary key; such a token is simply unknown.
MAX_TOKEN_ID = 2**63 - 1


def generate_secret(prefix: str = "") -> str:
    """A new secret: the prefix, 40 random characters, then their CRC32b in lowercase hex."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{prefix}{body}{zlib.crc32(body.encode()):08x}"


def hash_secret(secret: str) -> str:
    """What Sanctum stores in `personal_access_tokens.token`."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A token as presented: `id` is None when the client sent the secret alone."""

    id: int | None
    secret: str

    def __repr__(self) -> str:
        return f"BearerToken(id={self.id}, secret='[secure]')"


def parse_bearer(header: str | None) -> BearerToken | None:
    """Read `Authorization: Bearer ...` the way Laravel does, or None when it is not usable.

    The scheme is case-insensitive and anything after a comma is ignored. With a `|`, the id
    part must be all digits and the secret non-empty.
    """
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.split(",", 1)[0].strip()
    if not value:
        return None
    if "|" not in value:
        return BearerToken(None, value)
    token_id, _, secret = value.partition("|")
    if not token_id.isascii() or not token_id.isdigit() or not secret:
        return None
    number = int(token_id)
    if number > MAX_TOKEN_ID:
        return None
    return BearerToken(number, secret)


@dataclass(frozen=True, slots=True)
class NewAccessToken:
    """A freshly minted token; the plaintext exists only here, in memory, once."""

    id: int
    plain_text: str

    def __repr__(self) -> str:
        return f"NewAccessToken(id={self.id}, plain_text='[secure]')"

    __str__ = __repr__
