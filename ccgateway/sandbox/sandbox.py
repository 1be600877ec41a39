"""The sandbox PBX: a real Asterisk 22 in a cached root folder, and sipp phones and customers.

State (pids, phone modes) lives in /var/lib/ccgateway/sandbox/state.json so that `up`,
`status`, `call` and `down` can be separate commands.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from ccgateway.sandbox import rootfs
from ccgateway.sandbox.asterisk_config import (
    AMI_PORT,
    CONF_DIR,
    MAX_AGENTS,
    SIP_PORT,
    TRUNK_PORT,
    SandboxConfig,
    phone_port,
    render,
)
from ccgateway.sandbox.rootfs import SandboxError

STATE_DIR = Path(os.environ.get("CCGW_SANDBOX_STATE", "/var/lib/ccgateway/sandbox"))
PHONE_MODES = ("answer", "noanswer", "off")
DIALPLAN = Path(__file__).resolve().parents[2] / "dialplans" / "asterisk" / "ccgateway.conf"


@dataclass
class State:
    agents: int = 0
    phones: dict[str, str] = field(default_factory=dict)  # "K" -> mode
    asterisk_pid: int | None = None
    phone_pids: dict[str, int] = field(default_factory=dict)


class Sandbox:
    def __init__(self, root: Path | None = None, state_dir: Path = STATE_DIR) -> None:
        self.root = root or rootfs.root_path()
        self.state_dir = state_dir
        self._state_file = state_dir / "state.json"

    # --- lifecycle -------------------------------------------------------------------------

    def up(
        self, agents: int = 4, phones: dict[int, str] | None = None, hold_timeout_s: int = 900
    ) -> State:
        """Start Asterisk and the agents' phones; returns once AMI and the endpoints answer."""
        rootfs.require_root()
        if not 1 <= agents <= MAX_AGENTS:
            raise SandboxError(
                f"--agents must be 1-{MAX_AGENTS} (agent K's phone is on port "
                f"5070+K and {TRUNK_PORT} is the customers' trunk)"
            )
        modes = {k: "answer" for k in range(1, agents + 1)} | (phones or {})
        for k, mode in modes.items():
            _check_mode(k, mode, agents)
        self.down(quiet=True)
        rootfs.ensure_root(self.root)
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_config(agents, hold_timeout_s)
        rootfs.mount_all(self.root)
        state = State(agents=agents, phones={str(k): m for k, m in modes.items()})
        state.asterisk_pid = self._start_asterisk()
        self._save(state)
        for k, mode in modes.items():
            self._start_phone(state, k, mode)
        self._save(state)
        self._wait_for_asterisk(agents)
        return state

    def down(self, quiet: bool = False) -> None:
        """Stop everything the sandbox started and unmount; leaves no process or mount."""
        state = self._load()
        for pid in state.phone_pids.values():
            _kill(pid)
        _kill_matching(f"sipp.*{self.state_dir}")
        if state.asterisk_pid or _pids_matching(f"asterisk -C {CONF_DIR}"):
            subprocess.run(
                self._asterisk_cmd("-rx", "core stop now"),
                capture_output=True,
                timeout=15,
                check=False,
            )
            if state.asterisk_pid:
                _kill(state.asterisk_pid, grace_s=5.0)
            _kill_matching(f"asterisk -C {CONF_DIR}/asterisk.conf")
        rootfs.unmount_all(self.root)
        for workdir in self.state_dir.glob("call-*"):
            shutil.rmtree(workdir, ignore_errors=True)
        if self._state_file.exists():
            self._state_file.unlink()
        if not quiet:
            left = rootfs.mounted(self.root)
            if left:
                raise SandboxError(f"still mounted under {self.root}: {left}")

    def status(self) -> dict[str, object]:
        state = self._load()
        running = bool(state.asterisk_pid and _alive(state.asterisk_pid))
        version = ""
        if running:
            out = subprocess.run(
                self._asterisk_cmd("-rx", "core show version"),
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            version = out.stdout.strip()
        return {
            "running": running,
            "asterisk": version,
            "root": str(self.root),
            "ami": f"127.0.0.1:{AMI_PORT}",
            "sip": f"127.0.0.1:{SIP_PORT}",
            "agents": state.agents,
            "asterisk_pid": state.asterisk_pid,
            "phones": {
                k: {
                    "mode": m,
                    "port": phone_port(int(k)),
                    "pid": state.phone_pids.get(k),
                    "alive": bool(state.phone_pids.get(k) and _alive(state.phone_pids[k])),
                }
                for k, m in sorted(state.phones.items(), key=lambda i: int(i[0]))
            },
        }

    def ami_secret(self) -> str:
        return (self.state_dir / "ami-secret").read_text().strip()

    def asterisk_cli(self, command: str) -> str:
        """One Asterisk CLI command, for diagnostics and tests."""
        out = subprocess.run(
            self._asterisk_cmd("-rx", command),
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        return out.stdout

    # --- phones and customers ----------------------------------------------------------------

    def set_phone(self, agent: int, mode: str) -> None:
        state = self._load()
        _check_mode(agent, mode, state.agents)
        pid = state.phone_pids.pop(str(agent), None)
        if pid:
            _kill(pid)
        self._start_phone(state, agent, mode)
        state.phones[str(agent)] = mode
        self._save(state)

    def call(
        self,
        extension: str,
        count: int = 1,
        hangup_after: float = 30.0,
        caller: str | None = None,
        wait: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Place `count` customer calls to `extension` at once from one sipp process."""
        if not extension.isdigit():
            raise SandboxError("the extension must be digits")
        if not 1 <= count <= 200:
            raise SandboxError("--count must be 1-200")
        workdir = Path(tempfile.mkdtemp(prefix="call-", dir=self.state_dir))
        hangup_ms = max(1, int(hangup_after * 1000))
        template = resources.files("ccgateway.sandbox").joinpath("scenarios/customer.xml")
        (workdir / "customer.xml").write_text(
            template.read_text().replace("HANGUP_MS", str(hangup_ms))
        )
        lines = ["SEQUENTIAL"]
        for i in range(count):
            number = caller or f"+4930{secrets.randbelow(9_000_000) + 1_000_000}"
            lines.append(f"{number};Customer {i + 1}")
        (workdir / "callers.csv").write_text("\n".join(lines) + "\n")
        # Every sipp gets a port of its own: two `call`s at once on 5090 would collide. The
        # trunk knows them by the X-CCGW-Trunk header (pjsip.conf).
        port = _free_udp_port()
        command = [
            "sipp",
            "-sf",
            str(workdir / "customer.xml"),
            "-inf",
            str(workdir / "callers.csv"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(_free_udp_port()),
            "-s",
            extension,
            f"127.0.0.1:{SIP_PORT}",
            "-m",
            str(count),
            "-l",
            str(count),
            "-r",
            str(count),
            "-nostdin",
            "-timeout",
            str(int(hangup_after + 120)),
            "-trace_err",
            "-error_file",
            str(workdir / "errors.log"),
        ]
        with open(workdir / "sipp.log", "wb") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
                start_new_session=True,
            )
        if wait:
            process.wait()
        return process

    # --- internals -------------------------------------------------------------------------

    def _write_config(self, agents: int, hold_timeout_s: int) -> None:
        secret_file = self.state_dir / "ami-secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(24) + "\n")
            secret_file.chmod(0o600)
        module_dir = glob.glob(str(self.root / "usr/lib/*/asterisk/modules"))
        if not module_dir:
            raise SandboxError(f"no Asterisk modules under {self.root}; remove it to rebuild")
        config = SandboxConfig(
            agents,
            self.ami_secret(),
            "/" + str(Path(module_dir[0]).relative_to(self.root)),
            hold_timeout_s,
        )
        conf_dir = self.root / CONF_DIR.lstrip("/")
        conf_dir.mkdir(parents=True, exist_ok=True)
        for name, text in render(config, DIALPLAN.read_text()).items():
            (conf_dir / name).write_text(text)
        (conf_dir / "manager.conf").chmod(0o600)
        for sub in (
            "var/lib/ccgateway-sandbox",
            "var/spool/ccgateway-sandbox",
            "run/ccgateway-sandbox",
            "var/log/ccgateway-sandbox",
        ):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def _asterisk_cmd(self, *args: str) -> list[str]:
        return [
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-C",
            f"{CONF_DIR}/asterisk.conf",
            *args,
        ]

    def _start_asterisk(self) -> int:
        log = open(self.state_dir / "asterisk.log", "wb")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(
            self._asterisk_cmd("-f", "-n"),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return process.pid

    def _start_phone(self, state: State, agent: int, mode: str) -> None:
        if mode == "off":
            return
        port = phone_port(agent)
        scenario = (
            ["-sn", "uas"]
            if mode == "answer"
            else [
                "-sf",
                str(resources.files("ccgateway.sandbox").joinpath("scenarios/agent_noanswer.xml")),
            ]
        )
        command = [
            "sipp",
            *scenario,
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-aa",
            "-mp",
            str(16000 + 10 * agent),
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(self.state_dir / f"phone{agent}.errors"),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=open(self.state_dir / f"phone{agent}.log", "wb"),  # noqa: SIM115
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        state.phone_pids[str(agent)] = process.pid

    def _wait_for_asterisk(self, agents: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                if _ami_login_ok(self.ami_secret()):
                    endpoints = self.asterisk_cli("pjsip show endpoints")
                    if f"agent{agents}" in endpoints and "trunk" in endpoints:
                        return
                    last = "PJSIP endpoints not loaded yet"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        log = (self.state_dir / "asterisk.log").read_text(errors="replace")[-2000:]
        raise SandboxError(f"Asterisk did not come up in {timeout_s:.0f} s ({last}); log:\n{log}")

    def _load(self) -> State:
        if not self._state_file.exists():
            return State()
        return State(**json.loads(self._state_file.read_text()))

    def _save(self, state: State) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self._state_file)


def _check_mode(agent: int, mode: str, agents: int) -> None:
    if mode not in PHONE_MODES:
        raise SandboxError(f"phone mode must be one of {', '.join(PHONE_MODES)}, not {mode!r}")
    if not 1 <= agent <= agents:
        raise SandboxError(f"there is no agent {agent} (agents 1-{agents})")


def _ami_login_ok(secret: str) -> bool:
    with socket.create_connection(("127.0.0.1", AMI_PORT), timeout=2) as sock:
        sock.settimeout(2)
        banner = sock.recv(1024)
        if b"Asterisk Call Manager" not in banner:
            return False
        sock.sendall(
            f"Action: Login\r\nUsername: ccgateway\r\nSecret: {secret}\r\n"
            "Events: off\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(1024)
            if not chunk:
                break
            reply += chunk
        return b"Response: Success" in reply


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def _kill(pid: int, grace_s: float = 2.0) -> None:
    if not _alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _pids_matching(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _kill_matching(pattern: str) -> None:
    subprocess.run(["pkill", "-f", pattern], capture_output=True, check=False)
    time.sleep(0.1)
    subprocess.run(["pkill", "-9", "-f", pattern], capture_output=True, check=False)
