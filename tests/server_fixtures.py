"""A real server for the HTTP tests: uvicorn in its own process on a free 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference" / "sequence-seat-api.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_key(db: Path, account: str) -> tuple[str, str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "seatcalc.cli",
            "keys",
            "create",
            "--db",
            str(db),
            "--account",
            account,
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    made = json.loads(out.stdout)
    assert made["accountId"] == account
    return made["clientId"], made["clientSecret"]


@dataclass
class RunningServer:
    url: str
    db: Path
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, key: tuple[str, str] | None) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=key, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


def start_server(db: Path, log: Path, *, workers: int = 1) -> RunningServer:
    port = free_port()
    command = [sys.executable, "-m", "seatcalc.cli", "serve", "--db", str(db), "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=dict(os.environ))
    server = RunningServer(f"http://127.0.0.1:{port}", db, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server did not start: {log.read_text()}")


@dataclass
class Session:
    server: RunningServer
    key_a: tuple[str, str]
    key_b: tuple[str, str]


_SESSION: list[Session] = []


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Session:
    """One server process for the whole session (shared by every module that imports this
    fixture), with keys of accounts ``acct-a`` and ``acct-b``; stopped when pytest ends."""
    if not _SESSION:
        root = tmp_path_factory.mktemp("server")
        db = root / "ledger.sqlite"
        key_a, key_b = make_key(db, "acct-a"), make_key(db, "acct-b")
        server = start_server(db, root / "server.log", workers=2)
        request.config.add_cleanup(server.stop)
        _SESSION.append(Session(server, key_a, key_b))
    return _SESSION[0]
