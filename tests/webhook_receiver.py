"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (a thread of its own)
that checks every delivery's signature with the README's own `verify`, and can answer 500
on purpose, be slow, or be down (its port closed)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_receiver() -> dict[str, Any]:
    """The README's receiver code, run as a module (its server is not started): the tests
    verify with exactly what integrators are told to copy."""
    text = README.read_text()
    found = re.search(r"<!-- webhook-receiver -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "the README has no webhook receiver"
    namespace: dict[str, Any] = {"__name__": "readme_receiver"}
    exec(compile(found.group(1), "README.md", "exec"), namespace)
    return namespace


VERIFY: Callable[[str, str, bytes], bool] = readme_receiver()["verify"]


@dataclass(frozen=True)
class Received:
    delivery_id: str
    event_type: str
    signature: str
    body: bytes
    verified: bool
    status: int  # what the receiver answered

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.mode = "ok"  # "ok": 204; "fail": 500; "slow": 204 after `slow_s`; "hold": 204
        self.slow_s = 2.0  # once `release` is set
        self.release = threading.Event()
        self.holding = threading.Event()  # a request is being held
        self.received: list[Received] = []
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("Ccgw-Signature", "")
                mode = receiver.mode
                if mode == "slow":
                    time.sleep(receiver.slow_s)
                if mode == "hold":
                    receiver.holding.set()
                    receiver.release.wait(30)
                status = 500 if mode == "fail" else 204
                receiver._add(
                    Received(
                        self.headers.get("Ccgw-Delivery", ""),
                        self.headers.get("Ccgw-Event", ""),
                        signature,
                        body,
                        VERIFY(receiver.secret, signature, body),
                        status,
                    )
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Down: the port closed (connections refused)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _add(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def delivered(self) -> list[Received]:
        """What was answered 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.status < 300]

    def all(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, check: Callable[[WebhookReceiver], bool], timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check(self):
            assert time.monotonic() < deadline, f"timed out; received {self.all()}"
            time.sleep(0.02)
