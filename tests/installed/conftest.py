"""A controller as installed: `ccgateway serve` run from the venv's entry point, in a process
of its own, on a free port, with a temporary SQLite database and no PBX reachable (the
Asterisk link points at a local port that refuses connections, so it just stays down while
the API serves).

    def test_something(served: ServedController) -> None:
        with httpx.Client(base_url=served.base_url, headers=served.auth) as client: ...
        served.restart()  # the same database and port
        assert "..." in served.log()

`launch_controller(extra_toml=..., env=...)` starts one with settings of your own: TOML put
before the file's `[api]` and `[asterisk]` tables (top-level keys, other tables), or
environment variables (`CCGW_API__SESSION_IDLE_S=...`), which take precedence.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ADMIN_KEY = "installed-admin-key-0123456789"
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 10.0


def entry_point() -> Path:
    """The `ccgateway` script installed beside the Python running the tests (the venv's)."""
    script = Path(sys.executable).parent / "ccgateway"
    if not script.exists():
        pytest.fail(f"no installed entry point at {script}: pip install -e . first")
    return script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServedController:
    """One `ccgateway serve` process at a time on the same config, database, port and log."""

    def __init__(self, folder: Path, extra_toml: str = "", env: dict[str, str] | None = None):
        self.folder = folder
        self.admin_key = ADMIN_KEY
        self.database = folder / "ccgateway.db"
        self.log_path = folder / "ccgateway.log"
        self.config_path = folder / "ccgateway.toml"
        self._extra_toml = extra_toml
        # Bound but not listening: a connection to it is refused at once, and no other
        # process can start listening there while we hold it.
        self._no_pbx = socket.socket()
        self._no_pbx.bind(("127.0.0.1", 0))
        self._use_port(free_port())
        # Only our settings: none of the caller's CCGW_* variables leak in.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CCGW_")}
        self.env |= {"CCGW_ADMIN_KEY": self.admin_key, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _use_port(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        self.config_path.write_text(
            f'database_url = "sqlite:///{self.database}"\n'
            'log_level = "INFO"\n'
            f"{self._extra_toml}\n"
            "[api]\n"
            'host = "127.0.0.1"\n'
            f"port = {port}\n"
            "[asterisk]\n"
            'host = "127.0.0.1"\n'
            f"port = {self._no_pbx.getsockname()[1]}\n"
            'secret = "no-pbx-listens-here"\n'
        )

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def start(self) -> None:
        """Start the process and wait until /v1/health answers."""
        assert self.process is None, "already running"
        first = self.starts == 0
        for _ in range(3):
            self._launch()
            if self._wait_until_ready():
                return
            # Another process took the free port between our look and uvicorn's bind (tests
            # run in parallel here): at the first start only, try another port.
            if not first or "address already in use" not in self.log():
                break
            self._use_port(free_port())
        pytest.fail(f"ccgateway serve did not start:\n{self.log()[-4000:]}")

    def launch(self) -> None:
        """Start the process without waiting for it (a pair's standby answers 503)."""
        assert self.process is None, "already running"
        self._launch()

    def _launch(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"=== test harness: start {self.starts} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(entry_point()), "serve", "--config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.folder,
            )

    def _wait_until_ready(self) -> bool:
        """Whether /v1/health answered in time (the process is stopped if not)."""
        assert self.process is not None
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                response = httpx.get(f"{self.base_url}/v1/health", headers=self.auth, timeout=1)
                if response.status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; SIGKILL if it has not gone in time. The
        exit status (None if it was not running)."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_WITHIN_S)
        return process.returncode

    def restart(self) -> None:
        """Stop and start again on the same database and port."""
        self.stop()
        self.start()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self._no_pbx.close()

    def log(self) -> str:
        """Everything the processes wrote so far (stdout and stderr), all starts."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def launch_controller(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ServedController]]:
    """Start served controllers (each in its own folder); every one is stopped at teardown."""
    launched: list[ServedController] = []

    def launch(extra_toml: str = "", env: dict[str, str] | None = None) -> ServedController:
        served = ServedController(tmp_path_factory.mktemp("served"), extra_toml, env)
        launched.append(served)
        served.start()
        return served

    try:
        yield launch
    finally:
        for served in launched:
            served.close()


@pytest.fixture
def served(launch_controller: Callable[..., ServedController]) -> ServedController:
    """A running `ccgateway serve` with the default settings (no PBX reachable)."""
    return launch_controller()
