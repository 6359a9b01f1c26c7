"""``/healthz`` and Prometheus ``/metrics`` on a local port, from a private metrics registry.

Why a private registry: the numbers describe this daemon only (no default process collectors that
differ between platforms), and tests can read them back. Why health has a heartbeat: a daemon whose
scanner thread is stuck must answer 503 so systemd/monitoring restart it, even if HTTP still works.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


class Metrics:
    """Counters and gauges of the watch daemon; labels are the folder label and the stage name."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.files_seen = Counter("sohoa_watch_files_seen", "Input files claimed from inboxes", ["folder"], registry=r)
        self.files_done = Counter("sohoa_watch_files_done", "Input files whose documents are attached",
                                  ["folder"], registry=r)
        self.files_failed = Counter("sohoa_watch_files_failed", "Input files moved to failed/", ["folder"],
                                    registry=r)
        self.files_review = Counter("sohoa_watch_files_review", "Input files moved to needs-review/", ["folder"],
                                    registry=r)
        self.documents = Counter("sohoa_watch_documents", "Documents finished, by result", ["folder", "result"],
                                 registry=r)
        self.pages = Counter("sohoa_watch_pages", "Pages in attached documents", ["folder"], registry=r)
        self.retries = Counter("sohoa_watch_retries", "Transient failures retried", ["folder"], registry=r)
        self.stage_seconds = Histogram("sohoa_watch_stage_seconds", "Time per stage (page stages per page)",
                                       ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.latency = Histogram("sohoa_watch_latency_seconds", "From file stable to document attached",
                                 buckets=STAGE_BUCKETS, registry=r)
        self.queue_depth = Gauge("sohoa_watch_queue_depth", "Jobs waiting for a worker", registry=r)
        self.in_flight = Gauge("sohoa_watch_in_flight", "Jobs being processed", registry=r)
        self.oldest_waiting = Gauge("sohoa_watch_oldest_waiting_seconds",
                                    "Age of the oldest file seen in an inbox and not yet claimed", registry=r)
        self.up = Gauge("sohoa_watch_up", "1 while the daemon accepts files", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HealthServer:
    """Serves the two endpoints from a thread; ``status()`` gives the JSON of ``/healthz``."""

    def __init__(self, host: str, port: int, metrics: Metrics, status: Callable[[], dict[str, object]],
                 heartbeat_timeout_s: float) -> None:
        self.metrics = metrics
        self.status = status
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._beat = time.monotonic()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.split("?")[0] == "/metrics":
                    self._send(200, server.metrics.render(), CONTENT_TYPE_LATEST)
                elif self.path.split("?")[0] == "/healthz":
                    code, body = server.health()
                    self._send(code, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return  # access logs would drown the one-line-per-document log

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="health", daemon=True)

    def beat(self) -> None:
        self._beat = time.monotonic()

    def health(self) -> tuple[int, dict[str, object]]:
        age = time.monotonic() - self._beat
        body = dict(self.status())
        body["heartbeat_age_s"] = round(age, 1)
        healthy = age <= self.heartbeat_timeout_s and body.get("status") == "ok"
        return (200 if healthy else 503), body

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
