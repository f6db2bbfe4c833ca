"""Faults between the app and what it needs: a TCP link that a test cuts,
partitions and mends, as a Redis restart or a lost route would, and a slow
disk. Used by the tests and by bench/live_load.py --slow-disk."""

import contextlib
import socket
import subprocess
import threading
from pathlib import Path


class Link:
    """Relays 127.0.0.1:<port> to ``target`` (host, port).

    ``cut()`` closes every open connection and refuses new ones at once, as a
    stopped service does; ``partition()`` keeps every connection open but
    lets nothing through, as a lost route does (no error, no answer);
    ``mend()`` lets everything through again. The service itself never
    stops: other tests on the machine keep using it.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.flowing = threading.Event()
        self.flowing.set()
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, template: str) -> str:
        """``template`` with ``{port}`` replaced by this link's port."""
        return template.format(port=self.port)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                self.flowing.wait()  # held while partitioned, delivered after
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()
        with self.lock:
            if end in self.open:
                self.open.remove(end)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            ends = list(self.open)
        for end in ends:
            self._close(end)

    def partition(self) -> None:
        self.flowing.clear()

    def mend(self) -> None:
        self.up = True
        self.flowing.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


SLOW_DISK_SOURCE = Path(__file__).resolve().parent.parent / "bench" / "slow_disk.c"


def slow_disk(workdir: Path, milliseconds: int) -> dict[str, str]:
    """The environment that makes a process's disk flushes (fsync,
    fdatasync) take ``milliseconds`` more: a library compiled from
    bench/slow_disk.c, preloaded; each flush is also logged to
    ``workdir/flushes.log`` ("<pid> <file>"). Needs a C compiler (cc)."""
    library = workdir / "slow_disk.so"
    if not library.exists():
        subprocess.run(
            ["cc", "-shared", "-fPIC", "-o", str(library), str(SLOW_DISK_SOURCE), "-ldl"],
            check=True,
            capture_output=True,
        )
    return {
        "LD_PRELOAD": str(library),
        "SLOW_DISK_MS": str(milliseconds),
        "SLOW_DISK_LOG": str(workdir / "flushes.log"),
    }
