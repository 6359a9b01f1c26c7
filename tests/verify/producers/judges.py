"""What the two other validators say about a file: pyHanko's own validator and poppler's ``pdfsig``.

Why: the case table's expectations are ours; these are the second opinions the tests (the "pyHanko finds
it clean, so we must not fail it" property) and the benchmark's report table put beside our verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from tests.pki import TestPki, run_pdfsig

ALLOWED_LEVELS = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


@dataclass
class HankoFact:
    """pyHanko's verdict on one signature or document timestamp (or why it had none)."""

    field: str
    intact: bool
    valid: bool
    level: str | None
    docmdp_ok: bool | None
    error: str | None = None

    def short(self) -> str:
        if self.error:
            return f"error ({self.error[:60]})"
        mdp = "" if self.docmdp_ok is not False else ", docmdp_ok=False"
        return f"{'intact' if self.intact else 'NOT intact'}/{'valid' if self.valid else 'NOT valid'}/{self.level}{mdp}"


def clean(facts: list[HankoFact]) -> bool:
    """Every signature intact and valid, changed at most by LTA updates or form filling within DocMDP."""
    return bool(facts) and all(f.intact and f.valid and f.level in ALLOWED_LEVELS and f.docmdp_ok is not False
                               for f in facts)


async def hanko_facts(path: Path, pki: TestPki, *, fetch: bool = True) -> list[HankoFact]:
    backend = AIOHttpFetcherBackend(per_request_timeout=5) if fetch else None
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(pki.root.cert_der)], allow_fetching=fetch,
                                fetcher_backend=backend)
    try:
        return await _facts(path, context)
    finally:
        if backend is not None:
            await backend.close()


async def _facts(path: Path, context: ValidationContext) -> list[HankoFact]:
    facts: list[HankoFact] = []
    with path.open("rb") as fh:
        try:
            sigs = list(PdfFileReader(fh, strict=False).embedded_signatures)
        except Exception as exc:  # noqa: BLE001 - pyHanko's own failure is a fact about the file too
            return [HankoFact("-", False, False, None, None, f"{type(exc).__name__}: {exc}")]
        for sig in sigs:
            try:
                if sig.sig_object_type == "/DocTimeStamp":
                    status = await async_validate_pdf_timestamp(sig, validation_context=context)
                else:
                    status = await async_validate_pdf_signature(sig, context)
            except Exception as exc:  # noqa: BLE001 - as above
                facts.append(HankoFact(str(sig.field_name), False, False, None, None, f"{type(exc).__name__}: {exc}"))
                continue
            level = getattr(status, "modification_level", None)
            facts.append(HankoFact(str(sig.field_name), bool(status.intact), bool(status.valid),
                                   level.name if level is not None else None, getattr(status, "docmdp_ok", None)))
    return facts


def pdfsig_summary(path: Path, nss_db: Path) -> str:
    """pdfsig's signature and certificate verdicts per signature, e.g. ``Valid+Trusted; Valid+Trusted``."""
    blocks = run_pdfsig(path, nss_db).signatures
    if not blocks:
        return "no signature"
    out = []
    for block in blocks:
        sig = re.search(r"Signature Validation: (.*)", block)
        cert = re.search(r"Certificate Validation: (.*)", block)
        words = (sig.group(1) if sig else "?").replace("Signature is ", "").rstrip(".")
        if cert:
            words += "+" + cert.group(1).replace("Certificate is ", "").rstrip(".")
        out.append(words)
    return "; ".join(out)
