"""docker/compose.yaml, read as Compose reads it (YAML, merge keys and all), since these
machines have no Docker daemon to run it: the services and their images or builds, the
order of start (PostgreSQL healthy first), ports, volumes, secrets as files, and every
variable the controllers get checked against ccgateway's settings (CCGW_, `__` nesting):
a misspelt one would be ignored by nothing (extra="forbid") but only noticed at start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from sqlalchemy import make_url

from ccgateway.pair import pair_problem
from ccgateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
CONTROLLERS = ("controller-a", "controller-b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def setting_path(name: str) -> list[str] | None:
    """The field path a CCGW_ variable sets (CCGW_API__ADMIN_KEY_FILE: api, admin_key_file),
    or None when Settings has no such field."""
    if not name.startswith("CCGW_"):
        return None
    parts = name.removeprefix("CCGW_").lower().split("__")
    model: type[BaseModel] = Settings
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        if depth < len(parts) - 1:
            nested = field.annotation
            if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
                return None
            model = nested
    return parts


def with_defaults(value: str) -> str:
    """Compose's interpolation of `${NAME:-default}` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_postgres_starts_first_keeps_its_data_and_says_when_it_is_ready(
    compose: dict[str, Any],
) -> None:
    assert set(compose["services"]) == {"postgres", *CONTROLLERS}
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    [data] = postgres["volumes"]
    volume, mount = data.split(":")
    assert mount == "/var/lib/postgresql/data" and volume in compose["volumes"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    for name in CONTROLLERS:
        assert compose["services"][name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"}
        }


def test_both_controllers_are_built_from_the_dockerfile_with_their_own_state(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in CONTROLLERS:
        build = services[name]["build"]
        context = (DOCKER / build["context"]).resolve()
        assert context == ROOT and (context / build["dockerfile"]).is_file()
        state = [v for v in services[name]["volumes"] if v.endswith(":/var/lib/ccgateway")]
        assert [s.split(":")[0] for s in state] == [name] and name in compose["volumes"]
    published = [services[n]["ports"][0].rsplit(":", 2) for n in CONTROLLERS]
    api_port = str(Settings.model_fields["api"].default.port)
    assert all(inside == api_port for _, _, inside in published)  # the API's default port
    assert len({outside for _, outside, _ in published}) == 2
    assert all(address == "127.0.0.1" for address, _, _ in published)  # a proxy in front


def test_the_two_controllers_are_a_pair_each_with_its_name_and_url(
    compose: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 14: both start with `up`; the lease in PostgreSQL makes one of them active.
    services = compose["services"]
    assert not any("profiles" in services[name] for name in CONTROLLERS)
    names, urls = set(), set()
    for name in CONTROLLERS:
        environment = services[name]["environment"]
        for key, value in environment.items():
            monkeypatch.setenv(key, with_defaults(str(value)).replace("/run/secrets/", "/nope/"))
        monkeypatch.delenv("CCGW_DATABASE_PASSWORD_FILE")
        settings = Settings()
        assert settings.ha.mode == "pair" and pair_problem(settings) is None
        assert settings.ha.advertise_url == f"http://{name}:{settings.api.port}"
        names.add(settings.node_id())
        urls.add(settings.ha.advertise_url)
    assert names == set(CONTROLLERS) and len(urls) == 2


@pytest.mark.parametrize("name", CONTROLLERS)
def test_every_variable_a_controller_gets_is_a_setting_and_no_secret_is_in_one(
    compose: dict[str, Any], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose["services"][name]
    environment: dict[str, str] = service["environment"]
    unknown = [key for key in environment if setting_path(key) is None]
    assert unknown == []
    assert make_url(environment["CCGW_DATABASE_URL"]).password is None
    for key, value in environment.items():
        if re.search(r"SECRET|PASSWORD|KEY", key):
            assert key.endswith("_FILE"), f"{key}: a secret goes in a file"
            secret = value.removeprefix("/run/secrets/")
            assert secret in service["secrets"] and secret in compose["secrets"]
            assert compose["secrets"][secret]["file"] == f"./secrets/{secret}"
    # And they load: the same values, the secrets' files made up under tmp_path.
    for secret in service["secrets"]:
        (tmp_path / secret).write_text(f"{secret}-made-up-for-the-test-0123456789\n")
    for key, value in environment.items():
        value = with_defaults(str(value)).replace("/run/secrets/", f"{tmp_path}/")
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert make_url(settings.database_url).password == "db_password-made-up-for-the-test-0123456789"
    assert settings.resolved_admin_key().startswith("admin_key-")
    assert settings.asterisk.resolved_secret().startswith("ami_secret-")
    assert settings.api.host == "0.0.0.0" and settings.asterisk.host == "host.docker.internal"


def test_the_images_own_variables_are_settings_too() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    [block] = re.findall(r"^ENV (.*?)(?:\n(?! )|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    names = re.findall(r"(CCGW_[A-Z_]+)=", block)
    assert names
    # CCGW_CONFIG names the file load_settings reads; the others are fields.
    assert [n for n in names if n != "CCGW_CONFIG" and setting_path(n) is None] == []
