"""The daemon under test: a real ``sohoa watch`` subprocess over real folders.

Why a subprocess: signals, ``kill -9``, restarts and the HTTP port are only real in a separate process.
The daemon runs in its own session so a simulated crash kills its whole process group (as systemd does
with the unit's cgroup). Signing uses a PKCS#12 key from the test PKI at level B-B (no TSA needed).
The health server binds a port the kernel picks (``health_port = "any"``); the daemon writes it to
``health_port_file``, which each start waits for — no port is guessed beforehand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sohoa.config.settings import Settings
from sohoa.records.service import Records
from tests.pki.builder import TestPki

if TYPE_CHECKING:
    from tests.watch.kill9 import Outcome

ROOT = Path(__file__).resolve().parents[2]
P12_ENV = "SOHOA_TEST_WATCH_P12"
CODE = "000.00.31.H50-240115-{:04d}"


def _toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else str(value).lower()


@dataclass
class DaemonRun:
    """A configured data folder and the daemon process over it (restartable)."""

    root: Path
    pki: TestPki
    folders: list[dict[str, object]]
    watch: dict[str, object] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    runs: int = 0
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "center.toml"

    @property
    def port_file(self) -> Path:
        return self.root / "health.port"

    def inbox(self, name: str = "inbox") -> Path:
        return self.root / "var" / name

    def write_config(self) -> None:
        signer = self.pki.signer("digitizer")
        lines = ['data_dir = "var"', "[ocr]", 'languages = "vie"', "workers = 1",
                 "[signing.keys.digitizer]", 'kind = "pkcs12"', f"path = {_toml_value(str(signer.p12))}",
                 f'password_env = "{P12_ENV}"',
                 "[signing.profiles.digitizer]", 'key = "digitizer"', 'level = "B-B"',
                 "[signing.profiles.digitizer.appearance]", 'kind = "digitizer"', "[watch]"]
        settings = {"stable_seconds": 1.0, "unreadable_grace_s": 2.0, "poll_interval_s": 0.25,
                    "rescan_interval_s": 5.0, "documents_in_parallel": 2, "workers": 1, "queue_size": 6,
                    "retry_base_s": 0.5, "stop_timeout_s": 30.0, "health_port": "any",
                    "health_port_file": str(self.port_file), **self.watch}
        lines += [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
        for folder in self.folders:
            lines.append("[[watch.folders]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in folder.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, *, wait: bool = True) -> None:
        """Start the daemon; with ``wait``, return once its health endpoint answers."""
        if not self.config.exists():
            self.write_config()
        env = {**os.environ, P12_ENV: self.pki.signer("digitizer").p12_password,
               **self.env_extra}
        self.runs += 1
        self.port_file.unlink(missing_ok=True)  # left by a killed run: wait for this run's port
        log = (self.root / f"daemon-{self.runs}.log").open("wb")
        command = [sys.executable, "-m", "sohoa.cli", "watch", "--config", str(self.config)]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        if not wait:
            return
        wait_for(self.port_file.exists, 60, "the daemon to write its health port", self)
        self.port = int(self.port_file.read_text())
        wait_for(lambda: self.health() is not None, 60, "the daemon's health endpoint to answer", self)

    def health(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            return None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as resp:
            return resp.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in self.metrics().splitlines():
            if line.startswith(f"{name}{{{want}}} " if want else f"{name} "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob("daemon-*.log")))

    def records(self) -> Records:
        settings = Settings(data_dir=self.root / "var")
        return Records.open(settings.records, settings.data_dir)

    def files(self, name: str, sub: str) -> list[Path]:
        folder = self.inbox(name) / sub
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def wait_for(predicate: Callable[[], object], timeout: float, what: str, run: DaemonRun | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if run is not None and run.proc is not None and run.proc.poll() is not None:
            raise AssertionError(f"daemon exited ({run.proc.returncode}) while waiting for {what}:\n"
                                 f"{run.log_text()[-3000:]}")
        time.sleep(0.25)
    tail = run.log_text()[-3000:] if run is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


@pytest.fixture
def daemon_factory(tmp_path: Path, pki: TestPki) -> Iterator[Callable[..., DaemonRun]]:
    made: list[DaemonRun] = []

    def make(folders: list[dict[str, object]], **watch: object) -> DaemonRun:
        run = DaemonRun(tmp_path / f"center{len(made)}", pki, folders, dict(watch))
        run.root.mkdir()
        made.append(run)
        return run

    yield make
    for run in made:
        if run.alive():
            run.kill9()


@pytest.fixture(scope="package", autouse=True)
def kill9_scenarios(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Outcome]] | None]:
    """test_kill9.py's daemons, started in the background as the first watch test begins (None when that
    module is not selected). They mostly wait, so they overlap the end-to-end tests rather than add to the
    suite's wall time; test_kill9.py (which sorts after test_daemon.py) collects their outcomes."""
    if not any(item.path.name == "test_kill9.py" for item in request.session.items):
        yield None
        return
    from tests.watch.kill9 import start_scenarios

    pool, futures = start_scenarios(request.getfixturevalue("pki"), tmp_path_factory.mktemp("kill9"))
    try:
        yield futures
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in futures.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                run = future.result().run
                if run.alive():
                    run.kill9()
