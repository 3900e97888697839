"""A fake receipt printer: a TCP server on 127.0.0.1 that keeps the bytes of each connection."""

import socket
import threading

import pytest


class FakePrinter:
    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while data := connection.recv(65536):
                    chunks.append(data)
            self.jobs.append(b"".join(chunks))
            self.done.set()

    def next_job(self, timeout: float = 5) -> bytes:
        """The bytes of the next print job received (waits for it)."""
        assert self.done.wait(timeout), "the printer received nothing"
        self.done.clear()
        return self.jobs[-1]

    def close(self):
        self.server.close()


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


@pytest.fixture
def free_port():
    """A port on 127.0.0.1 nobody listens on (a printer that refuses)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def stalled_port():
    """A port whose listen queue is full: a connection attempt waits, then times out (a printer
    that is on the network but does not answer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    yield server.getsockname()[1]
    filler.close()
    server.close()
