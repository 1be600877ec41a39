"""`ccgateway serve` with two clocks on the controller's AMI client, for the load benchmark's
`--trace`: when each read's bytes reached the client (for every caller's `CCGWWaiting` in
it) and when each Originate was written to the socket. One line each, appended to the file
named by $CCGW_TRACE: `read <epoch> <caller uniqueid>`, `turn` and `done` when the
dispatcher's `Center.handle` of that caller's CallWaiting starts and ends, and `sent <epoch>
<ActionID>` (the agent leg's id, which is also its channel's uniqueid). Nothing of the
controller changes but these three wrappers; used only to find where the milliseconds go.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from ccgateway.cli import main
from ccgateway.domain.center import Center
from ccgateway.domain.events import CallWaiting
from ccgateway.pbx.asterisk import client

_trace = open(os.environ["CCGW_TRACE"], "a", buffering=1)  # noqa: SIM115 (the process's life)
_feed = client.AmiClient.data_received
_send = client.AmiClient.send


def data_received(self: client.AmiClient, data: bytes) -> str | None:
    now = time.time()
    if b"CCGWWaiting" in data:
        for block in data.split(b"\r\n\r\n"):
            if b"CCGWWaiting" in block:
                for line in block.split(b"\r\n"):
                    if line.startswith(b"Uniqueid:"):
                        _trace.write(f"read {now:.6f} {line.split(b':', 1)[1].strip().decode()}\n")
    return _feed(self, data)


async def send(self: client.AmiClient, action: Mapping[str, Any], **kw: Any) -> Any:
    writer = self._writer
    if action.get("Action") == "Originate" and writer is not None:
        write = writer.write

        def traced(data: bytes) -> None:  # once: the Originate's own bytes
            writer.write = write  # type: ignore[method-assign]
            write(data)
            _trace.write(f"sent {time.time():.6f} {action.get('ActionID')}\n")

        writer.write = traced  # type: ignore[method-assign,assignment]
    return await _send(self, action, **kw)


_handle = Center.handle


def handle(self: Center, event: Any, now: float, *args: Any) -> Any:
    if isinstance(event, CallWaiting):
        _trace.write(f"turn {time.time():.6f} {event.call_id}\n")
        commands = _handle(self, event, now, *args)
        _trace.write(f"done {time.time():.6f} {event.call_id}\n")
        return commands
    return _handle(self, event, now, *args)


Center.handle = handle  # type: ignore[method-assign,assignment]
client.AmiClient.data_received = data_received  # type: ignore[method-assign]
client.AmiClient.send = send  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
