"""The sandbox's Asterisk 22: a Debian sid root folder made with debootstrap, cached.

Debian 12 has no Asterisk package and sid's would drag a newer libc onto the host, so
Asterisk lives in a root folder of its own and runs with chroot (same network namespace, so
AMI and SIP on 127.0.0.1 are reachable from the host).

The root is built in a sibling folder and renamed when complete, and a mark file is written
last: an interrupted build is never taken for a cached one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from ccgateway.sandbox.errors import SandboxError

MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("asterisk", "asterisk-modules")
SOUND_PACKAGES = ("asterisk-moh-opsound-wav", "asterisk-core-sounds-en-wav")
DEFAULT_ROOT = Path("/var/cache/ccgateway/asterisk-root")
READY_MARK = ".ccgateway-ready"
BUILD_TIMEOUT_S = 1800


def require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the sandbox needs root (debootstrap, chroot and mounts): run it as root or with sudo"
        )


def root_path() -> Path:
    """Where the root folder is cached: $CCGW_SANDBOX_ROOT, else /var/cache/ccgateway/..."""
    return Path(os.environ.get("CCGW_SANDBOX_ROOT", str(DEFAULT_ROOT)))


def is_ready(root: Path) -> bool:
    return (root / READY_MARK).exists()


def ensure_root(root: Path, log: Callable[[str], object] = print) -> Path:
    """Build the root once (about a minute and 600 MB); later calls return at once."""
    if is_ready(root):
        return root
    require_root()
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is missing: apt-get install debootstrap")
    building = root.with_name(root.name + ".building")
    remove_tree(building)
    building.parent.mkdir(parents=True, exist_ok=True)
    log(f"sandbox: building the Asterisk root in {building} (about a minute, once)")
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            "sid",
            str(building),
            MIRROR,
        ]
    )
    write_hosts(building)
    # The archive's mirror may serve a sid Release file past its Valid-Until date (a frozen
    # registry): the signatures are still checked, only the freshness is not.
    apt = ["chroot", str(building), "apt-get", "-q", "-y", "-o", "Acquire::Check-Valid-Until=false"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run([*apt, "update"], env)
    _run([*apt, "install", "--no-install-recommends", *SOUND_PACKAGES], env)
    _run([*apt, "clean"], env)
    (building / READY_MARK).write_text("ok\n")
    remove_tree(root)  # an unfinished or broken root of an older layout
    building.rename(root)
    log(f"sandbox: Asterisk root ready in {root}")
    return root


def write_hosts(root: Path) -> None:
    """Asterisk resolves its own host name at start: keep that off the network."""
    name = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1 localhost {name}\n::1 localhost ip6-localhost ip6-loopback\n"
    )


def mount_all(root: Path) -> None:
    for target, args in (("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"])):
        path = root / target
        if not os.path.ismount(path):
            _run(["mount", *args, str(path)])


def mounts_under(root: Path) -> list[Path]:
    """Every mount point at or below `root`, deepest first (e.g. a build's leftover /sys)."""
    prefix = str(root.resolve()) if root.exists() else str(root)
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            # Mount points escape spaces and the like as octal (\040).
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def unmount_all(root: Path) -> None:
    for point in mounts_under(root):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            # Busy (a process still inside): detach it now, the kernel finishes later.
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remove_tree(path: Path) -> None:
    """rm -rf, but never through a mount: a bind of /dev inside would wipe the host's."""
    if not path.exists():
        return
    unmount_all(path)
    left = mounts_under(path)
    if left:
        raise SandboxError(f"will not delete {path}: still mounted at {', '.join(map(str, left))}")
    shutil.rmtree(path)


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"{' '.join(command[:3])}... took over {BUILD_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SandboxError(f"{' '.join(command[:4])}... failed: " + " | ".join(tail))
