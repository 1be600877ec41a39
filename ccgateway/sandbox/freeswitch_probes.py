"""Small blocking talks with the sandbox FreeSWITCH: an ESL `api` command and a SIP REGISTER.

Both are for the sandbox's own commands (readiness, status, a phone's registration), never
for the controller, which has its own asyncio ESL client.
"""

from __future__ import annotations

import secrets
import socket
import time

from ccgateway.sandbox.errors import SandboxError
from ccgateway.sandbox.freeswitch_config import DOMAIN, ESL_PORT, SIP_PORT


class EslRefused(SandboxError):
    """FreeSWITCH's Event Socket answered but did not accept the password."""


def esl_api(password: str, command: str, port: int = ESL_PORT, timeout_s: float = 5.0) -> str:
    """Log in to the Event Socket on 127.0.0.1 and run one `api` command; its output.
    Raises OSError if nothing answers, EslRefused if the password is refused."""
    if any(ch in command + password for ch in "\r\n\0"):
        raise ValueError("no line breaks in an ESL command or password")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        reader = _Reader(sock)
        headers, _ = reader.message()
        if headers.get("Content-Type") != "auth/request":
            raise OSError(f"not an Event Socket: {headers}")
        sock.sendall(f"auth {password}\n\n".encode())
        headers, _ = reader.message()
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise EslRefused(f"the Event Socket refused the password: {headers.get('Reply-Text')}")
        sock.sendall(f"api {command}\n\n".encode())
        while True:
            headers, body = reader.message()
            if headers.get("Content-Type") == "api/response":
                sock.sendall(b"exit\n\n")
                return body


def esl_login_ok(password: str, port: int = ESL_PORT) -> bool:
    try:
        esl_api(password, "status", port, timeout_s=2.0)
    except (OSError, EslRefused):
        return False
    return True


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock, self._buffer = sock, b""

    def message(self) -> tuple[dict[str, str], str]:
        while b"\n\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\n\n", 1)
        headers = dict(
            line.split(": ", 1)
            for line in head.decode(errors="replace").splitlines()
            if ": " in line
        )
        length = int(headers.get("Content-Length", "0"))
        while len(self._buffer) < length:
            self._fill()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return headers, body.decode(errors="replace")

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise OSError("the Event Socket closed the connection")
        self._buffer += chunk


def register(user: str, port: int, expires_s: int, timeout_s: float = 3.0) -> None:
    """REGISTER `user` with contact 127.0.0.1:`port`, sent from that very port (so FreeSWITCH
    sees no NAT to correct). The phone's sipp must not hold the port yet (or any more).
    `expires_s` 0 unregisters. Raises SandboxError unless FreeSWITCH answers 200."""
    call_id = secrets.token_hex(8)
    message = (
        f"REGISTER sip:{DOMAIN}:{SIP_PORT} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{user}@{DOMAIN}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:{user}@{DOMAIN}>\r\n"
        f"Call-ID: {call_id}@127.0.0.1\r\n"
        "CSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{user}@127.0.0.1:{port}>\r\n"
        f"Expires: {expires_s}\r\n"
        "User-Agent: ccgateway-sandbox\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        deadline = time.monotonic() + timeout_s
        sent_at = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - sent_at > 0.5:  # UDP: resend until answered
                sock.sendto(message.encode(), ("127.0.0.1", SIP_PORT))
                sent_at = time.monotonic()
            sock.settimeout(0.2)
            try:
                data = sock.recv(65536).decode(errors="replace")
            except TimeoutError:
                continue
            if call_id not in data:
                continue
            status = data.split(" ", 2)[1] if data.startswith("SIP/2.0 ") else ""
            if status.startswith("1"):
                continue
            if status == "200":
                return
            raise SandboxError(f"FreeSWITCH refused {user}'s registration: {data.splitlines()[0]}")
    raise SandboxError(f"FreeSWITCH did not answer {user}'s REGISTER in {timeout_s} s")
