"""docker-compose.yml, the Dockerfile and .env.example agree with each other and with Aura.

No Docker engine runs here, so the checks `docker compose config` makes are made by hand:
variables are interpolated the way the compose specification defines, and the result is
validated against the specification's JSON schema (the copy check-jsonschema ships).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from dotenv import dotenv_values

from aura.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "SECRET_KEY": "k" * 48,
    "POSTGRES_PASSWORD": "pgpassword123",
    "MONGO_ROOT_PASSWORD": "mongopassword123",
}
# Values the compose file sets for the container on purpose, instead of passing .env through.
FIXED = {"aura_env", "secret_key", "aura_data_dir", "database_url", "mongo_uri", "redis_url"}

# $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+x},
# ${NAME+x} and $NAME, as the compose specification's interpolation section lists them.
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    pass


def _substitute(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation of one string; no Python library implements it, hence ours."""
    out, position = [], 0
    for match in VARIABLE.finditer(text):
        out.append(text[position:match.start()])
        position = match.end()
        if match["escaped"]:
            out.append("$")
            continue
        name, op, arg = match["braced"] or match["named"], match["op"], match["arg"] or ""
        value = env.get(name)
        unset_or_empty = not value
        missing = unset_or_empty if op and op.startswith(":") else value is None
        if op in ("-", ":-"):
            out.append(arg if missing else value)
        elif op in ("?", ":?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            out.append(value)
        elif op in ("+", ":+"):
            out.append("" if missing else arg)
        else:
            out.append(value or "")
    rest = text[position:]
    assert "$" not in rest, f"interpolation compose would not understand: {text!r}"
    return "".join(out) + rest


def _interpolate(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: _interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate(item, env) for item in node]
    if isinstance(node, str):
        return _substitute(node, env)
    return node


def _raw() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _example() -> dict[str, str]:
    return {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}


def _compose(env: dict[str, str]) -> dict:
    return _interpolate(_raw(), env)


def _configured() -> dict:
    """The file as compose sees it for a user who copied .env.example and set the secrets."""
    return _compose({**_example(), **SECRETS})


def _referenced_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return {
        m["braced"] or m["named"] for m in VARIABLE.finditer(text) if not m["escaped"]
    }


def _setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_the_compose_file_is_valid_against_the_compose_specification():
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())

    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_configured())]

    assert errors == []


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_compose_stops_when_a_secret_is_unset(name):
    env = {k: v for k, v in {**_example(), **SECRETS}.items() if k != name}

    with pytest.raises(MissingVariable, match=name):
        _compose(env)


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_compose_stops_when_a_secret_is_empty(name):
    env = {**_example(), **SECRETS, name: ""}

    with pytest.raises(MissingVariable, match=name):
        _compose(env)


def test_the_env_example_as_shipped_leaves_the_passwords_to_be_set():
    with pytest.raises(MissingVariable, match="PASSWORD"):
        _compose(_example())


def test_every_setting_aura_reads_is_given_to_the_aura_container():
    environment = _configured()["services"]["aura"]["environment"]

    assert _setting_names() - set(environment) == set()


def test_the_container_gets_a_valid_production_configuration_with_the_code_defaults():
    environment = _compose(SECRETS)["services"]["aura"]["environment"]

    settings = Settings(_env_file=None, **{k.lower(): v for k, v in environment.items()})

    assert settings.aura_env == "production"
    assert settings.redis_url.get_secret_value() == "redis://redis:6379/0"
    assert settings.database_url.get_secret_value() == (
        "postgresql://aura:pgpassword123@postgres:5432/aura_main"
    )
    for name, field in Settings.model_fields.items():
        if name not in FIXED:
            default = field.get_default(call_default_factory=True)
            assert getattr(settings, name) == default, name


def test_every_variable_is_documented_in_env_example():
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = {
        line.split("=", 1)[0]: i for i, line in enumerate(lines) if re.match(r"^\w+=", line)
    }

    undocumented = []
    for name in sorted(_referenced_variables() | _setting_names()):
        i = assigned.get(name)
        while i is not None and i > 0 and re.match(r"^\w+=", lines[i - 1]):
            i -= 1
        if i is None or i == 0 or not lines[i - 1].startswith("#"):
            undocumented.append(name)

    assert undocumented == []


def test_only_aura_publishes_a_port_and_all_share_one_network():
    services = _configured()["services"]

    published = {name for name, service in services.items() if service.get("ports")}
    networks = {name: service["networks"] for name, service in services.items()}

    assert published == {"aura"}
    assert services["aura"]["ports"] == ["8000:8000"]
    assert set(map(tuple, networks.values())) == {("aura_network",)}
    assert _configured()["networks"]["aura_network"]["name"] == "aura_network"


def test_databases_keep_their_data_in_named_volumes_and_mongo_has_a_healthcheck():
    compose = _configured()
    services = compose["services"]

    assert services["postgres"]["image"] == "postgres:16"
    assert services["mongo"]["image"] == "mongo:7"
    assert services["postgres"]["volumes"] == ["postgres_data:/var/lib/postgresql/data"]
    assert services["mongo"]["volumes"] == ["mongo_data:/data/db"]
    assert set(compose["volumes"]) == {"postgres_data", "mongo_data"}
    assert "mongosh" in services["mongo"]["healthcheck"]["test"]
    assert all(
        condition == {"condition": "service_healthy"}
        for condition in services["aura"]["depends_on"].values()
    )


def test_the_image_runs_unprivileged_migrates_first_and_checks_health():
    # Instructions continued over several lines with a trailing backslash, joined as Docker does.
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", "")

    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M)[1])
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)

    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^RUN pip install \.", dockerfile, re.M)
    assert "aura db upgrade && exec aura serve --host 0.0.0.0" in entrypoint[2]
    assert re.search(r"^HEALTHCHECK .*/health", dockerfile, re.M | re.S)
