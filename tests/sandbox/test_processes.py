"""The sandbox's processes, stopped for real: a stopped phone's port is free at once.

An exiting process's command line reads empty from the release of its memory to the close
of its files; a stop that took that for "gone" let the next bind of the phone's port fail
(EADDRINUSE, seen restarting a FreeSWITCH sandbox phone, and on a bare sipp 9 times in 15).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ccgateway.sandbox import processes

PORT = 5299  # inside the FreeSWITCH sandbox's 5200-5290 block, which it never binds


def _start_sleeper(marker: Path) -> int:
    # A real process holding the UDP port, ended by SIGTERM as sipp is.
    script = (
        "import socket, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"s.bind(('127.0.0.1', {PORT}))\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(marker)], start_new_session=True)
    return process.pid


def _bound(port: int) -> bool:
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1] == want for line in list(table)[1:])


def test_a_stopped_process_has_freed_its_port(tmp_path: Path) -> None:
    program = processes.Program((Path(sys.executable).name,), str(tmp_path / "marker"))
    for _ in range(15):
        pid = _start_sleeper(tmp_path / "marker")
        while not _bound(PORT):
            assert processes.may_be_ours(pid, program)
        assert processes.is_ours(pid, program)
        processes.stop(pid, program)
        assert not processes.may_be_ours(pid, program)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", PORT))  # EADDRINUSE if the stop returned too early


def test_a_process_that_exited_is_not_ours_any_more(tmp_path: Path) -> None:
    program = processes.Program((Path(sys.executable).name,), str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", "pass", str(tmp_path)])
    process.wait()
    assert not processes.may_be_ours(process.pid, program)
    assert not processes.may_be_ours(os.getpid(), program)  # alive, but not ours
