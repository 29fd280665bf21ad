"""Waiting on a PostgreSQL server that accepts connections and never answers: the wait ends at
``connect_timeout`` with the reason, and Ctrl-C ends it at once with ``KeyboardInterrupt``."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

import teamkpi


@pytest.fixture
def silent_port() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)  # kept open, never answered

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for c in held:
        c.close()


def test_a_silent_server_fails_at_connect_timeout_with_the_reason(silent_port: int) -> None:
    url = f"postgres://u@127.0.0.1:{silent_port}/db?connect_timeout=1"
    with pytest.raises(teamkpi.TeamKpiError) as info:
        teamkpi.PostgresStore(url)
    assert info.value.code == "storage"
    assert "connect_timeout" in str(info.value)


def test_ctrl_c_while_waiting_raises_keyboard_interrupt(silent_port: int) -> None:
    # A long timeout, so only the interrupt can end the wait before the test's own limit.
    script = (
        "import teamkpi, sys\n"
        "print('waiting', flush=True)\n"
        "try:\n"
        f"    teamkpi.PostgresStore('postgres://u@127.0.0.1:{silent_port}/db?connect_timeout=60')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "waiting"
    time.sleep(0.5)  # inside the connect wait
    child.send_signal(signal.SIGINT)
    try:
        out, _ = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError("Ctrl-C did not end the wait") from None
    assert child.returncode == 0, out
    assert out.strip() == "interrupted"
