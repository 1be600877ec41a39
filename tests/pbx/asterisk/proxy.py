"""A TCP proxy between the AMI client and Asterisk that a test can cut or freeze, or watch
(benchmarks/chaos.py reads every action a controller sends through one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

Watcher = Callable[[bytes], None]


class Proxy:
    def __init__(self, target: tuple[str, int], watch: Callable[[], Watcher] | None = None) -> None:
        """`watch`: called for each connection, gives the function its client's bytes are
        handed to (in order, as they pass)."""
        self.target = target
        self.watch = watch
        self.frozen = False  # a half-open link: bytes are swallowed, sockets stay open
        self.accepted = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:  # the target is down (restarting): the client is refused too
            client_w.close()
            return
        self._writers += [client_w, server_w]

        async def pump(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, watcher: Watcher | None
        ) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    if watcher is not None:
                        watcher(data)
                    if not self.frozen:
                        writer.write(data)
            writer.close()

        upward = self.watch() if self.watch is not None else None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                pump(client_r, server_w, upward),
                pump(server_r, client_w, None),
                return_exceptions=True,
            )

    def cut(self) -> None:
        """Both sides closed, as when a PBX restarts or a firewall resets the link."""
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
