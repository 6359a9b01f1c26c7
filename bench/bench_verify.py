"""Verification benchmark: documents verified per second offline, ours vs pyHanko and poppler's pdfsig.

Why these three: ``sohoa verify`` is built on pyHanko's validator, so the in-process pyHanko loop shows
what our extra passes (revision analysis, verdict mapping) cost; the ``pyhanko sign validate`` CLI and
``pdfsig`` are what a clerk would otherwise run, one process per file. All run in the same process
run, on the same B-LT / B-LTA files signed with the test PKI (tests/pki), offline (embedded data only).

    .venv/bin/python -m bench.bench_verify --docs 12 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from sohoa.signing.keys import load_certs
from sohoa.signing.verify import verify
from tests.pki import make_nss_db, serve_pki


def _source(folder: Path, pages: int) -> Path:
    from sohoa.config.settings import OutputSettings
    from sohoa.stages.assemble import build_pdfa, prepare_page
    from sohoa.stages.model import DocumentMeta, Page

    image = np.full((1169, 827, 3), 255, np.uint8)
    image[450:700, 120:700] = (60, 60, 60)
    settings = OutputSettings()
    prepared = [prepare_page(Page(image=image, dpi=(100.0, 100.0), source=Path(f"p{i}.png")), settings)
                for i in range(pages)]
    out = io.BytesIO()
    build_pdfa(prepared, DocumentMeta(title="Bench"), settings, out)
    path = folder / "src.pdf"
    path.write_bytes(out.getvalue())
    return path


def _pyhanko_in_process(files: list[Path], roots: list) -> None:
    async def one(path: Path) -> None:
        with path.open("rb") as fh:
            reader = PdfFileReader(fh, strict=False)
            vc = DocumentSecurityStore.read_dss(reader).as_validation_context(
                {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"})
            for sig in reader.embedded_regular_signatures:
                await async_validate_pdf_signature(sig, vc)

    async def all_files() -> None:
        for path in files:
            await one(path)

    asyncio.run(all_files())


def _timed(label: str, fn, count: int, rounds: int) -> tuple[str, float]:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return label, count / best


def quiet_pyhanko() -> None:
    """pyHanko logs every failed validation path with a traceback; the benchmarks only count."""
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


PYHANKO = str(Path(sys.executable).parent / "pyhanko")  # the venv's CLI, not whatever is on PATH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=12, help="signed files (half B-LT, half B-LTA)")
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds")
    args = parser.parse_args()
    quiet_pyhanko()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = serve_pki(folder / "pki")
        pki = server.pki
        os.environ["SOHOA_BENCH_P12"] = pki.signer("organization").p12_password
        settings = SigningSettings.model_validate({
            "keys": {"organization": {"kind": "pkcs12", "path": str(pki.signer("organization").p12),
                                      "password_env": "SOHOA_BENCH_P12"}},
            "profiles": {"organization": {"appearance": {"kind": "invisible"}}},
            "tsa": {"url": pki.tsa_url}, "trust": {"roots": [str(pki.root.cert_pem)]}})
        src = _source(folder, args.pages)
        files = []
        for i in range(args.docs):
            dst = folder / f"doc-{i:03d}.pdf"
            sign_pdf(src, dst, profile="organization", settings=settings, level="B-LT" if i % 2 else "B-LTA")
            files.append(dst)
        nss = make_nss_db(folder / "nss", pki)
        roots = load_certs([pki.root.cert_pem])
        verdicts = {verify(f, settings, offline=True).indication for f in files}
        assert verdicts == {"TOTAL-PASSED"}, f"bench files must verify: {verdicts}"

        def ours() -> None:
            for f in files:
                verify(f, settings, offline=True)

        def hanko_cli() -> None:
            for f in files:
                subprocess.run([PYHANKO, "sign", "validate", "--trust", str(pki.root.cert_pem), "--trust-replace",
                                "--executive-summary", str(f)], capture_output=True, check=False)

        def pdfsig() -> None:
            for f in files:
                subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(f)], capture_output=True, check=False)

        rows = [_timed("sohoa verify (in process, offline)", ours, len(files), args.rounds),
                _timed("pyHanko validate_pdf_signature (in process, DSS)", lambda: _pyhanko_in_process(files, roots),
                       len(files), args.rounds),
                _timed("pyhanko sign validate (one process per file)", hanko_cli, len(files), 1),
                _timed("pdfsig -nssdir (one process per file)", pdfsig, len(files), args.rounds)]
        server.stop()
    ours_rate = rows[0][1]
    lines = ["# Verify benchmark", "",
             f"{len(files)} files (B-LT/B-LTA), {args.pages} pages each, best of {args.rounds} rounds, "
             f"load {os.getloadavg()[0]:.2f}.", "", "| tool | docs/s | sohoa ÷ tool |", "|---|---:|---:|"]
    lines += [f"| {label} | {rate:.1f} | {ours_rate / rate:.2f} |" for label, rate in rows]
    report = "\n".join(lines) + "\n"
    out = Path(__file__).resolve().parent / "results" / "verify.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
