"""Web fixtures: the real app over real records (SQLite and PostgreSQL), real signed PDFs, real tokens.

Signed PDFs come from the verification suite's session PKI (``tests/verify``); the app verifies with
embedded data only (``verify_offline``) so verdicts do not depend on the PKI's OCSP server timing.
The daemon health URL points at a closed port: the status page must cope with a daemon that is down.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sohoa.config import Settings
from sohoa.config.records import RecordsSettings
from sohoa.config.signing import SigningSettings
from sohoa.config.web import WebSettings
from sohoa.records import AttachMeta, NewDossier, Records
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.services import refused_url
from tests.verify.conftest import _quiet_pyhanko, case, signing_settings, unsigned_pdf, vpki  # noqa: F401

CODE = "000.00.31.H50-220906-0001"
CODE2 = "000.00.31.H50-220907-0002"
TEXT = "Giấy chứng nhận quyền sử dụng đất cấp cho ông Nguyễn Văn Định tại xã Hòa Phước"
LIMIT_MB = 1.0


@dataclass
class Web:
    app: FastAPI
    client: TestClient
    records: Records
    tokens: dict[str, str]  # role → secret
    data_dir: Path

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_settings(data_dir: Path, url: str, signing: SigningSettings) -> Settings:
    return Settings(data_dir=data_dir, records=RecordsSettings(database_url=url, store_path=data_dir / "store"),
                    signing=signing)


def web_settings(**overrides: object) -> WebSettings:
    base = {"cookie_secure": False, "verify_offline": True, "max_upload_mb": LIMIT_MB,
            "daemon_health_url": refused_url(""), "daemon_timeout_s": 0.5}
    return WebSettings(**(base | overrides))


def seed(records: Records, signed: Path) -> int:
    """Two dossiers; the first holds the signed PDF with a Vietnamese OCR text. Returns the document id."""
    records.create_dossier(NewDossier(code=CODE, applicant_name="Nguyễn Văn Định", procedure_code="1.004227"))
    records.create_dossier(NewDossier(code=CODE2, applicant_name="Trần Thị Hoa"))
    result = records.attach(signed, dossier_code=CODE, kind="result",
                            meta=AttachMeta(title="Giấy chứng nhận", page_texts=[TEXT, "Trang hai"]))
    return result.document.id


@pytest.fixture
def web(db_url: str, tmp_path: Path, signing_settings: SigningSettings,  # noqa: F811
        case: Callable[[str], Path]) -> Iterator[Web]:  # noqa: F811
    settings = make_settings(tmp_path / "data", db_url, signing_settings)
    app = create_app(settings, web_settings())
    records: Records = app.state.web.records
    tokens = Tokens(records)
    secrets = {role: tokens.create(role, f"test {role}")[1] for role in ("clerk", "system", "admin")}
    seed(records, case("b-lt"))
    with TestClient(app) as client:
        yield Web(app, client, records, secrets, tmp_path / "data")


def pdf_bytes(kind: str, case: Callable[[str], Path]) -> bytes:  # noqa: F811
    """Bytes of the bad-upload cases (and the good ones) by name."""
    if kind == "valid":
        return case("b-lt").read_bytes()
    if kind == "tampered":
        return case("tampered").read_bytes()
    if kind == "encrypted":
        return case("encrypted").read_bytes()
    if kind == "truncated":
        data = case("b-lt").read_bytes()
        return data[: len(data) // 2]
    if kind == "empty":
        return b""
    if kind == "not-pdf":
        return "Đây không phải PDF\n".encode() * 50
    if kind == "too-large":
        out = io.BytesIO()
        with pikepdf.new() as pdf:
            pdf.add_blank_page()
            pdf.save(out)
        return out.getvalue() + b"%" + b"x" * int(LIMIT_MB * (1 << 20) + 100_000) + b"\n%%EOF\n"
    raise KeyError(kind)


@contextmanager
def serving(app: object) -> Iterator[str]:
    """``app`` served by uvicorn on our own loopback socket bound to port 0 (the port is ours from bind to
    shutdown: no "free port" guessed and handed over); yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
