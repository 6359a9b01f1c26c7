"""What the API and the pages do, once: verify an upload, attach an upload, find dossiers, thumbnails.

Why a layer between the routers and ``records``/``signing``: the JSON API and the HTML pages must give
the same answers and refuse the same bad input; only the rendering differs. Everything here is
synchronous (pyHanko, SQLAlchemy, pdftoppm); FastAPI runs the plain ``def`` endpoints in its thread pool.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import subprocess
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import UploadFile

from sohoa.common.errors import InputError, Lang
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _
from sohoa.config import Settings
from sohoa.config.web import WebSettings
from sohoa.pipeline.verification import RecordsLookup
from sohoa.records import AttachMeta, AttachResult, DocumentInfo, DossierInfo, Records, SearchHit
from sohoa.records.codes import parse_code
from sohoa.records.errors import DossierNotFound, InvalidDossierCode
from sohoa.records.types import SourceFile
from sohoa.signing.verify import VerificationReport, verify
from sohoa.web.errors import NotFound
from sohoa.web.tokens import Tokens
from sohoa.web.uploads import check_pdf_structure, received_pdf

log = logging.getLogger(__name__)

THUMB_WIDTH = 240
THUMB_CACHE = 256  # thumbnails kept in memory (by content hash); ~10-30 kB each
PDFTOPPM_TIMEOUT_S = 30


@dataclass
class Found:
    """Result of the dossier search box: an exact code, dossiers by code prefix, documents by text."""

    query: str
    exact: DossierInfo | None = None
    dossiers: list[DossierInfo] = field(default_factory=list)
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0  # documents matching the text, exact unless ``capped`` ("more than total")
    capped: bool = False
    include_superseded: bool = False


@dataclass(frozen=True)
class Badge:
    """A filed document's current signature verdict, for the dossier page."""

    indication: str  # TOTAL-PASSED | INDETERMINATE | TOTAL-FAILED | UNREADABLE
    vi: str
    en: str


BADGE_TTL_S = 3600.0


