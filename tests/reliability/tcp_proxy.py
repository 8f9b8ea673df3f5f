"""A TCP proxy to PostgreSQL that a test can cut, standing in for "PostgreSQL stopped".

    python tests/reliability/tcp_proxy.py LISTEN_PORT TARGET

TARGET is host:port or the path of a unix socket (the embedded server's). SIGUSR1 cuts: the
listening socket is closed and every open connection dropped, so clients see exactly what a
stopped server gives them (connections reset, new ones refused). SIGUSR2 listens again on
the same port. Needed because the second CI pass runs on the machine's PostgreSQL, which a
test must not stop; the first pass uses it too, so both passes test the same thing.
"""

from __future__ import annotations

import asyncio
import signal
import sys


class Proxy:
    def __init__(self, port: int, target: str) -> None:
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def connect_target(self):
        if self.target.startswith("/"):
            return await asyncio.open_unix_connection(self.target)
        host, port = self.target.rsplit(":", 1)
        return await asyncio.open_connection(host, int(port))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await self.connect_target()
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def listen(self) -> None:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port,
                                                 reuse_address=True)

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            transport = writer.transport
            transport.abort()
        self.writers.clear()
        print("cut", flush=True)

    async def restore(self) -> None:
        if self.server is None:
            await self.listen()
        print("restored", flush=True)


async def main(port: int, target: str) -> None:
    proxy = Proxy(port, target)
    await proxy.listen()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut)
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.restore()))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
