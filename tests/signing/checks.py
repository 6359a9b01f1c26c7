"""Independent checks of signed output: pyHanko's validator, poppler's pdfsig/pdftoppm/pdftotext.

These never call our signing code, so a test that passes shows the output is good by other tools.
"""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from sohoa.signing.keys import load_certs
from tests.pki import TestPki, run_pdfsig

MM = 72 / 25.4


def validate_all(path: Path, pki: TestPki, level: str) -> list[str]:
    """Problems found by pyHanko's validator for every signature at ``level`` ([] = all fine).

    B-LT/B-LTA are validated *offline* from the document's DSS (no fetching): that is what "revocation
    data embedded" means. B-T and above need a trusted signature timestamp; B-LTA a trusted document
    timestamp after the last signature.
    """
    problems: list[str] = []
    roots = load_certs([pki.root.cert_pem])
    with path.open("rb") as fh:
        reader = PdfFileReader(fh, strict=False)
        sigs = reader.embedded_regular_signatures
        if not sigs:
            return ["no signature"]
        if level in ("B-LT", "B-LTA"):
            if "/DSS" not in reader.root:
                return ["no DSS"]
            dss = DocumentSecurityStore.read_dss(reader)
            vc = dss.as_validation_context({"trust_roots": roots, "allow_fetching": False,
                                            "revocation_mode": "hard-fail"})
        else:
            vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        for sig in sigs:
            status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
            if not (status.intact and status.valid and status.trusted):
                problems.append(f"{sig.field_name}: intact={status.intact} valid={status.valid} "
                                f"trusted={status.trusted} ({status.trust_problem_indic})")
            if status.coverage is None:
                problems.append(f"{sig.field_name}: coverage unknown")
            ts = status.timestamp_validity
            if level != "B-B":
                if ts is None or not (ts.intact and ts.valid and ts.trusted):
                    problems.append(f"{sig.field_name}: signature timestamp missing or not trusted ({ts})")
            elif ts is not None:
                problems.append(f"{sig.field_name}: unexpected signature timestamp at B-B")
        doc_ts = reader.embedded_timestamp_signatures
        if level == "B-LTA":
            if not doc_ts or doc_ts[-1].signed_revision < sigs[-1].signed_revision:
                problems.append("no document timestamp after the last signature")
            for ts_sig in doc_ts:
                ts_status = validate_pdf_timestamp(ts_sig, validation_context=vc)
                if not (ts_status.intact and ts_status.valid and ts_status.trusted):
                    problems.append(f"document timestamp {ts_sig.field_name} not valid/trusted")
        elif doc_ts and level != "B-LTA":
            problems.append(f"unexpected document timestamp at {level}")
    return problems


def pdfsig_problems(path: Path, nss_db: Path) -> list[str]:
    """pdfsig exits 0 even for untrusted signatures: read its text, skip document timestamps."""
    result = run_pdfsig(path, nss_db)
    # pdfsig 22.12 cannot check document timestamps (type "ETSI.RFC3161" or "unknown"): skip them
    blocks = [b for b in result.signatures if "ETSI.RFC3161" not in b and "Signature Type: unknown" not in b]
    if not blocks:
        return [f"pdfsig found no signature: {result.output.strip()[:300]}"]
    return [block.strip()[:400] for block in blocks
            if "Signature is Valid" not in block or "Certificate is Trusted" not in block]


def render_page1(path: Path, out_dir: Path, dpi: int = 36) -> np.ndarray:
    prefix = out_dir / f"{path.stem}-render"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(prefix)], check=True, capture_output=True)
    with Image.open(f"{prefix}.png") as img:
        return np.asarray(img.convert("RGB")).astype(np.int16)


def corner_region(image: np.ndarray, corner: str, width_mm: float, height_mm: float, margin_mm: float,
                  dpi: int = 36) -> np.ndarray:
    """Pixels of the box a stamp of that size occupies in that corner (page 1, rendered at ``dpi``)."""
    px = dpi / 25.4
    h, w = image.shape[:2]
    bw, bh, m = int(width_mm * px), int(height_mm * px), int(margin_mm * px)
    top = m if corner.startswith("top") else h - m - bh
    left = m if corner.endswith("left") else w - m - bw
    return image[top:top + bh, left:left + bw]


def ink(region: np.ndarray) -> int:
    """Pixels clearly darker than paper."""
    return int((region.max(axis=2) < 160).sum())


def red(region: np.ndarray) -> int:
    r, g, b = region[..., 0], region[..., 1], region[..., 2]
    return int(((r > 150) & (g < 110) & (b < 110)).sum())


def page1_text(path: Path) -> str:
    proc = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", str(path), "-"],
                          check=True, capture_output=True)
    return unicodedata.normalize("NFC", proc.stdout.decode("utf-8"))
