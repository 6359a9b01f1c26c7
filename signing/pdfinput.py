"""Read a PDF that is to be signed or verified, refusing bad input with the project's typed errors.

Why one function: signing and verifying must agree on what counts as missing, empty, not a PDF,
damaged or encrypted, and say it in the same words (the clerk sees both).
"""

from __future__ import annotations

import binascii
import contextlib
import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from sohoa.common.errors import InputCorrupt, InputEmpty, InputEncrypted, InputMissing, InputWrongType
from sohoa.common.messages import _
from sohoa.common.reasons import foreign

READ_ERRORS = (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError)
# Everything pyHanko, asn1crypto and the compression libraries raise on hostile or odd input, seen on
# real-world signed PDFs (AssertionError on PKCS#7 without signed attributes, zlib errors on a cut
# Flate stream, struct errors in CMS, recursion on cyclic objects). At the verification boundary each
# becomes a verdict or "cannot be read", never an internal error.
LIBRARY_FAILURES = (*READ_ERRORS, AssertionError, NotImplementedError, ArithmeticError, LookupError, EOFError,
                    RecursionError, UnicodeError, zlib.error, struct.error, binascii.Error)


def read_pdf(path: Path) -> tuple[bytes, PdfFileReader]:
    """The file's bytes and a parsed reader; raises ``Input*`` errors naming the file."""
    with _opening(path):
        data = path.read_bytes()
    return data, _parse(path, io.BytesIO(data), data[:1024])


def open_pdf(path: Path) -> tuple[BinaryIO, PdfFileReader]:
    """The open file and a reader over it (objects read as needed), for signing: a 1,000-page archival
    file is never held in memory whole. The caller closes the file. Same errors as ``read_pdf``."""
    with _opening(path):
        stream = path.open("rb")
    try:
        head = stream.read(1024)
        stream.seek(0)
        return stream, _parse(path, stream, head)
    except BaseException:
        stream.close()
        raise


@contextlib.contextmanager
def _opening(path: Path) -> Iterator[None]:
    """The OS's reasons for not reading ``path``, as the typed input errors the clerk sees."""
    try:
        yield
    except FileNotFoundError:
        raise InputMissing(path=path) from None
    except IsADirectoryError:
        raise InputWrongType(path=path, detail=_("a folder")) from None
    except OSError as exc:
        raise InputCorrupt(path=path, detail=exc.strerror or "unreadable") from None


def _parse(path: Path, stream: BinaryIO, head: bytes) -> PdfFileReader:
    if not head:
        raise InputEmpty(path=path)
    if b"%PDF-" not in head:
        raise InputWrongType(path=path, detail=_("no %PDF- header"))
    try:
        reader = PdfFileReader(stream, strict=False)
        encrypted = reader.encrypted or "/Encrypt" in reader.trailer
        if not encrypted:
            reader.root["/Pages"]  # noqa: B018 - force the catalog and page tree root to parse
    except LIBRARY_FAILURES as exc:
        raise InputCorrupt(path=path, detail=_("PDF structure: {reason}", reason=foreign(exc))) from None
    if encrypted:
        raise InputEncrypted(path=path)
    return reader
