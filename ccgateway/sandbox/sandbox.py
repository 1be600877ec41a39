"""The sandbox PBX: a real Asterisk 22 in a cached root folder, sipp phones and customers.

State (pids, phone modes, number of agents) lives in state.json in the state folder
(/var/lib/ccgateway/sandbox, or $CCGW_SANDBOX_STATE) so that `up`, `status`, `phone`, `call`
and `down` can be separate commands. Processes are found again and stopped by their pid.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ccgateway.sandbox import audio, processes, rootfs
from ccgateway.sandbox import state as saved
from ccgateway.sandbox.asterisk_config import FIRST, LAYOUTS, Layout, SandboxConfig, render
from ccgateway.sandbox.errors import SandboxError
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
    udp_port_bound,
)
from ccgateway.sandbox.readiness import ami_login_ok, contact_statuses
from ccgateway.sandbox.state import State

DIALPLAN_DIR = Path(__file__).resolve().parents[2] / "dialplans" / "asterisk"


def asterisk_program(layout: Layout) -> processes.Program:
    """The sandbox Asterisk of `layout`, known by its config file on its command line."""
    return processes.Program(("asterisk", "chroot"), f"{layout.conf_dir}/asterisk.conf")


log = logging.getLogger(__name__)
EXEC_WAIT_S = 5.0  # `chroot` becoming Asterisk (it takes milliseconds)


@dataclass(frozen=True)
class PhoneStatus:
    agent: int
    mode: str
    port: int
    pid: int | None
    alive: bool
    contact: str  # Asterisk's view: Avail, Unavail, NonQual (not qualified yet) or "" if down


@dataclass(frozen=True)
class SandboxStatus:
    running: bool
    asterisk_version: str
    asterisk_pid: int | None
    ami: str
    sip: str
    root: str
    agents: int
    hold_timeout_s: int
    phones: tuple[PhoneStatus, ...]
    outside: str = "answer"  # the mode of the phone behind the trunk (see OUTSIDE_MODES)


class Sandbox:
    """One sandbox Asterisk on this machine; every method may be called from a separate
    process. `layout` says which: the first (FIRST) or the second (asterisk_config.SECOND,
    its state in a sub-folder of the first's), both in the one cached root."""

    def __init__(
        self, root: Path | None = None, state_dir: Path | None = None, layout: Layout = FIRST
    ) -> None:
        self.root = root or rootfs.root_path()
        self.layout = layout
        self.state_dir = state_dir or saved.state_dir() / layout.state_subdir
        self._state_file = self.state_dir / "state.json"
        self._program = asterisk_program(layout)

    # --- lifecycle ---------------------------------------------------------------------------

    def up(
        self,
        agents: int = 4,
        phones: Mapping[int, str] | None = None,
        hold_timeout_s: int = 900,
        outside: str = "answer",
    ) -> SandboxStatus:
        """(Re)start Asterisk, one phone per agent and the outside phone (in `outside` mode);
        returns once AMI accepts our login, the endpoints are loaded and every phone's
        reachability is known to Asterisk."""
        rootfs.require_root()
        if not 1 <= agents <= self.layout.max_agents:
            raise SandboxError(f"agents must be 1-{self.layout.max_agents}: {self._port_plan()}")
        if not 1 <= hold_timeout_s <= 86_400:
            raise SandboxError("the hold timeout must be 1-86400 s")
        modes = {k: "answer" for k in range(1, agents + 1)} | dict(phones or {})
        for k, mode in modes.items():
            self._check_agent(k, agents)
            check_mode(mode)
        check_outside_mode(outside)
        self.down()
        rootfs.ensure_root(self.root)
        rootfs.write_hosts(self.root)  # the cache may come from a machine of another name
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_config(agents, hold_timeout_s)
        if outside == "callee" or not audio.tools_missing():
            # the callees' recordings, made afresh (espeak-ng and sox; 0.1 s)
            audio.write_recordings(self.state_dir / "audio")
        rootfs.mount_all(self.root)
        state = State(agents=agents, phones=dict(sorted(modes.items())), outside=outside)
        state.hold_timeout_s = hold_timeout_s
        state.asterisk_pid = self._start_asterisk()
        saved.save(self._state_file, state)
        for k, mode in state.phones.items():
            pid = self._start_phone(k, mode)
            if pid is not None:
                state.phone_pids[k] = pid
        state.outside_pid = self._start_outside(state.outside)
        saved.save(self._state_file, state)
        try:
            self._wait_until_ready(state)
        except SandboxError:
            self.down()
            raise
        return self.status()

    def down(self) -> None:
        """Stop every process the sandbox started and unmount; leaves no process or mount."""
        state = saved.load(self._state_file)
        for agent, phone_pid in state.phone_pids.items():
            stop_phone(phone_pid, agent, self.state_dir)
        processes.stop(state.outside_pid, processes.sipp(outside_marker(self.state_dir)))
        stop_batches(self.state_dir, remove=True)
        # The pid file covers an Asterisk whose state.json was lost.
        for pid in {state.asterisk_pid, self._pid_file_pid(self.layout)}:
            if pid is not None and processes.is_ours(pid, self._program):
                self._stop_asterisk(pid)
        self._state_file.unlink(missing_ok=True)
        if self._others_running():
            return  # the other Asterisk in the root still needs its /proc and /dev
        rootfs.unmount_all(self.root)
        left = rootfs.mounts_under(self.root)
        if left:
            raise SandboxError(f"still mounted: {', '.join(map(str, left))}")

    def restart_asterisk(self, hard: bool = False, timeout_s: float = 40.0) -> None:
        """Restart Asterisk alone, the phones left running (tests of what a PBX restart does
        to live calls). `hard`: killed (SIGKILL, no goodbye on AMI) and started again;
        otherwise `core restart now` (it hangs up every channel, then starts anew in the
        same process). Returns once it is ready as after `up`."""
        state = self._running_state()
        before = self._uptime_s()
        if hard:
            pid = state.asterisk_pid
            if pid is not None and processes.is_ours(pid, self._program):
                os.kill(pid, signal.SIGKILL)
                processes.wait_gone(pid, self._program, 5.0)
            # The new one refuses to start ("already running") while the old control
            # socket still takes connections, which it did for a moment after the kill in
            # one start of twenty.
            state.asterisk_pid = self._start_again()
            saved.save(self._state_file, state)
        else:
            # The remote console now and then waits on past the old process's end (seen
            # once in a few runs); whether Asterisk restarted, its uptime says below.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.asterisk_cli("core restart now", timeout_s=5.0)
            deadline = time.monotonic() + timeout_s
            while self._uptime_s() >= before:  # the new process's uptime starts at 0
                if time.monotonic() > deadline:
                    raise SandboxError(f"Asterisk did not restart within {timeout_s:.0f} s")
                time.sleep(0.2)
        self._wait_until_ready(state, timeout_s)

    def _start_again(self, tries: int = 3) -> int:
        """A killed Asterisk started again; started once more if the new one is gone within
        a second (seen once in a whole suite on a loaded machine: it exited at once, writing
        nothing; the next start came up). Only a process wholly gone is started again, so
        two never run side by side."""
        pid = 0
        for attempt in range(1, tries + 1):
            self._until_control_socket_closed(5.0)
            pid = self._start_asterisk()
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and processes.may_be_ours(pid, self._program):
                time.sleep(0.05)
            if processes.may_be_ours(pid, self._program):
                return pid
            log.warning("the restarted Asterisk exited at once (start %d of %d)", attempt, tries)
        return pid

    def _until_control_socket_closed(self, timeout_s: float) -> None:
        path = self.root / self.layout.run_dir.lstrip("/") / "asterisk.ctl"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                except OSError:
                    return
            time.sleep(0.05)

    def _uptime_s(self) -> float:
        """Seconds since Asterisk started (inf while it does not answer)."""
        try:
            text = self.asterisk_cli("core show uptime seconds", timeout_s=5.0)
        except subprocess.TimeoutExpired:
            return float("inf")
        match = re.search(r"System uptime:\s*(\d+)", text)
        return float(match[1]) if match else float("inf")

    def status(self) -> SandboxStatus:
        state = saved.load(self._state_file)
        running = processes.is_ours(state.asterisk_pid, self._program)
        version = self.asterisk_cli("core show version").strip() if running else ""
        contacts = contact_statuses(self.asterisk_cli("pjsip show contacts")) if running else {}
        return SandboxStatus(
            running=running,
            asterisk_version=version,
            asterisk_pid=state.asterisk_pid if running else None,
            ami=f"127.0.0.1:{self.layout.ami_port}",
            sip=f"127.0.0.1:{self.layout.sip_port}",
            root=str(self.root),
            agents=state.agents,
            hold_timeout_s=state.hold_timeout_s,
            phones=tuple(
                PhoneStatus(
                    agent=k,
                    mode=mode,
                    port=self.layout.phone_port(k),
                    pid=state.phone_pids.get(k),
                    alive=is_phone_alive(state.phone_pids.get(k), k, self.state_dir),
                    contact=contacts.get(k, ""),
                )
                for k, mode in sorted(state.phones.items())
            ),
            outside=state.outside,
        )

    def ami_secret(self) -> str:
        """The AMI user `ccgateway`'s secret (made once by `up`, kept outside the repo)."""
        try:
            return (self.state_dir / "ami-secret").read_text().strip()
        except FileNotFoundError as exc:
            raise SandboxError("no AMI secret yet: run `ccgateway sandbox up` first") from exc

    def asterisk_cli(self, command: str, timeout_s: float = 15.0) -> str:
        """One Asterisk CLI command (diagnostics, tests); its output."""
        result = subprocess.run(
            self._asterisk_cmd("-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        return result.stdout

    # --- phones and customers ----------------------------------------------------------------

    def set_phone(self, agent: int, mode: str, timeout_s: float = 6.0) -> None:
        """Restart agent `agent`'s phone in `mode`; returns once Asterisk sees the phone as
        reachable (answer, noanswer, busy) or unreachable (off)."""
        rootfs.require_root()
        check_mode(mode)
        state = self._running_state()
        self._check_agent(agent, state.agents)
        stop_phone(state.phone_pids.pop(agent, None), agent, self.state_dir)
        pid = self._start_phone(agent, mode)
        if pid is not None:
            state.phone_pids[agent] = pid
        state.phones[agent] = mode
        saved.save(self._state_file, state)
        want = "Unavail" if mode == "off" else "Avail"
        deadline = time.monotonic() + timeout_s
        while contact_statuses(self.asterisk_cli("pjsip show contacts")).get(agent) != want:
            if time.monotonic() > deadline:
                raise SandboxError(f"agent {agent}'s phone is not {want} after {timeout_s} s")
            time.sleep(0.1)

    def set_outside(self, mode: str, timeout_s: float = 5.0) -> None:
        """Restart the phone behind the trunk (every outside number) in `mode`; in `callee`
        mode each call does what its number says (scenarios/callee.xml)."""
        rootfs.require_root()
        check_outside_mode(mode)
        state = self._running_state()
        processes.stop(state.outside_pid, processes.sipp(outside_marker(self.state_dir)))
        state.outside, state.outside_pid = mode, self._start_outside(mode)
        saved.save(self._state_file, state)
        deadline = time.monotonic() + timeout_s
        while mode != "off" and not udp_port_bound(self.layout.trunk_port):
            if time.monotonic() > deadline:
                log = (self.state_dir / "outside.log").read_text(errors="replace")[-500:]
                raise SandboxError(f"the outside phone did not start in {timeout_s} s: {log}")
            time.sleep(0.05)

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
        """Place `count` simultaneous customer calls to `extension` (the queue); each hangs
        up `hangup_after` seconds after it is answered unless the PBX ends it first, presses
        `key` every 2 s if given, and speaks (7 s of audio) `speak_after` seconds after the
        answer if given. `name` is the callers' display name (default "Customer N"; any
        printable text without `;`, hostile markup included). With `wait`, returns once all
        have ended (then `batch.wait()` gives the outcome at once)."""
        if name is not None:
            check_name(name)  # before anything starts
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
            pbx_port=self.layout.sip_port,
        )
        if wait:
            batch.wait()
        return batch

    # --- internals ---------------------------------------------------------------------------

    def _running_state(self) -> State:
        state = saved.load(self._state_file)
        if not processes.is_ours(state.asterisk_pid, self._program):
            raise SandboxError(
                f"the sandbox {self.layout.name} is not running: `ccgateway sandbox up` first"
            )
        return state

    def _start_phone(self, agent: int, mode: str) -> int | None:
        port, media = self.layout.phone_port(agent), self.layout.phone_media_port(agent)
        return start_phone(agent, mode, self.state_dir, port, media)

    def _start_outside(self, mode: str) -> int | None:
        port, media = self.layout.trunk_port, self.layout.outside_media_port
        return start_outside(mode, self.state_dir, port, media)

    def _pid_file_pid(self, layout: Layout) -> int | None:
        return processes.read_pid(self.root / layout.run_dir.lstrip("/") / "asterisk.pid")

    def _others_running(self) -> bool:
        """Is another sandbox Asterisk running in this root (by its pid file)?"""
        return any(
            processes.is_ours(self._pid_file_pid(other), asterisk_program(other))
            for other in LAYOUTS.values()
            if other != self.layout
        )

    def _port_plan(self) -> str:
        blocks = self.layout.phone_blocks
        plan = ", then ".join(f"on {base}+K up to agent {last}" for _, last, base, _ in blocks)
        return f"agent K's phone is {plan} (SIP {self.layout.sip_port}, AMI {self.layout.ami_port})"

    @staticmethod
    def _check_agent(agent: int, agents: int) -> None:
        if not 1 <= agent <= agents:
            raise SandboxError(f"there is no agent {agent} (agents 1-{agents})")

    def _write_config(self, agents: int, hold_timeout_s: int) -> None:
        secret_file = self.state_dir / "ami-secret"
        if not secret_file.exists():
            secret_file.touch(mode=0o600)
            secret_file.write_text(secrets.token_urlsafe(24) + "\n")
        secret_file.chmod(0o600)
        module_dirs = sorted(self.root.glob("usr/lib/*/asterisk/modules"))
        if not module_dirs:
            raise SandboxError(f"no Asterisk modules under {self.root}: delete it to rebuild")
        config = SandboxConfig(
            agents=agents,
            ami_secret=self.ami_secret(),
            module_dir="/" + str(module_dirs[0].relative_to(self.root)),
            hold_timeout_s=hold_timeout_s,
            layout=self.layout,
        )
        conf_dir = self.root / self.layout.conf_dir.lstrip("/")
        conf_dir.mkdir(parents=True, exist_ok=True)
        dialplans = {p.name: p.read_text() for p in sorted(DIALPLAN_DIR.glob("*.conf"))}
        for name, text in render(config, dialplans).items():
            path = conf_dir / name
            path.touch(mode=0o600)  # manager.conf holds the secret: nothing here is for others
            path.write_text(text)
        for sub in self.layout.work_dirs:
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def _asterisk_cmd(self, *args: str) -> list[str]:
        conf = f"{self.layout.conf_dir}/asterisk.conf"
        return ["chroot", str(self.root), "/usr/sbin/asterisk", "-C", conf, *args]

    def _start_asterisk(self) -> int:
        """Asterisk's pid, once `chroot` has become Asterisk (or ended): until then the pid
        is chroot's, which readiness would take for an Asterisk that exited (the hard
        restart's "exits at once, writing nothing" of earlier runs, and its retries started
        a second Asterisk beside the first)."""
        with open(self.state_dir / "asterisk.log", "wb") as log:
            process = subprocess.Popen(
                self._asterisk_cmd("-f", "-n"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + EXEC_WAIT_S
        while process.poll() is None and not processes.is_ours(process.pid, self._program):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return process.pid

    def _stop_asterisk(self, pid: int) -> None:
        # A clean stop first (hangs up calls, closes AMI), signals if it does not come.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.asterisk_cli("core stop now", timeout_s=10)
        if not processes.wait_gone(pid, self._program, 5.0):
            processes.stop(pid, self._program)

    def _wait_until_ready(self, state: State, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last = "AMI not answering yet"
        while time.monotonic() < deadline:
            if not processes.is_ours(state.asterisk_pid, self._program):
                last = "Asterisk exited"
                break
            if ami_login_ok(self.ami_secret(), port=self.layout.ami_port):
                contacts = contact_statuses(self.asterisk_cli("pjsip show contacts"))
                pending = [k for k in state.phones if contacts.get(k) in (None, "NonQual")]
                broken = [k for k, m in state.phones.items()
                          if m != "off" and contacts.get(k) == "Unavail"]  # fmt: skip
                if broken:
                    raise SandboxError(self._phone_trouble(broken))
                if not pending:
                    return
                last = f"waiting for the first qualify of agents {pending}"
            time.sleep(0.2)
        log = (self.state_dir / "asterisk.log").read_text(errors="replace")[-2000:]
        raise SandboxError(f"Asterisk was not ready in {timeout_s:.0f} s ({last}); log:\n{log}")

    def _phone_trouble(self, agents: list[int]) -> str:
        lines = [f"the phones of agents {agents} do not answer Asterisk's OPTIONS:"]
        for k in agents:
            log = (self.state_dir / f"phone{k}.log").read_text(errors="replace").strip()
            port = self.layout.phone_port(k)
            lines.append(f"  agent {k} (port {port}): {log[-300:] or 'no output'}")
        return "\n".join(lines)
