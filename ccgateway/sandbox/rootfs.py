"""The sandbox's Asterisk 22: a Debian sid root folder made with debootstrap, cached.

Debian 12 has no Asterisk package and sid's would drag a newer libc onto the host, so
Asterisk lives in a root folder of its own and runs with chroot (same network namespace, so
AMI and SIP on 127.0.0.1 are reachable from the host).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("asterisk", "asterisk-modules")
SOUND_PACKAGES = ("asterisk-moh-opsound-wav", "asterisk-core-sounds-en-wav")
DEFAULT_ROOT = Path("/var/cache/ccgateway/asterisk-root")
READY_MARK = ".ccgateway-ready"


class SandboxError(RuntimeError):
    """The sandbox cannot do what was asked; the message says why and what to do."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the sandbox needs root (debootstrap, chroot and mounts): run it with sudo or as root"
        )


def root_path() -> Path:
    return Path(os.environ.get("CCGW_SANDBOX_ROOT", str(DEFAULT_ROOT)))


def ensure_root(root: Path, log: Callable[[str], object] = print) -> Path:
    """Build the root once; an interrupted build is never mistaken for a finished one."""
    if (root / READY_MARK).exists():
        return root
    require_root()
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is missing: apt-get install debootstrap")
    building = root.with_name(root.name + ".building")
    if building.exists():
        unmount_all(building)
        shutil.rmtree(building)
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
    _write_hosts(building)
    _run(
        [
            "chroot",
            str(building),
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            *SOUND_PACKAGES,
        ],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    _run(["chroot", str(building), "apt-get", "clean"])
    (building / READY_MARK).write_text("ok\n")
    if root.exists():
        unmount_all(root)
        shutil.rmtree(root)
    building.rename(root)
    return root


def _write_hosts(root: Path) -> None:
    # Asterisk resolves its own host name at start: keep that off the network.
    name = socket.gethostname()
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost {name}\n::1 localhost ip6-localhost\n")


def mount_all(root: Path) -> None:
    for target, args in (("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"])):
        path = root / target
        if not os.path.ismount(path):
            _run(["mount", *args, str(path)])


def unmount_all(root: Path) -> None:
    for target in ("dev", "proc"):
        path = root / target
        if os.path.ismount(path):
            subprocess.run(["umount", "-l", str(path)], check=False)


def mounted(root: Path) -> list[str]:
    return [t for t in ("dev", "proc") if os.path.ismount(root / t)]


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SandboxError(f"{' '.join(command[:3])}... failed: " + " | ".join(tail))
