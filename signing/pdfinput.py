"""Read a PDF that is to be signed or verified, refusing bad input with the project's typed errors.

Why one function: signing and verifying must agree on what counts as missing, empty, not a PDF,
damaged or encrypted, and say it in the same words (the clerk sees both).
"""

from __future__ import annotations

import io
from pathlib import Path

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from sohoa.common.errors import InputCorrupt, InputEmpty, InputEncrypted, InputMissing, InputWrongType
from sohoa.common.messages import _
from sohoa.common.reasons import foreign

READ_ERRORS = (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError)


def read_pdf(path: Path) -> tuple[bytes, PdfFileReader]:
    """The file's bytes and a parsed reader; raises ``Input*`` errors naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputMissing(path=path) from None
    except IsADirectoryError:
        raise InputWrongType(path=path, detail=_("a folder")) from None
    except OSError as exc:
        raise InputCorrupt(path=path, detail=exc.strerror or "unreadable") from None
    if not data:
        raise InputEmpty(path=path)
    if b"%PDF-" not in data[:1024]:
        raise InputWrongType(path=path, detail=_("no %PDF- header"))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encrypted = reader.encrypted or "/Encrypt" in reader.trailer
        if not encrypted:
            reader.root["/Pages"]  # noqa: B018 - force the catalog and page tree root to parse
    except READ_ERRORS as exc:
        raise InputCorrupt(path=path, detail=_("PDF structure: {reason}", reason=foreign(exc))) from None
    if encrypted:
        raise InputEncrypted(path=path)
    return data, reader
