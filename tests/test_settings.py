"""Settings read from the environment the way `.env.example` writes them."""

import pytest

from aura.settings import PLACEHOLDER_SECRET, Settings


def test_blank_urls_count_as_unset():
    settings = Settings(_env_file=None, database_url="", mongo_uri=" ", redis_url="")

    assert settings.database_url is None
    assert settings.mongo_uri is None
    assert settings.redis_url is None
    assert settings.embedded


def test_production_refuses_the_placeholder_secret():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None, aura_env="production", secret_key=PLACEHOLDER_SECRET)


def test_production_refuses_a_missing_secret():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None, aura_env="production", secret_key="")


def test_settings_never_show_secrets_in_their_repr():
    settings = Settings(_env_file=None, secret_key="s" * 40,
                        database_url="postgresql://aura:hunter2@db/aura")

    assert "hunter2" not in repr(settings)
    assert "s" * 40 not in repr(settings)


def test_cors_origins_are_read_from_a_comma_separated_list():
    settings = Settings(_env_file=None, cors_allow_origins="https://a.test, https://b.test")

    assert settings.cors_allow_origins == ["https://a.test", "https://b.test"]
