"""Typed settings, read from the environment first, then from `.env`.

Every knob lives here, grouped by the service it configures; `.env.example` lists them all.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The value `.env.example` ships with; refused outside development.
PLACEHOLDER_SECRET = "change-me-to-a-long-random-string"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- application -------------------------------------------------------------------
    aura_env: Literal["development", "production"] = "development"
    secret_key: SecretStr | None = None
    aura_data_dir: Path = Path(".aura")
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_request_body: int = 1_048_576
    log_level: str = "INFO"

    # --- PostgreSQL (users, sessions, tokens) ------------------------------------------
    database_url: SecretStr | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Outage answers (503) must come within 2 s: connecting and waiting for the pool each
    # get at most this long, MongoDB server selection MONGO_TIMEOUT_MS.
    db_connect_timeout: float = 1.0
    db_statement_timeout_ms: int = 5_000

    # --- MongoDB (conversations, messages) ---------------------------------------------
    mongo_uri: SecretStr | None = None
    mongo_db: str = "aura_chat"
    mongo_timeout_ms: int = 1_000

    # --- Redis (shared counters across workers) ----------------------------------------
    redis_url: SecretStr | None = None

    # --- accounts ----------------------------------------------------------------------
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    session_cookie: str = "aura_session"
    session_idle_minutes: int = 120
    session_absolute_minutes: int = 60 * 24 * 7
    login_max_attempts: int = 5
    login_decay_seconds: int = 60

    # --- Sanctum tokens ----------------------------------------------------------------
    sanctum_expiration: int | None = None
    sanctum_token_prefix: str = ""
    sanctum_tokenable_type: str = "App\\Models\\User"
    sanctum_last_used_interval: int = 60

    # --- chat --------------------------------------------------------------------------
    chat_max_content: int = 100_000

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "sanctum_expiration", "database_url", "mongo_uri", "redis_url", "secret_key",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """`REDIS_URL=` as `.env.example` ships it means unset, not an empty URL."""
        return None if isinstance(value, str) and value.strip() == "" else value

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> Settings:
        if self.aura_env == "development":
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if not key or key == PLACEHOLDER_SECRET or len(key) < 32:
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production (the .env.example placeholder is refused)"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.aura_env == "development"

    @property
    def embedded(self) -> bool:
        """True when neither database is configured: `aura serve` then starts its own."""
        return self.database_url is None and self.mongo_uri is None

    @cached_property
    def signing_key(self) -> str:
        """The secret used for CSRF and signed values.

        In development without SECRET_KEY a random key is kept under AURA_DATA_DIR, so that
        restarts and several workers agree on it.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.aura_data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
