"""The sandbox FreeSWITCH: an installed FreeSWITCH binary run with a configuration the project
generates, sipp phones registered as its directory users, and sipp customers.

Nothing of FreeSWITCH is in the repository: the binary is given (`--freeswitch-bin`,
$CCGW_FREESWITCH_BIN) or found on PATH. Its configuration, logs, database, hold music and
(if FreeSWITCH's sound packages are absent) generated sounds live in the state folder
(/var/lib/ccgateway/sandbox-freeswitch, or $CCGW_FREESWITCH_SANDBOX_STATE), apart from the
Asterisk sandbox's, so both can run at once. State (pids, phone modes) is in state.json there;
processes are found again and stopped by their pid only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ccgateway.sandbox import freeswitch_sounds, processes
from ccgateway.sandbox.errors import SandboxError
from ccgateway.sandbox.freeswitch_config import (
    DOMAIN,
    ESL_PORT,
    MAX_AGENTS,
    PROFILE,
    REGISTER_EXPIRES_S,
    SIP_PORT,
    TRUNK_MEDIA_PORT,
    TRUNK_PORT,
    FreeSwitchConfig,
    check_files,
    phone_media_port,
    phone_port,
    render,
    secret_include,
    user_id,
)
from ccgateway.sandbox.freeswitch_probes import EslRefused, esl_api, esl_login_ok, register
from ccgateway.sandbox.phones import (
    CallBatch,
    check_mode,
    check_name,
    check_outside_mode,
    is_phone_alive,
    outside_marker,
    place_calls,
    prune_batches,
    start_outside,
    start_phone,
    stop_batches,
    stop_phone,
)

DEFAULT_STATE_DIR = Path("/var/lib/ccgateway/sandbox-freeswitch")
DIALPLAN_DIR = Path(__file__).resolve().parents[2] / "dialplans" / "freeswitch"
WORK_DIRS = ("log", "db", "run", "tmp", "storage", "recordings", "cache")


def state_dir() -> Path:
    return Path(os.environ.get("CCGW_FREESWITCH_SANDBOX_STATE", str(DEFAULT_STATE_DIR)))


def find_binary(explicit: str | Path | None = None) -> Path:
    """The FreeSWITCH binary: `explicit`, else $CCGW_FREESWITCH_BIN, else `freeswitch` on
    PATH; SandboxError saying what to do if there is none."""
    given = explicit or os.environ.get("CCGW_FREESWITCH_BIN")
    if given:
        path = Path(given)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SandboxError(f"{path} is not an executable FreeSWITCH binary")
        return path.resolve()
    found = shutil.which("freeswitch")
    if found is None:
        raise SandboxError(
            "no FreeSWITCH binary: give --freeswitch-bin PATH (or $CCGW_FREESWITCH_BIN), or put "
            "`freeswitch` on PATH. No package registry this project uses carries it: build "
            "FreeSWITCH 1.10 from source outside the repository."
        )
    return Path(found).resolve()


@dataclass
class FreeSwitchState:
    agents: int = 0
    phones: dict[int, str] = field(default_factory=dict)  # agent -> phone mode
    phone_pids: dict[int, int] = field(default_factory=dict)
    pid: int | None = None
    binary: str = ""
    outside: str = "answer"  # the phone behind the gateway "trunk" (phones.OUTSIDE_MODES)
    outside_pid: int | None = None


@dataclass(frozen=True)
class FreeSwitchPhoneStatus:
    agent: int
    user: str  # the controller's device is user/<user>
    mode: str
    port: int
    pid: int | None
    alive: bool
    registered: bool  # FreeSWITCH's view


@dataclass(frozen=True)
class FreeSwitchStatus:
    running: bool
    version: str
    pid: int | None
    binary: str
    esl: str
    password_file: str
    sip: str
    state_dir: str
    agents: int
    phones: tuple[FreeSwitchPhoneStatus, ...]


class FreeSwitchSandbox:
    """One sandbox FreeSWITCH on this machine; every method may be called from a separate
    process."""

    def __init__(self, state: Path | None = None) -> None:
        self.state_dir = state or state_dir()
        self.conf_dir = self.state_dir / "conf"
        self._state_file = self.state_dir / "state.json"
        self._program = processes.Program(("freeswitch",), str(self.conf_dir))

    # --- lifecycle ---------------------------------------------------------------------------

    def up(
        self,
        agents: int = 4,
        phones: Mapping[int, str] | None = None,
        binary: str | Path | None = None,
        timeout_s: float = 30.0,
        outside: str = "answer",
        hold_timeout_s: int = 900,
    ) -> FreeSwitchStatus:
        """(Re)start FreeSWITCH and one phone per agent, registered as user 1000+K, and the
        outside world behind the gateway `trunk` in `outside` mode (callee: campaigns'
        callees, see `sandbox outside -h`); returns once the Event Socket accepts the
        generated password and every phone is registered. `hold_timeout_s`: the
        dead-controller guard (the global ccgw_hold_timeout)."""
        program = find_binary(binary)
        check_outside_mode(outside)
        if not 1 <= hold_timeout_s <= 86_400:
            raise SandboxError("the hold timeout must be 1-86400 s")
        if not 1 <= agents <= MAX_AGENTS:
            raise SandboxError(f"agents must be 1-{MAX_AGENTS}: agent K's phone is on {SIP_PORT}+K")
        modes = {k: "answer" for k in range(1, agents + 1)} | dict(phones or {})
        for k, mode in modes.items():
            self._check_agent(k, agents)
            check_mode(mode)
        self.down()
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.state_dir.chmod(0o700)
        except PermissionError as exc:
            raise SandboxError(
                f"cannot write {self.state_dir}: run as root, or set "
                "$CCGW_FREESWITCH_SANDBOX_STATE to a folder of yours"
            ) from exc
        self._write_config(agents, program, hold_timeout_s)
        state = FreeSwitchState(agents=agents, phones=dict(sorted(modes.items())), outside=outside)
        state.binary = str(program)
        state.pid = self._start(program)
        self._save(state)
        try:
            self._wait_for_esl(state, timeout_s)
            for k, mode in state.phones.items():
                pid = self._start_phone(k, mode)
                if pid is not None:
                    state.phone_pids[k] = pid
                self._save(state)
            state.outside_pid = self._start_outside(outside)
            self._save(state)
        except SandboxError:
            self.down()
            raise
        return self.status()

    def kill_and_restart(self, timeout_s: float = 30.0) -> None:
        """FreeSWITCH killed (SIGKILL: no hang-up, no goodbye, as a crash) and started again
        on the same configuration; the phones register again (FreeSWITCH forgot them). Its
        calls are gone; the customers' sipp processes are left to end by themselves."""
        state = self._running_state()
        processes.kill(state.pid, self._program)
        state.pid = self._start(Path(state.binary))
        self._save(state)
        self._wait_for_esl(state, timeout_s)
        for k, mode in state.phones.items():
            stop_phone(state.phone_pids.pop(k, None), k, self.state_dir)
            pid = self._start_phone(k, mode)
            if pid is not None:
                state.phone_pids[k] = pid
            self._save(state)

    def down(self) -> None:
        """Stop every process the sandbox started (phones, customers, FreeSWITCH)."""
        state = self._load()
        for agent, pid in state.phone_pids.items():
            stop_phone(pid, agent, self.state_dir)
        processes.stop(state.outside_pid, processes.sipp(outside_marker(self.state_dir)))
        stop_batches(self.state_dir, remove=True)
        # The pid file covers a FreeSWITCH whose state.json was lost.
        pid_file = self.state_dir / "run" / "freeswitch.pid"
        for found in {state.pid, processes.read_pid(pid_file)}:
            if found is not None:
                processes.stop(found, self._program, grace_s=10.0)
                if processes.is_ours(found, self._program):
                    raise SandboxError(f"FreeSWITCH (pid {found}) did not stop")
        self._state_file.unlink(missing_ok=True)

    def status(self) -> FreeSwitchStatus:
        state = self._load()
        running = processes.is_ours(state.pid, self._program)
        version, registered = "", set()
        if running:
            try:
                version = self.api("version").strip()
                registered = self.registered_users()
            except (OSError, SandboxError):
                version = "(the Event Socket does not answer)"
        return FreeSwitchStatus(
            running=running,
            version=version,
            pid=state.pid if running else None,
            binary=state.binary,
            esl=f"127.0.0.1:{ESL_PORT}",
            password_file=str(self.password_file),
            sip=f"127.0.0.1:{SIP_PORT}",
            state_dir=str(self.state_dir),
            agents=state.agents,
            phones=tuple(
                FreeSwitchPhoneStatus(
                    agent=k,
                    user=user_id(k),
                    mode=mode,
                    port=phone_port(k),
                    pid=state.phone_pids.get(k),
                    alive=is_phone_alive(state.phone_pids.get(k), k, self.state_dir),
                    registered=user_id(k) in registered,
                )
                for k, mode in sorted(state.phones.items())
            ),
        )

    @property
    def password_file(self) -> Path:
        """The 0600 file with the Event Socket password (freeswitch.password_file)."""
        return self.state_dir / "esl-password"

    def esl_password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise SandboxError(
                "no ESL password yet: run `ccgateway sandbox up --pbx freeswitch` first"
            ) from exc

    def api(self, command: str, timeout_s: float = 5.0) -> str:
        """One FreeSWITCH API command over the Event Socket (diagnostics, tests); its output."""
        return esl_api(self.esl_password(), command, timeout_s=timeout_s)

    def registered_users(self) -> set[str]:
        """The agents' directory users FreeSWITCH has a contact for (a registration)."""
        agents = self._load().agents
        users = [user_id(k) for k in range(1, agents + 1)]
        return {u for u in users if not self.api(f"sofia_contact {u}@{DOMAIN}").startswith("error")}

    # --- phones and customers ----------------------------------------------------------------

    def set_phone(self, agent: int, mode: str) -> None:
        """Restart agent `agent`'s phone in `mode`: registered (answer, noanswer, busy) or
        unregistered and gone (off)."""
        check_mode(mode)
        state = self._running_state()
        self._check_agent(agent, state.agents)
        stop_phone(state.phone_pids.pop(agent, None), agent, self.state_dir)
        pid = self._start_phone(agent, mode)
        if pid is not None:
            state.phone_pids[agent] = pid
        state.phones[agent] = mode
        self._save(state)

    def set_outside(self, mode: str) -> None:
        """Restart the phone behind the gateway `trunk` in `mode` (phones.OUTSIDE_MODES)."""
        check_outside_mode(mode)
        state = self._running_state()
        processes.stop(state.outside_pid, processes.sipp(outside_marker(self.state_dir)))
        state.outside_pid, state.outside = self._start_outside(mode), mode
        self._save(state)

    def _start_outside(self, mode: str) -> int | None:
        return start_outside(mode, self.state_dir, TRUNK_PORT, TRUNK_MEDIA_PORT)

    def call(
        self,
        extension: str,
        count: int = 1,
        hangup_after: float = 30.0,
        caller: str | None = None,
        wait: bool = False,
        key: str | None = None,
        speak_after: float | None = None,
        name: str | None = None,
    ) -> CallBatch:
        """Customer calls to `extension` (a queue), as `Sandbox.call` does for Asterisk."""
        if name is not None:
            check_name(name)
        self._running_state()
        prune_batches(self.state_dir)
        workdir = Path(tempfile.mkdtemp(prefix="call-", dir=self.state_dir))
        batch = place_calls(
            workdir,
            extension,
            count,
            hangup_after,
            caller,
            key,
            speak_after=speak_after,
            name=name,
            pbx_port=SIP_PORT,
        )
        if wait:
            batch.wait()
        return batch

    # --- internals ---------------------------------------------------------------------------

    def _start_phone(self, agent: int, mode: str) -> int | None:
        # The registration is sent from the phone's own port before sipp takes it, so its
        # contact is exactly where sipp answers; `off` unregisters and starts nothing.
        port = phone_port(agent)
        register(user_id(agent), port, 0 if mode == "off" else REGISTER_EXPIRES_S)
        return start_phone(agent, mode, self.state_dir, port, phone_media_port(agent))

    def _load(self) -> FreeSwitchState:
        try:
            raw = json.loads(self._state_file.read_text())
            return FreeSwitchState(
                agents=int(raw.get("agents", 0)),
                phones={int(k): str(v) for k, v in raw.get("phones", {}).items()},
                phone_pids={int(k): int(v) for k, v in raw.get("phone_pids", {}).items()},
                pid=raw.get("pid"),
                binary=str(raw.get("binary", "")),
                outside=str(raw.get("outside", "answer")),
                outside_pid=raw.get("outside_pid"),
            )
        except (OSError, ValueError, AttributeError, TypeError):
            return FreeSwitchState()

    def _save(self, state: FreeSwitchState) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
        tmp.replace(self._state_file)

    def _running_state(self) -> FreeSwitchState:
        state = self._load()
        if not processes.is_ours(state.pid, self._program):
            raise SandboxError(
                "the FreeSWITCH sandbox is not running: `ccgateway sandbox up --pbx freeswitch`"
            )
        return state

    @staticmethod
    def _check_agent(agent: int, agents: int) -> None:
        if not 1 <= agent <= agents:
            raise SandboxError(f"there is no agent {agent} (agents 1-{agents})")

    def _write_config(self, agents: int, program: Path, hold_timeout_s: int = 900) -> None:
        if not self.password_file.exists():
            self.password_file.touch(mode=0o600)
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.password_file.chmod(0o600)
        secret = self.state_dir / "esl-secret.xml"
        secret.touch(mode=0o600)
        secret.chmod(0o600)
        secret.write_text(secret_include(self.esl_password()))
        config = FreeSwitchConfig(
            agents=agents,
            state_dir=str(self.state_dir),
            secret_file=str(secret),
            sound_prefix=str(freeswitch_sounds.ensure_sounds(program, self.state_dir)),
            moh_dir=str(freeswitch_sounds.write_moh(self.state_dir / "moh")),
            hold_timeout_s=hold_timeout_s,
        )
        files = render(
            config,
            (DIALPLAN_DIR / "ccgateway.xml").read_text(),
            (DIALPLAN_DIR / "event_socket.conf.xml").read_text(),
            (DIALPLAN_DIR / "conference.conf.xml").read_text(),
        )
        check_files(files)
        shutil.rmtree(self.conf_dir, ignore_errors=True)  # no file of an older layout stays
        for name, text in files.items():
            path = self.conf_dir / name
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(text)
        for sub in WORK_DIRS:
            (self.state_dir / sub).mkdir(exist_ok=True)

    def _start(self, program: Path) -> int:
        d = self.state_dir
        command = [
            str(program),
            "-nf", "-nc", "-nonat", "-nonatmap",
            "-conf", str(self.conf_dir),
            "-log", str(d / "log"),
            "-db", str(d / "db"),
            "-run", str(d / "run"),
            "-temp", str(d / "tmp"),
            "-storage", str(d / "storage"),
            "-recordings", str(d / "recordings"),
            "-cache", str(d / "cache"),
        ]  # fmt: skip
        with open(d / "freeswitch.out", "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=d,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return process.pid

    def _wait_for_esl(self, state: FreeSwitchState, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last = "the Event Socket does not answer yet"
        while time.monotonic() < deadline:
            # not yet is_ours: the command line reads empty for a moment after the start
            if not processes.may_be_ours(state.pid, self._program):
                how = processes.exit_status(state.pid) if state.pid else ""
                exited = f"FreeSWITCH exited ({how})" if how else "FreeSWITCH exited"
                raise SandboxExited(f"FreeSWITCH was not ready: {exited}; log:\n{self._log_tail()}")
            try:
                if not esl_login_ok(self.esl_password()):
                    last = f"the Event Socket on 127.0.0.1:{ESL_PORT} does not log us in"
                elif not _profile_running(self.api("sofia status")):
                    last = f"the SIP profile {PROFILE} is not running yet"
                else:
                    return
            except (OSError, EslRefused) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise SandboxError(
            f"FreeSWITCH was not ready in {timeout_s:.0f} s ({last}); log:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        """FreeSWITCH's own output and the errors of its log (a port taken, a bad file)."""
        # each on its own: a FreeSWITCH that exits at once (a pid file locked by another,
        # a port taken) says why on its output before it has any log file
        out = _read(self.state_dir / "freeswitch.out")[-1000:]
        log = _read(self.state_dir / "log/freeswitch.log")
        errors = [line for line in log.splitlines() if "[ERR]" in line or "[CRIT]" in line]
        return "\n".join([out.strip(), *errors[-15:]]).strip() or "(nothing logged)"


class SandboxExited(SandboxError):
    """FreeSWITCH ended while the sandbox waited for it to be ready."""


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _profile_running(sofia_status: str) -> bool:
    """Whether `sofia status` lists the sandbox's profile as RUNNING."""
    return any(
        PROFILE in line and "RUNNING" in line and "profile" in line
        for line in sofia_status.splitlines()
    )
