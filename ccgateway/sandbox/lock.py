"""The machine-wide lock that keeps two Asterisk runs off the same ports (5038, 5060).

Whoever starts the sandbox for a while (a test session, an experiment) holds
/tmp/ccgw-asterisk.lock; by convention a whole run is wrapped as
`flock /tmp/ccgw-asterisk.lock <command>`. A run wrapped like that already holds the lock
through its `flock` parent, and taking it a second time would wait for ever, so
`asterisk_lock` sees a lock held by one of our own ancestors as ours.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ccgateway.sandbox.errors import SandboxError

LOCK_FILE = Path("/tmp/ccgw-asterisk.lock")


@contextmanager
def asterisk_lock(timeout_s: float = 900.0, path: Path = LOCK_FILE) -> Iterator[None]:
    """Hold the lock for the `with` block; waits up to `timeout_s` for another holder."""
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if held_by_ancestor(path):
                    yield
                    return
                if time.monotonic() > deadline:
                    raise SandboxError(
                        f"{path} is still held by another Asterisk run after {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held_by_ancestor(path: Path) -> bool:
    """True if a process above us (e.g. `flock FILE pytest`) holds a flock on `path`."""
    inode = os.stat(path).st_ino
    holders = set()
    with open("/proc/locks") as locks:
        for line in locks:
            fields = line.split()
            # "1: FLOCK  ADVISORY  WRITE 16554 fe:00:2146393 0 EOF" (waiters have "->")
            if (
                len(fields) >= 6
                and fields[1] == "FLOCK"
                and fields[4].isdigit()
                and fields[5].rsplit(":", 1)[-1] == str(inode)
            ):
                holders.add(int(fields[4]))
    return any(pid in holders for pid in _ancestors())


def _ancestors() -> Iterator[int]:
    pid = os.getppid()
    while pid > 1:
        yield pid
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        pid = int(stat.rsplit(")", 1)[1].split()[1])
