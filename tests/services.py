"""Real services for tests, started in private temporary folders: PostgreSQL 15 and Redis.

Why real servers: the records suite must prove the same behaviour (locking, unique constraints,
full-text search, unaccent) on the database a center runs, not on a fake. Nothing is skipped quietly:
when a binary is missing the fixture fails with the apt command that installs it.

Why unix-domain sockets and no TCP port: a port picked by "bind port 0, read it, close, hand it to the
server" can be taken by another process in between (other test runs share this machine). Neither server
can bind port 0 itself and report it, so both listen only on a socket file inside their own 0700 temp
folder: nothing to collide with, nothing reachable from outside. PostgreSQL URLs carry the folder as
``?host=/path`` (psycopg/libpq), Redis URLs are ``redis+socket:///path`` (kombu) — the same drivers and
protocol a center uses over TCP.

PostgreSQL refuses to run as root, so as root the cluster is owned and run by the ``postgres`` user.
Durability settings are relaxed (fsync off) because test clusters are thrown away.
``refused_port`` is the other half: a loopback port where nothing will ever answer (a service that is down).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("SOHOA_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_APT = "apt-get install -y postgresql-15 postgresql-contrib"
REDIS_APT = "apt-get install -y redis-server"
PG_SOCKET_PORT = 5432  # only names the socket file (.s.PGSQL.5432); no TCP port is opened


class ServiceStartError(RuntimeError):
    """A test service could not be started; the message says how to fix the machine."""


_refusing: socket.socket | None = None


def refused_port() -> int:
    """A 127.0.0.1 port that refuses every connection for the rest of this test process.

    The socket is bound but never listens: the kernel answers each connection attempt with a reset
    (ECONNREFUSED at once), and as long as we hold it no other process can bind that port and answer
    by accident — unlike a port that was free a moment ago.
    """
    global _refusing
    if _refusing is None:
        _refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        _refusing.bind(("127.0.0.1", 0))
    return int(_refusing.getsockname()[1])


def refused_url(path: str = "/") -> str:
    return f"http://127.0.0.1:{refused_port()}{path}"


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


@dataclass
class PostgresServer:
    root: Path  # also the socket folder
    owner: str | None  # the OS user running the server (None: the current user)
    superuser: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@/{database}?host={self.root}"

    @classmethod
    def start(cls) -> PostgresServer:
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / tool).exists():
                raise ServiceStartError(f"PostgreSQL binary {PG_BIN / tool} missing; install it with: {PG_APT}")
        owner: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceStartError(f"no 'postgres' OS user to run the server as root; run: {PG_APT}") from None
            owner = "postgres"
        root = Path(tempfile.mkdtemp(prefix="sohoa-pg-"))
        if owner:
            shutil.chown(root, user=owner, group=owner)
        server = cls(root=root, owner=owner)
        data, log = root / "data", root / "server.log"
        run = _as_owner([str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust", f"--username={server.superuser}",
                         "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], owner)
        done = subprocess.run(run, capture_output=True, text=True, check=False)
        if done.returncode:
            raise ServiceStartError(f"initdb failed: {done.stderr.strip()}")
        options = (f"-c listen_addresses='' -p {PG_SOCKET_PORT} -k {root} -c unix_socket_permissions=0700 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        start = _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                           "-o", options, "start"], owner)
        done = subprocess.run(start, capture_output=True, text=True, check=False)
        if done.returncode:
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else done.stderr
            raise ServiceStartError(f"PostgreSQL did not start: {detail}")
        return server

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host=str(self.root), port=PG_SOCKET_PORT, user=self.superuser, dbname=database,
                             autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        tpl = f" TEMPLATE {template}" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{tpl}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        cmd = _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
                        self.owner)
        subprocess.run(cmd, capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket_path(self) -> Path:
        return self.root / "redis.sock"

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}?virtual_host=0"

    @classmethod
    def start(cls) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceStartError(f"redis-server missing; install it with: {REDIS_APT}")
        root = Path(tempfile.mkdtemp(prefix="sohoa-redis-"))
        log = root / "server.log"
        proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(root / "redis.sock"), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(root), "--daemonize", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        server = cls(root=root, process=proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise ServiceStartError(f"redis-server exited with code {proc.returncode}: {detail}")
            if server.ping():
                return server
            time.sleep(0.05)
        server.stop()
        raise ServiceStartError("redis-server did not answer PING within 30 s")

    def ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(str(self.socket_path))
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
