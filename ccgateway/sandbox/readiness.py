"""Is the sandbox Asterisk ready? Small probes of AMI and of Asterisk's CLI output."""

from __future__ import annotations

import re
import socket

from ccgateway.sandbox.asterisk_config import AMI_PORT

_CONTACT = re.compile(r"^\s*Contact:\s+agent(\d+)/\S+\s+\S+\s+(\S+)", re.MULTILINE)


def ami_login_ok(secret: str, timeout_s: float = 2.0, port: int = AMI_PORT) -> bool:
    """True if AMI on 127.0.0.1:`port` accepts the user `ccgateway` with `secret`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            if b"Asterisk Call Manager" not in sock.recv(1024):
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
            sock.sendall(b"Action: Logoff\r\n\r\n")
            return b"Response: Success" in reply
    except OSError:
        return False


def contact_statuses(pjsip_show_contacts: str) -> dict[int, str]:
    """Agent number -> its contact's status (Avail, Unavail, NonQual, Unknown) from the
    output of `pjsip show contacts`."""
    return {int(k): status for k, status in _CONTACT.findall(pjsip_show_contacts)}
