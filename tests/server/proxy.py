"""A TCP proxy that cuts a connection's socket after it has forwarded some response bytes."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class CuttingProxy:
    """Forwards loopback connections to ``upstream``; the ``cut``-th connection (counting from
    1) is cut, both ways, once ``after_bytes`` of the response went through."""

    def __init__(self, upstream: tuple[str, int], *, cut: int = 1, after_bytes: int) -> None:
        self.upstream = upstream
        self.cut = cut
        self.after_bytes = after_bytes
        self.connections = 0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so close() need not wait for a connection
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self.connections += 1
            upstream = socket.create_connection(self.upstream)
            self._open += [client, upstream]
            limit = self.after_bytes if self.connections == self.cut else None
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, limit), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    target.sendall(data[: max(0, limit - sent)])
                    self.cuts += 1
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._stopped = True
        self._thread.join(5)
        self._listener.close()
        for sock in self._open:
            with suppress(OSError):
                sock.close()
