"""Processes the sandbox started, found again by their pid and stopped by their pid only.

A pid alone can be reused by an unrelated process after ours ended, so every check also
reads the process's command line: it must run the expected program and carry a string that
only our instance has (a path in our state or config folder).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Program:
    names: tuple[str, ...]  # argv[0] base names
    marker: str  # only our instance has this on its command line


def sipp(marker: Path) -> Program:
    return Program(("sipp",), str(marker))


def is_ours(pid: int | None, program: Program) -> bool:
    """True if `pid` is alive (not a zombie) and is our instance of `program`."""
    found = _read(pid)
    return found is not None and found[1] != "Z" and _runs(found[0], program)


def may_be_ours(pid: int | None, program: Program) -> bool:
    """True if `pid` is ours, or alive with a command line that reads empty: the kernel shows
    none for a moment while a process starts (seen 1 ms after Popen returned, FreeSWITCH in
    state D) and from the release of its memory as it exits to the close of its files (its
    ports still bound). Such a process has not ended yet."""
    found = _read(pid)
    if found is None or found[1] in ("Z", "X"):
        return False
    return not found[0] or _runs(found[0], program)


def _read(pid: int | None) -> tuple[bytes, str] | None:
    """`pid`'s command line and state, each read once; None if there is no such process."""
    if not pid or pid <= 0:
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return argv, fields[0]


def _runs(cmdline: bytes, program: Program) -> bool:
    argv = cmdline.decode(errors="replace").split("\0")
    return Path(argv[0]).name in program.names and program.marker in argv


def stop(pid: int | None, program: Program, grace_s: float = 3.0) -> None:
    """SIGTERM `pid` (and its process group) if it is ours, SIGKILL after `grace_s`."""
    if pid is None or not is_ours(pid, program):
        return
    _signal(pid, signal.SIGTERM)
    if not wait_gone(pid, program, grace_s):
        _signal(pid, signal.SIGKILL)
        wait_gone(pid, program, 2.0)


def kill(pid: int | None, program: Program, timeout_s: float = 5.0) -> None:
    """SIGKILL `pid` (and its process group) if it is ours, as a crash would end it; returns
    once it has ended."""
    if pid is None or not is_ours(pid, program):
        return
    _signal(pid, signal.SIGKILL)
    wait_gone(pid, program, timeout_s)


def wait_gone(pid: int, program: Program, timeout_s: float) -> bool:
    """True once `pid` has ended (or is no longer ours) within `timeout_s`: only then are
    its ports free."""
    deadline = time.monotonic() + timeout_s
    while may_be_ours(pid, program):
        if time.monotonic() > deadline:
            return False
        _reap(pid)
        time.sleep(0.05)
    _reap(pid)
    return True


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _signal(pid: int, signum: int) -> None:
    # Our children run in a session of their own (start_new_session), so the group id is
    # their pid; a process that is not a group leader gets the signal alone.
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
            return
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def exit_status(pid: int) -> str:
    """How our own child `pid` ended ("exit status 1", "killed by SIGKILL"), once it has;
    "" if it is still running or not ours to wait for."""
    try:
        found, status = os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        return ""
    if found != pid:
        return ""
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else ""


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
