"""Web service settings (``sohoa serve``): where it listens, upload limits, the page session.

Why these are settings: a one-counter commune runs the service on the counter PC itself (127.0.0.1,
no TLS), a center runs it behind nginx with TLS (secure cookies, a proxy in front); the upload limit
follows what the center's scanners produce; the daemon's health address follows ``[watch]``.
The session secret is never in the config: it lives in a file generated 0600 on first run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Bind address; keep 127.0.0.1 and put nginx (TLS) in front")
    port: int = Field(8470, ge=1, le=65535, description="Bind port")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest accepted upload (PDF), in MiB")
    session_secret_file: Path = Field(
        Path("web/session.key"),
        description="Signs page-session cookies; generated (0600) on first run; relative to data_dir")
    cookie_secure: bool = Field(
        True, description="Send the session cookie over HTTPS only; false only for plain-HTTP use on one PC")
    session_max_age_s: int = Field(28800, ge=60, description="A counter login lasts this long (one shift)")
    daemon_health_url: str = Field(
        "http://127.0.0.1:9477", description="The watch daemon's health/metrics server ([watch] health_port)")
    daemon_timeout_s: float = Field(2.0, gt=0, description="How long the status page waits for the daemon")
    verify_offline: bool = Field(
        False, description="Verify uploads with embedded validation data only (no OCSP/CRL fetches)")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="Proxies whose X-Forwarded-For/Proto headers are trusted (nginx)")
    page_size: int = Field(50, ge=1, le=500, description="Rows per page in dossier lists")
