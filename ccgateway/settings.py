"""The controller's settings: the one place that reads the environment and config files.

Precedence, highest first: environment variables (`CCGW_...`, nested with `__`, e.g.
`CCGW_ASTERISK__HOST`), then the TOML file named by `--config` or `CCGW_CONFIG`, then the
defaults below. Secrets are never written in the repository: give them through the
environment or a file outside it (`*_file` settings).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ccgateway.domain.agents import DEFAULT_CAPACITY, AgentPolicy
from ccgateway.domain.calendar import zone
from ccgateway.domain.errors import InvalidValue

SANDBOX_SECRET_FILE = Path("/var/lib/ccgateway/sandbox/ami-secret")
# A further PBX's name: what agents' and queues' `pbx` say, and the `pbx` label of metrics.
PBX_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
SECTION_NAMES = ("asterisk", "freeswitch")  # the PBXs of the two sections of their own
TRUNK_ENDPOINT = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _trunk_names(trunks: dict[str, str]) -> dict[str, str]:
    for name, endpoint in trunks.items():
        if not (PBX_NAME.fullmatch(name) or name in SECTION_NAMES):
            raise ValueError(f"trunks: {name!r} is not a PBX's name")
        if not TRUNK_ENDPOINT.fullmatch(endpoint):
            raise ValueError(
                f"trunks.{name}: {endpoint!r} is not a PJSIP endpoint's or a gateway's name "
                "(1-64 of letters, digits, '_', '.', '-')"
            )
    return trunks


# Another PBX's name -> what leads to it from this one (a PJSIP endpoint, a sofia gateway).
Trunks = Annotated[dict[str, str], AfterValidator(_trunk_names)]


class AsteriskSettings(BaseModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "ccgateway"
    secret: SecretStr | None = None
    secret_file: Path | None = SANDBOX_SECRET_FILE
    action_timeout_s: float = Field(5.0, gt=0)
    ping_interval_s: float = Field(1.0, gt=0)
    dead_after_s: float = Field(3.5, gt=0)
    # The PJSIP endpoint that reaches outside numbers (callbacks, transfers to a number).
    trunk: str = Field("trunk", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Other PBXs of this controller this Asterisk reaches over a SIP trunk: PBX name -> the
    # PJSIP endpoint here that leads to it. A queue that names such a PBX in its
    # `trunked_pbxes` has that PBX's agents rung over it (`PJSIP/<phone>@<endpoint>`).
    trunks: Trunks = Field(default_factory=dict)

    def resolved_secret(self, section: str = "asterisk") -> str:
        """The AMI secret; `section` is where the settings came from (`asterisk`, or
        `pbxes.NAME`), so that a missing one is named where the operator set it."""
        env = "CCGW_" + section.upper().replace(".", "__") + "__SECRET"
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_file is not None and self.secret_file.exists():
            return self.secret_file.read_text().strip()
        if self.secret_file is not None:
            raise ValueError(
                f"no AMI secret: {section}.secret_file is {self.secret_file}, which does not "
                "exist; create it (the AMI user's secret, readable by the controller only), "
                f"or set {env}"
            )
        raise ValueError(f"no AMI secret: set {env}, or {section}.secret_file in the config")


class FreeSwitchSettings(BaseModel):
    """A FreeSWITCH driven beside (or instead of) the Asterisk, over its Event Socket."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8021, ge=1, le=65535)
    password: SecretStr | None = None
    password_file: Path | None = None
    inbound_context: str = "ccgw-inbound"
    hold_music: str | None = "local_stream://moh"
    command_timeout_s: float = Field(5.0, gt=0)
    # How an outside number is dialled (transfers to a number); {number} is replaced.
    dial_template: str = "sofia/gateway/trunk/{number}"
    # Other PBXs of this controller this FreeSWITCH reaches over a SIP trunk: PBX name -> the
    # sofia gateway that leads to it (`sofia/gateway/<gateway>/<phone>`), as [asterisk]'s.
    trunks: Trunks = Field(default_factory=dict)

    def resolved_password(self, section: str = "freeswitch") -> str:
        """The Event Socket password; `section` as in AsteriskSettings.resolved_secret."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None and self.password_file.exists():
            return self.password_file.read_text().strip()
        env = "CCGW_" + section.upper().replace(".", "__") + "__PASSWORD"
        raise ValueError(f"no Event Socket password: set {env} or {section}.password_file")


class NamedAsteriskSettings(AsteriskSettings):
    """A further Asterisk (`[pbxes.NAME]` with `kind = "asterisk"`): the `[asterisk]`
    section's fields."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is an error, not a default
    kind: Literal["asterisk"]


