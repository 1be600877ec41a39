"""A TCP proxy between the AMI client and Asterisk that a test can cut or freeze."""

from __future__ import annotations

import asyncio
import contextlib


class Proxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
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
        server_r, server_w = await asyncio.open_connection(*self.target)
        self._writers += [client_w, server_w]

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    if not self.frozen:
                        writer.write(data)
            writer.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                pump(client_r, server_w), pump(server_r, client_w), return_exceptions=True
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
