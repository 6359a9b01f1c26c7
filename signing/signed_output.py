"""Writing a signature's revisions from file to file: the signature, then for B-LT the DSS, for B-LTA
the document timestamp too; and reading back the level the output reached.

Why file to file: pyHanko copies its input and digests its output in chunks, so a signature costs
the same few tens of MB on a 700 MB archival file as on a one-page receipt. Signing through ``bytes``
held the file five or six times over (4.3 GB for 733 MB, ``bench/results/long.md``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, BinaryIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfTimeStamper, TimestampDSSContentSettings
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from sohoa.config.signing import Level
from sohoa.signing.pyhanko_compat import PdfaIncrementalWriter
from sohoa.signing.revocation import LevelNeeds, level_reached
from sohoa.signing.timestamps import LocalTimeStamper, RetryingTimeStamper


def reached_level(signed: BinaryIO) -> tuple[Level, list[int]]:
    """The PAdES level actually present in signed output (what the *last* signature got), and that
    signature's /ByteRange."""
    signed.seek(0)
    reader = PdfFileReader(signed, strict=False)
    last = reader.embedded_regular_signatures[-1]
    unsigned = last.signer_info["unsigned_attrs"]
    has_sig_ts = unsigned.native is not None and any(
        attr["type"].native == "signature_time_stamp_token" for attr in unsigned)
    has_dss = "/DSS" in reader.root
    doc_ts_after = any(ts.signed_revision > last.signed_revision for ts in reader.embedded_timestamp_signatures)
    return level_reached(timestamped=has_sig_ts, revocation_data=has_dss, archived=doc_ts_after), list(last.byte_range)


async def sign_into(reader: PdfFileReader, pdf_signer: PdfSigner, out: BinaryIO, *, scratch: Path,
                     needs: LevelNeeds, vc: ValidationContext | None,
                     timestamper: RetryingTimeStamper | LocalTimeStamper | None, digest: str,
                     bytes_reserved: int | None) -> None:
    """Signature revision into ``out``; for B-LT a DSS revision; for B-LTA the DSS with a document timestamp.

    We write the DSS and document-timestamp revisions ourselves (pyHanko's own LT/LTA path opens its
    own writers) so that every revision goes through ``PdfaIncrementalWriter`` and stays PDF/A
    (see ``pyhanko_compat``). Every revision goes from file to file (the signed-only one through a
    private file in ``scratch``), never through memory: pyHanko copies and digests in chunks, so a
    700 MB archival file is signed in a few tens of MB (it took 4.3 GB as bytes).
    """
    out.seek(0)
    out.truncate()
    # the writer extends the reader the input was checked and planned with: the input is parsed once
    if not needs.revocation or vc is None:
        await pdf_signer.async_sign_pdf(PdfaIncrementalWriter.from_reader(reader), bytes_reserved=bytes_reserved,
                                        output=out)
        return
    with tempfile.TemporaryFile(dir=scratch) as signed:
        await pdf_signer.async_sign_pdf(PdfaIncrementalWriter.from_reader(reader), bytes_reserved=bytes_reserved,
                                        output=signed)
        signed.seek(0)
        paths = await collect_validation_info(PdfFileReader(signed, strict=False).embedded_regular_signatures[-1],
                                              vc)
        writer = PdfaIncrementalWriter(signed, strict=False)
        DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=vc)
        if needs.archive_timestamp and timestamper is not None:
            await PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, digest, vc, output=out,
                dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
        else:
            writer.write(out)


async def close_after(coro: Coroutine[Any, Any, None], backend: AIOHttpFetcherBackend | None) -> None:
    """Run the signing coroutine, then close the revocation fetchers' HTTP session in the same loop."""
    try:
        return await coro
    finally:
        if backend is not None:
            await backend.close()
