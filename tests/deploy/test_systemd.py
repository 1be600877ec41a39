"""The systemd unit and `make install-service`, checked without a running systemd (these
machines have none as PID 1): the unit parsed as systemd reads it (an INI file), verified
by systemd-analyze where it is installed, and the install target's file steps run for real
under a staging root (DESTDIR) as the current user; the venv step is shown by `make -n`."""

from __future__ import annotations

import configparser
import getpass
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from ccgateway.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "config" / "systemd" / "ccgateway.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(UNIT)
    return parser


def test_the_unit_runs_serve_as_its_own_user_hardened() -> None:
    service = unit()["Service"]
    assert service["ExecStart"] == (
        "/opt/ccgateway/bin/ccgateway serve --config /etc/ccgateway/ccgateway.toml"
    )
    assert service["User"] == service["Group"] == "ccgateway"
    assert service["UMask"] == "0077"  # nothing it creates is readable by others
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ProtectHome"] == "yes"
    assert service["CapabilityBoundingSet"] == ""  # no capability at all
    assert service["Restart"] == "on-failure"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def writable(service: configparser.SectionProxy) -> list[Path]:
    """The folders ProtectSystem=strict leaves writable to the service."""
    found = [
        Path("/var/lib") / service["StateDirectory"],
        Path("/var/log") / service["LogsDirectory"],
    ]
    found += [Path(p.lstrip("-")) for p in service.get("ReadWritePaths", "").split()]
    return found


def test_the_state_folders_are_writable_and_private() -> None:
    service = unit()["Service"]
    assert service["StateDirectoryMode"] == service["LogsDirectoryMode"] == "0700"
    # The shipped config's SQLite database is in a folder the service may write.
    settings = load_settings(str(ROOT / "config" / "ccgateway.toml"))
    database = Path(str(make_url(settings.database_url).database))
    assert any(database.is_relative_to(folder) for folder in writable(service))


def test_systemd_analyze_finds_nothing_wrong_but_the_missing_venv() -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    done = subprocess.run(
        [analyze, "verify", str(UNIT)], capture_output=True, text=True, timeout=60
    )
    # /opt/ccgateway is made by `make install-service`, not here: that complaint alone is fine
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/opt/ccgateway/bin/ccgateway is not executable" not in line
    ]
    assert complaints == []
    security = subprocess.run(
        [analyze, "security", "--offline=yes", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [overall] = [line for line in security.stdout.splitlines() if "Overall exposure" in line]
    exposure = float(overall.split("ccgateway.service:")[1].split()[0])
    assert exposure <= 2.0, overall  # systemd calls up to 2.0 "OK", the best of its grades


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["make", "-C", str(ROOT), *arguments], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_install_service_puts_each_file_in_place_with_its_mode(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    user = getpass.getuser()  # exists: the target creates no user then
    staged = tmp_path / "root"
    make("install-service-files", f"DESTDIR={staged}", f"SERVICE_USER={user}")
    assert mode(staged / "etc/ccgateway") == 0o700
    assert mode(staged / "var/lib/ccgateway") == 0o700
    config = staged / "etc/ccgateway/ccgateway.toml"
    assert mode(config) == 0o600
    assert config.read_text() == (ROOT / "config/ccgateway.toml").read_text()
    installed = staged / "lib/systemd/system/ccgateway.service"
    assert installed.read_bytes() == UNIT.read_bytes() and mode(installed) == 0o644

    config.write_text("# edited by the operator\n")
    make("install-service-files", f"DESTDIR={staged}", f"SERVICE_USER={user}")
    assert config.read_text() == "# edited by the operator\n"  # never overwritten


def test_install_service_makes_the_venv_in_opt_and_the_user_if_missing(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    staged = tmp_path / "root"
    steps = make("-n", "install-service", f"DESTDIR={staged}").stdout
    assert f"-m venv {staged}/opt/ccgateway\n" in steps
    assert f"{staged}/opt/ccgateway/bin/pip install -q .\n" in steps
    assert "getent passwd ccgateway >/dev/null || useradd --system" in steps
    assert "--shell /usr/sbin/nologin ccgateway" in steps
    assert not staged.exists()  # a dry run: nothing done