class WebService:
    """Holds the open ``Records`` (one engine and pool for the process) and the settings."""

    def __init__(self, settings: Settings, web: WebSettings, records: Records) -> None:
        self.settings = settings
        self.web = web
        self.records = records
        self.tokens = Tokens(records)
        self.lookup = RecordsLookup(records)
        self.limit_bytes = int(web.max_upload_mb * (1 << 20))
        self._thumbs: OrderedDict[str, bytes] = OrderedDict()
        self._thumb_lock = threading.Lock()
        self._badges: OrderedDict[str, tuple[float, Badge | None]] = OrderedDict()

    # --- verify ------------------------------------------------------------------------------

    def verify_upload(self, upload: UploadFile | None, lang: Lang) -> VerificationReport:
        """Verify an uploaded PDF; the report names the client's file, never the temp path."""
        with received_pdf(upload, self.limit_bytes) as (path, label):
            try:
                report = verify(path, self.settings.signing, lookup=self.lookup, offline=self.web.verify_offline,
                                lang=lang)
            except InputError as err:
                raise relabel(err, label) from None
        return dataclasses.replace(report, path=label)

    # --- dossiers and documents --------------------------------------------------------------

    def attach_upload(self, code: str, upload: UploadFile | None, *, kind: str, title: str | None,
                      actor: str) -> AttachResult:
        """File an uploaded PDF under an existing dossier (the API creates dossiers separately)."""
        dossier = self.records.get_dossier(code)
        with received_pdf(upload, self.limit_bytes) as (path, label):
            pages = check_pdf_structure(path, label)
            digest, size = sha256_file(path)  # the uploaded file is its own source (duplicates by source)
            meta = AttachMeta(title=(title or label).strip()[:500] or None, page_count=pages, actor=actor,
                              digitized_by=actor, extra={"uploaded_as": label, "via": "web"},
                              source_files=[SourceFile(name=label, sha256=digest, size=size)])
            try:
                return self.records.attach(path, dossier_code=dossier.code, kind=kind, meta=meta)
            except InputError as err:
                raise relabel(err, label) from None

    def document(self, code: str, doc_id: int) -> DocumentInfo:
        """A document of a dossier by id; the file path comes from the database, never from the request."""
        for doc in self.records.documents(code):
            if doc.id == doc_id:
                return doc
        raise NotFound(what=_("document {id} of dossier {code}", id=doc_id, code=code))

    def find(self, query: str, *, limit: int, include_superseded: bool = False) -> Found:
        """A full dossier code opens that dossier; a code prefix lists dossiers; anything else is text."""
        query = query.strip()[:200]
        found = Found(query, include_superseded=include_superseded)
        if not query:
            found.dossiers = self.records.list_dossiers(limit=limit)
            return found
        if looks_like_code(query):
            code = query.upper()
            try:
                found.exact = self.records.get_dossier(code)
            except (InvalidDossierCode, DossierNotFound):
                found.exact = None
            found.dossiers = self.records.list_dossiers(prefix=code, limit=limit)
        result = self.records.search_result(query, limit=limit, include_superseded=include_superseded)
        found.hits, found.total, found.capped = result.hits, result.total, result.capped
        return found

    def badge(self, doc: DocumentInfo) -> Badge | None:
        """Whether a filed document's signatures still verify (None: it carries none). Verified again on
        view, because revocation and expiry change a verdict; cached by content hash for BADGE_TTL_S."""
        now = time.monotonic()
        with self._thumb_lock:
            cached = self._badges.get(doc.sha256)
            if cached is not None and now - cached[0] < BADGE_TTL_S:
                return cached[1]
        try:
            report = verify(doc.path, self.settings.signing, offline=self.web.verify_offline)
            badge = Badge(report.indication, report.sentence("vi"), report.sentence("en")) if report.signatures \
                else None
        except InputError as err:
            badge = Badge("UNREADABLE", err.message("vi"), err.message("en"))
        with self._thumb_lock:
            self._badges[doc.sha256] = (now, badge)
            while len(self._badges) > THUMB_CACHE:
                self._badges.popitem(last=False)
        return badge

    def thumbnail(self, doc: DocumentInfo, *, page: int = 1, width: int = THUMB_WIDTH) -> bytes:
        """PNG of a page (page 1, THUMB_WIDTH wide by default), rendered by pdftoppm, cached by content hash."""
        key = f"{doc.sha256}:{page}:{width}"
        with self._thumb_lock:
            cached = self._thumbs.get(key)
            if cached is not None:
                self._thumbs.move_to_end(key)
                return cached
        png = render_first_page(doc.path, width, page) if 1 <= page <= doc.page_count else b""
        with self._thumb_lock:
            self._thumbs[key] = png
            while len(self._thumbs) > THUMB_CACHE:
                self._thumbs.popitem(last=False)
        return png


_CODE_CHARS = re.compile(r"^[0-9A-Za-z.\-]+$")


def looks_like_code(query: str) -> bool:
    """Dossier codes (and their prefixes) are ASCII letters, digits, dots and dashes with a digit."""
    return bool(_CODE_CHARS.match(query)) and any(c.isdigit() for c in query) and ("." in query or "-" in query)


def valid_code(records: Records, code: str) -> str:
    """The canonical code, or ``InvalidDossierCode`` (a 422, not a 500) for anything else."""
    return parse_code(code, records.settings).code


def relabel(err: InputError, label: str) -> InputError:
    """The same error naming the client's file instead of our temp path."""
    fields = dict(err.fields)
    fields["path"] = label
    return type(err)(**fields)


def render_first_page(pdf: Path, width: int, page: int = 1) -> bytes:
    """Render page ``page`` (1-based) with poppler's pdftoppm to PNG bytes (stdout, no temp files)."""
    cmd = ["pdftoppm", "-f", str(page), "-l", str(page), "-png", "-scale-to-x", str(width), "-scale-to-y", "-1",
           str(pdf)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PDFTOPPM_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("no thumbnail for %s: %s", pdf.name, exc)
        return b""
    if done.returncode or not done.stdout.startswith(b"\x89PNG"):
        log.warning("no thumbnail for %s: pdftoppm exit %s", pdf.name, done.returncode)
        return b""
    return done.stdout