class NamedFreeSwitchSettings(FreeSwitchSettings):
    """A further FreeSWITCH (`[pbxes.NAME]` with `kind = "freeswitch"`): the `[freeswitch]`
    section's fields; unlike that section's, it is enabled unless it says otherwise."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["freeswitch"]
    enabled: bool = True


NamedPbxSettings = Annotated[
    NamedAsteriskSettings | NamedFreeSwitchSettings, Field(discriminator="kind")
]


class AgentSettings(BaseModel):
    """Rules for agent states (domain/agents.py AgentPolicy says what each means)."""

    pause_codes: list[str] = Field(default_factory=list, max_length=99)
    no_answer_reason: str = Field("not ready", min_length=1, max_length=100)
    no_answer_resume_s: float | None = Field(None, ge=0, le=86400)
    # Non-voice items an agent handles at once, per channel (an agent may have its own).
    capacity: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CAPACITY))

    def policy(self) -> AgentPolicy:
        return AgentPolicy(
            tuple(self.pause_codes),
            self.no_answer_reason,
            self.no_answer_resume_s,
            dict(self.capacity),
        )


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    admin_key: SecretStr | None = None
    admin_key_file: Path | None = None
    # People's sessions (api/sessions.py): idle this long, a session ends (a wallboard's
    # never); this many failed logins for one name or one address within the window, and
    # logins from it are refused until the oldest failure leaves the window.
    session_idle_s: float = Field(1800, gt=0, le=30 * 86400)
    login_attempts: int = Field(5, ge=1, le=1000)
    login_window_s: float = Field(900, gt=0, le=86400)

    def resolved_admin_key(self) -> str:
        if self.admin_key is not None:
            key = self.admin_key.get_secret_value()
        elif self.admin_key_file is not None and self.admin_key_file.exists():
            key = self.admin_key_file.read_text().strip()
        else:
            raise ValueError("no admin key: set CCGW_ADMIN_KEY or api.admin_key_file")
        if len(key) < 16:
            raise ValueError("the admin key must be at least 16 characters")
        return key


class PrivacySettings(BaseModel):
    """The key under which an erased person's number stays on the do-not-call list (as a
    keyed hash: domain/privacy.py). Lose it and erased numbers are no longer recognised;
    every controller sharing one database needs the same key. Unset, a SQLite database
    keeps it in a file beside itself (`privacy-key`, created on first start)."""

    key: SecretStr | None = None
    key_file: Path | None = None


class RecordingSettings(BaseModel):
    """Where recordings are: the folder the PBX writes them into, as the controller reads it
    (`directory`), and as the PBX sees it (`pbx_directory`, when they differ: a chroot, a
    share mounted elsewhere). Keep it unreadable by others (0750, the PBX's group).

    With `key_file`, each file is encrypted at rest once the call is over and the file
    measured (`<id>.wav.enc`, AES-256-GCM: persistence/sealed_files.py) and the PBX's plain
    file deleted; playback decrypts it. The file holds 32 random bytes in base64 and is made
    (0600) on the first start if missing. Lose it and the sealed recordings are lost; every
    controller reading the folder needs the same one."""

    directory: Path = Path("/var/spool/asterisk/monitor")
    pbx_directory: str | None = None
    agents_hear_own: bool = False  # may an agent list and play its own calls' recordings?
    key_file: Path | None = None  # None: files stay as the PBX wrote them (plain WAV)


class RetentionSettings(BaseModel):
    """When the controller purges what is past its period (the periods themselves are the
    retention policy's, set through the API: they are data, not deployment)."""

    purge_every_h: float = Field(24.0, ge=0, le=24 * 365)  # 0: only on demand
    first_purge_after_s: float = Field(300.0, ge=0, le=86400)
    # Rows deleted per transaction: the centre's own writes go between two batches.
    batch_rows: int = Field(5000, ge=1, le=1_000_000)


class ReportSettings(BaseModel):
    """The interval reports: the centre's time zone (an IANA name: days, weeks and months
    are its wall clock's) and how often the tallies folded in memory are written (a crash
    loses at most that much)."""

    time_zone: str = "UTC"
    flush_every_s: float = Field(5.0, gt=0, le=3600)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            return zone(name).key
        except InvalidValue as exc:
            raise ValueError(str(exc)) from None


class QueueLogSettings(BaseModel):
    """The centre as Asterisk's queue_log (domain/queue_log.py), for reporting tools built
    for app_queue: appended to `file` and/or written to the `queue_log` table (Asterisk's
    realtime layout) of the controller's database. Off unless one is set."""

    file: Path | None = None  # e.g. /var/log/ccgateway/queue_log
    table: bool = False
    # The caller's name as ENTERQUEUE's fourth field (Asterisk's log-caller-id-name).
    caller_name: bool = False
    interval_s: float = Field(0.5, gt=0, le=60)  # how often the buffered lines are written


class WebhookSettings(BaseModel):
    """Signed webhooks (services/webhooks*.py). Only an admin with this config may let
    webhooks reach this host or private networks (`allow_private`): the API cannot."""

    allow_private: bool = False
    timeout_s: float = Field(10.0, gt=0, le=120)  # each attempt, DNS to the answer's status
    first_retry_s: float = Field(10.0, gt=0, le=86400)  # doubled after each failure ...
    max_retry_s: float = Field(3600.0, gt=0, le=86400)  # ... up to this
    max_attempts: int = Field(20, ge=1, le=1000)
    max_age_h: float = Field(24.0, gt=0, le=24 * 30)  # then dead-lettered
    max_pending: int = Field(10_000, ge=1, le=10_000_000)  # per subscription; oldest dead
    in_flight: int = Field(4, ge=1, le=100)  # attempts at once per subscription
    keep_delivered_h: float = Field(72.0, ge=0, le=24 * 3650)
    keep_dead_days: float = Field(30.0, ge=0, le=3650)


class HaSettings(BaseModel):
    """Who this controller is, for the PBX owner mark and the PostgreSQL lease (issue 14).

    `single` (the default, SQLite or PostgreSQL): one controller; it marks the PBXs it drives
    as its own and stays passive on a PBX another live controller has marked. `pair`: two or
    more controllers on one PostgreSQL; the one holding the lease is active, the others wait.
    """

    mode: Literal["single", "pair"] = "single"
    # This controller's name in the lease and the PBXs' owner mark. Unset: the host's name and
    # a digest of the database URL, so a second controller with a database of its own is a
    # different owner and a restarted one is the same. Give each of a pair its own.
    node_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:/-]{1,64}$")
    lease_s: float = Field(3.0, gt=0, le=60)  # how long a lease lasts unrenewed
    renew_s: float = Field(1.0, gt=0, le=30)  # how often the holder renews it
    # Where the others send clients (the API's base URL as they reach it), kept in the lease.
    advertise_url: str | None = None
    # Past its deadline with PostgreSQL away, the active goes on commanding a PBX while it
    # has found its own owner mark there within this many seconds (0: it stops at the
    # deadline); a standby that takes the lease and the PBX waits this out (services/lease.py).
    # At least twice each Asterisk's ping_interval_s, the mark's refresh.
    ride_s: float = Field(2.0, ge=0, le=30)

    @model_validator(mode="after")
    def _renew_within_lease(self) -> HaSettings:
        if self.renew_s * 2 > self.lease_s:
            raise ValueError("ha.renew_s must be at most half of ha.lease_s")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCGW_", env_nested_delimiter="__", extra="forbid")

    database_url: str = "sqlite:////var/lib/ccgateway/ccgateway.db"
    # The password of database_url's user, read from this file at load and put into the URL,
    # so that neither the config nor the environment holds it (Docker secrets, systemd).
    database_password_file: Path | None = None
    # While the database is away, the centre's writes wait in order in memory, up to this
    # many (services/journal.py); past it the newest are refused and counted.
    database_journal_limit: int = Field(100_000, ge=100, le=10_000_000)
    # With a file, those writes are also kept there, and a controller stopped or killed while
    # the database was away writes them at its next start (a single controller's: a pair's
    # writes under a lost lease must not be replayed). Created 0600; refused if others may.
    database_journal_file: Path | None = None
    asterisk: AsteriskSettings = AsteriskSettings()
    freeswitch: FreeSwitchSettings = FreeSwitchSettings()
    api: ApiSettings = ApiSettings()
    agents: AgentSettings = AgentSettings()
    privacy: PrivacySettings = PrivacySettings()
    retention: RetentionSettings = RetentionSettings()
    recordings: RecordingSettings = RecordingSettings()
    reports: ReportSettings = ReportSettings()
    webhooks: WebhookSettings = WebhookSettings()
    admin_key: SecretStr | None = None  # CCGW_ADMIN_KEY, the documented short form
    log_level: str = "INFO"
    # "text" for a terminal; "json": one object per line with the call, agent, queue and
    # campaign ids (ccgateway/logs.py)
    log_format: Literal["text", "json"] = "text"
    queue_log: QueueLogSettings = QueueLogSettings()
    ha: HaSettings = HaSettings()
    # Further PBXs by name (`[pbxes.east]`, `kind = "asterisk"` or "freeswitch"), beside the
    # two sections above; agents and queues name theirs (`pbx`).
    pbxes: dict[str, NamedPbxSettings] = Field(default_factory=dict)

    @field_validator("pbxes")
    @classmethod
    def _pbx_names(cls, pbxes: dict[str, Any]) -> dict[str, Any]:
        for name in pbxes:
            if name in SECTION_NAMES:
                raise ValueError(
                    f"pbxes.{name}: the name belongs to the [{name}] section; pick another"
                )
            if not PBX_NAME.fullmatch(name):
                raise ValueError(
                    f"pbxes.{name!r}: a PBX's name is 1-32 of a-z 0-9 _ -, starting with a letter"
                )
        return pbxes

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _database_password(self) -> Settings:
        if self.database_password_file is not None:
            from sqlalchemy import make_url  # only here: the settings need no database

            try:
                password = self.database_password_file.read_text().strip()
            except OSError as exc:
                raise ValueError(
                    f"database_password_file {self.database_password_file}: {exc.strerror}"
                ) from exc
            url = make_url(self.database_url).set(password=password)
            self.database_url = url.render_as_string(hide_password=False)
        return self

    @model_validator(mode="after")
    def _trunks_lead_somewhere(self) -> Settings:
        for name, section in self.pbx_sections().items():
            for other in section.trunks if section.enabled else ():
                target = self.pbx_sections().get(other)
                if other == name or target is None or not target.enabled:
                    raise ValueError(
                        f"{section_of(name)}.trunks.{other}: not another PBX this controller drives"
                    )
        return self

    def pbx_sections(self) -> dict[str, AsteriskSettings | FreeSwitchSettings]:
        """Every configured PBX by name, enabled or not: `asterisk`, `freeswitch`, then the
        `[pbxes.NAME]` tables in their order."""
        return {"asterisk": self.asterisk, "freeswitch": self.freeswitch, **self.pbxes}

    def node_id(self) -> str:
        """This controller's owner name (HaSettings.node_id)."""
        if self.ha.node_id is not None:
            return self.ha.node_id
        import hashlib
        import socket

        from sqlalchemy import make_url

        url = make_url(self.database_url).render_as_string(hide_password=True)
        digest = hashlib.sha256(url.encode()).hexdigest()[:8]
        return f"{socket.gethostname()[:50]}/{digest}"

    def resolved_admin_key(self) -> str:
        if self.admin_key is not None:
            return ApiSettings(admin_key=self.admin_key).resolved_admin_key()
        return self.api.resolved_admin_key()


def load_settings(config_path: str | Path | None = None) -> Settings:
    """Settings from the TOML file (if any) under the environment's overrides."""
    import os

    path = config_path or os.environ.get("CCGW_CONFIG")
    values: dict[str, Any] = {}
    if path:
        with open(path, "rb") as f:
            values = tomllib.load(f)
    return Settings(**values)


def section_of(name: str) -> str:
    """Where PBX `name`'s settings are: `asterisk`, `freeswitch` or `pbxes.NAME`."""
    return name if name in SECTION_NAMES else f"pbxes.{name}"
