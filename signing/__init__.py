"""Key sources, signing profiles, PAdES signing with pyHanko, verification. Knows nothing about OCR.

Public API (what the pipeline and the CLI call)::

    from sohoa.signing import JsonLinesAuditSink, sign_pdf, sign_pdf_adhoc
    result = sign_pdf(src, dst, profile="organization", settings=settings.signing,
                      audit=JsonLinesAuditSink(settings.resolve(settings.signing.audit_file)))
"""

from sohoa.signing.audit import AuditEvent, AuditSink, JsonLinesAuditSink
from sohoa.signing.revocation import LEVELS
from sohoa.signing.sign import SignResult, sign_pdf, sign_pdf_adhoc, sign_with

__all__ = ["LEVELS", "AuditEvent", "AuditSink", "JsonLinesAuditSink", "SignResult", "sign_pdf", "sign_pdf_adhoc",
           "sign_with"]
