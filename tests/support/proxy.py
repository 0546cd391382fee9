"""A TCP proxy whose network can be cut: the web chat's reconnect test and the database fault test."""

from __future__ import annotations

import asyncio

from tests.support.servers import free_port


class CuttableProxy:
    """Forwards a local port to `target`; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = True
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while self.up:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if not self.up:
            client_w.transport.abort()
            return
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers += [client_w, server_w]
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))

    def cut(self) -> None:
        self.up = False
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


class BlackHole:
    """A database that hangs: accepts TCP connections and never answers (closes them after `hold` s).

    Runs in its own thread, so it keeps accepting even while a test's event loop is blocked.
    """

    def __init__(self, hold: float = 8.0) -> None:
        import socket
        import threading

        self.hold = hold
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import time

        held: list = []
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
                held.append((time.monotonic(), conn))
            except OSError:
                pass
            now = time.monotonic()
            for item in [h for h in held if now - h[0] > self.hold]:
                item[1].close()
                held.remove(item)
        for _, conn in held:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
