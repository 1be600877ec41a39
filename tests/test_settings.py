"""The shipped configuration file and what `serve` says when a secret cannot be found."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import make_url

from ccgateway.app import configured_pbxes
from ccgateway.pair import pair_problem
from ccgateway.pbx.asterisk.adapter import AsteriskPbx
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.settings import Settings, load_settings

SHIPPED = Path(__file__).parents[1] / "config" / "ccgateway.toml"


@pytest.fixture(autouse=True)
def _no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CCGW_ASTERISK__SECRET", "CCGW_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_a_missing_secret_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "ami-secret"
    monkeypatch.setenv("CCGW_ASTERISK__SECRET_FILE", str(missing))
    settings = load_settings(SHIPPED)
    with pytest.raises(ValueError, match="does not exist") as refused:
        configured_pbxes(settings)
    assert str(missing) in str(refused.value)
    assert "CCGW_ASTERISK__SECRET" in str(refused.value)


def test_a_secret_file_that_exists_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "ami-secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("CCGW_ASTERISK__SECRET_FILE", str(secret))
    assert load_settings(SHIPPED).asterisk.resolved_secret() == "s3cret"


def test_the_shipped_config_names_the_switch_the_readme_tells_to_turn_off() -> None:
    """The README's FreeSWITCH steps say `asterisk.enabled = false`: the key is there."""
    shipped = tomllib.loads(SHIPPED.read_text())
    assert shipped["asterisk"]["enabled"] is True
    assert shipped["freeswitch"]["enabled"] is False


def test_the_database_password_is_read_from_its_file_into_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("p@ss:w/rd\n")  # characters a URL must escape
    monkeypatch.setenv("CCGW_DATABASE_URL", "postgresql+psycopg://ccgateway@db:5432/ccgateway")
    monkeypatch.setenv("CCGW_DATABASE_PASSWORD_FILE", str(secret))
    url = make_url(load_settings(SHIPPED).database_url)
    assert (url.username, url.password, url.host, url.database) == (
        "ccgateway", "p@ss:w/rd", "db", "ccgateway",
    )  # fmt: skip
    monkeypatch.setenv("CCGW_DATABASE_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="missing"):
        load_settings(SHIPPED)


def test_named_pbxes_are_built_beside_the_two_sections_each_with_its_name(
    tmp_path: Path,
) -> None:
    """`[pbxes.NAME]` tables (issue 14, several PBXs): each builds an adapter of its kind
    carrying its name, which agents and queues name and events are tagged with."""
    config = tmp_path / "ccgateway.toml"
    config.write_text(
        '[asterisk]\nsecret = "a"\n'
        '[pbxes.east]\nkind = "asterisk"\nport = 5138\nsecret = "e"\n'
        '[pbxes.west-1]\nkind = "freeswitch"\nport = 8041\npassword = "w"\n'
        '[pbxes.spare]\nkind = "asterisk"\nenabled = false\nsecret = "s"\n'
    )
    settings = load_settings(config)
    built = configured_pbxes(settings)
    assert [(p.name, type(p)) for p in built] == [
        ("asterisk", AsteriskPbx),
        ("east", AsteriskPbx),
        ("west-1", FreeSwitchPbx),
    ]
    assert [p.client.link.label for p in built[:2]] == ["AMI 127.0.0.1:5038", "AMI 127.0.0.1:5138"]  # type: ignore[attr-defined]
    assert settings.pbxes["west-1"].resolved_password("pbxes.west-1") == "w"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[pbxes.freeswitch]\nkind = "freeswitch"\n', r"belongs to the \[freeswitch\] section"),
        ('[pbxes.East]\nkind = "asterisk"\n', "a-z 0-9 _ -"),
        ('[pbxes.east]\nkind = "pbx"\n', "expected tags: 'asterisk', 'freeswitch'"),
        ('[pbxes.east]\nkind = "asterisk"\npassword = "x"\n', "Extra inputs"),
    ],
)
def test_a_named_pbx_is_refused_with_its_reason(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "ccgateway.toml"
    config.write_text(table)
    with pytest.raises(ValidationError, match=message):
        load_settings(config)


def test_a_named_asterisk_without_its_secret_is_named_by_its_table(tmp_path: Path) -> None:
    config = tmp_path / "ccgateway.toml"
    config.write_text(
        f'[asterisk]\nsecret = "a"\n[pbxes.east]\nkind = "asterisk"\n'
        f'secret_file = "{tmp_path / "none"}"\n'
    )
    with pytest.raises(ValueError, match=r"pbxes\.east\.secret_file .* CCGW_PBXES__EAST__SECRET"):
        configured_pbxes(load_settings(config))


def test_a_pair_s_ride_is_at_least_twice_every_owner_mark_s_refresh_or_off() -> None:
    """A holder riding on the marks must find its own mark again within ride_s, so ride_s
    must span two refreshes of the slowest PBX's mark (services/lease.py)."""
    pair = {"mode": "pair", "advertise_url": "http://cc1.example:8080"}
    url = "postgresql://cc@db.example/cc"
    assert pair_problem(Settings(database_url=url, ha=pair)) is None  # 2.0 s, pings of 1 s
    slow = {"ping_interval_s": 1.5, "secret": "s"}
    problem = pair_problem(Settings(database_url=url, ha=pair, asterisk=slow))
    assert problem is not None and "at least twice the slowest owner mark's refresh" in problem
    both = {"asterisk": {"enabled": False}, "freeswitch": {"enabled": True, "password": "p"}}
    short = Settings(database_url=url, ha={**pair, "ride_s": 1.5}, **both)
    assert "a FreeSWITCH's 1.0 s" in str(pair_problem(short))
    off = Settings(database_url=url, ha={**pair, "ride_s": 0}, asterisk=slow)
    assert pair_problem(off) is None  # stops at the deadline instead
