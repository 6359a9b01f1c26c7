"""A result's data written into the XMP before signing is still there after signing (pyHanko rewrites the
XMP packet on every incremental update), and the signed file still passes our PDF/A check."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pikepdf
from pyhanko.pdf_utils.metadata import xmp_xml

from sohoa.config.settings import OutputSettings
from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from sohoa.stages.assemble import build_pdfa, prepare_page
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.model import DocumentMeta, Page

SOHOA_NS = "https://sohoa.vn/ns/1.0/"


def test_result_data_survives_signing(tmp_path: Path, signing_settings: SigningSettings) -> None:
    image = np.full((1169, 827, 3), 255, np.uint8)
    image[300:700, 100:700] = 40
    out = io.BytesIO()
    meta = DocumentMeta(title="Quyết định", kind="result",
                        result_data={"doc_number": "123/QĐ-STP", "signer_name": "Nguyễn Văn Hùng"})
    settings = OutputSettings()
    build_pdfa([prepare_page(Page(image=image, dpi=(100.0, 100.0), source=Path("p.png")), settings)], meta,
               settings, out)
    src, dst = tmp_path / "kq.pdf", tmp_path / "kq-signed.pdf"
    src.write_bytes(out.getvalue())
    sign_pdf(src, dst, profile="digitizer", settings=signing_settings, level="B-B")
    with pikepdf.open(dst) as pdf:
        packet = bytes(pdf.Root.Metadata.read_bytes())
    values = {str(key): value.value for root in xmp_xml.parse_xmp(io.BytesIO(packet)) for key, value in root}
    assert values.get(f"{SOHOA_NS}docNumber") == "123/QĐ-STP", sorted(values)
    assert values.get(f"{SOHOA_NS}signerName") == "Nguyễn Văn Hùng"
    assert check_pdfa(dst) == [], "the signed file must still be PDF/A-2B"
