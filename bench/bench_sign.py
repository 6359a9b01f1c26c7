"""Signing throughput: ``signing.sign_pdf`` in one process vs the same number of ``pyhanko sign addsig`` runs.

    .venv/bin/python -m bench.bench_sign [--docs 20] [--pipeline] [--out bench/results/sign.json]

What is measured, on the same machine in the same run, against the test PKI served on 127.0.0.1
(its TSA answers locally, so B-T measures our client and the TSA round trip, not the internet):

- documents signed per second at B-B and B-T, in-process, invisible signature (like the CLI's
  default) and with our visible organization stamp (seal + embedded font);
- the same number of ``pyhanko sign addsig --use-pades`` CLI runs (one process per document, as a
  shell script would do it) at B-B and B-T; the ratio in-process / CLI;
- with ``--pipeline``: the share of signing (digitizer + organization, the profiles' levels) in the
  whole per-document time of ``process_document`` on the bundled sample scans.

Why against the CLI: it is what a center would script without sohoa. The ratio is mostly process
start-up and imports, which a long-running worker pays once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sohoa.config.settings import OutputSettings, Settings
from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from sohoa.stages.assemble import build_pdfa, prepare_page
from sohoa.stages.model import DocumentMeta, Page
from tests.pki import TestPki, serve_pki

ROOT = Path(__file__).resolve().parents[1]
SEAL = ROOT / "config" / "seal-test.png"


def _input_pdf(path: Path, pages: int = 2) -> None:
    image = np.full((1169, 827, 3), 255, np.uint8)
    image[450:700, 120:700] = (60, 60, 60)
    page = Page(image=image, dpi=(100.0, 100.0), source=Path("bench.png"))
    out = io.BytesIO()
    settings = OutputSettings()
    build_pdfa([prepare_page(page, settings) for _ in range(pages)], DocumentMeta(title="bench"), settings, out)
    path.write_bytes(out.getvalue())


def _settings(pki: TestPki) -> SigningSettings:
    os.environ["BENCH_P12_DIGITIZER"] = pki.signer("digitizer").p12_password
    os.environ["BENCH_P12_ORGANIZATION"] = pki.signer("organization").p12_password
    return SigningSettings.model_validate({
        "keys": {"digitizer": {"kind": "pkcs12", "path": str(pki.signer("digitizer").p12),
                               "password_env": "BENCH_P12_DIGITIZER"},
                 "organization": {"kind": "pkcs12", "path": str(pki.signer("organization").p12),
                                  "password_env": "BENCH_P12_ORGANIZATION"}},
        "profiles": {"organization": {"appearance": {"seal_image": str(SEAL)}},
                     "invisible": {"key": "organization", "appearance": {"kind": "invisible"}}},
        "tsa": {"url": pki.tsa_url, "retries": 0},
        "trust": {"roots": [str(pki.root.cert_pem)]},
    })


def _in_process(src: Path, work: Path, settings: SigningSettings, profile: str, level: str, docs: int) -> float:
    sign_pdf(src, work / "warm.pdf", profile=profile, settings=settings, level=level)  # fonts, imports
    started = time.perf_counter()
    for i in range(docs):
        sign_pdf(src, work / f"{profile}-{level}-{i}.pdf", profile=profile, settings=settings, level=level)
    return time.perf_counter() - started


def _cli(src: Path, work: Path, pki: TestPki, level: str, docs: int) -> float:
    exe = Path(sys.executable).parent / "pyhanko"
    passfile = work / "p12.pass"
    passfile.write_text(pki.signer("organization").p12_password, encoding="utf-8")
    passfile.chmod(0o600)
    extra = ["--timestamp-url", pki.tsa_url] if level == "B-T" else []
    started = time.perf_counter()
    for i in range(docs):
        subprocess.run([str(exe), "sign", "addsig", "--field", "Sig1", "--use-pades", *extra, "pkcs12",
                        "--passfile", str(passfile), str(src), str(work / f"cli-{level}-{i}.pdf"),
                        str(pki.signer("organization").p12)], check=True, capture_output=True)
    return time.perf_counter() - started


def _pipeline_share(pki: TestPki, settings: SigningSettings, work: Path) -> dict[str, float]:
    from sohoa.pipeline.run import process_document

    scans = sorted((ROOT / "samples" / "scans").glob("*"))
    full = Settings(signing=settings, data_dir=work / "data")
    out = work / "pipeline.pdf"
    process_document(scans, work / "warm-pipeline.pdf", full)  # warm OCR workers and imports
    started = time.perf_counter()
    process_document(scans, out, full)
    process_s = time.perf_counter() - started
    started = time.perf_counter()
    sign_pdf(out, work / "p1.pdf", profile="digitizer", settings=settings)
    sign_pdf(work / "p1.pdf", work / "p2.pdf", profile="organization", settings=settings)
    sign_s = time.perf_counter() - started
    return {"pages": len(scans), "process_s": round(process_s, 3), "sign_s": round(sign_s, 3),
            "sign_share": round(sign_s / (process_s + sign_s), 4),
            "levels": f"digitizer {settings.profiles['digitizer'].level}, "
                      f"organization {settings.profiles['organization'].level}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--pipeline", action="store_true", help="also measure signing's share of the pipeline")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sign.json")
    args = parser.parse_args(argv)
    if shutil.which("pyhanko", path=str(Path(sys.executable).parent)) is None:
        print("bench_sign: needs the pyhanko CLI in the venv (pip install pyhanko-cli)", file=sys.stderr)
        return 4
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-sign-") as tmp:
        work = Path(tmp)
        server = serve_pki(work / "pki")
        try:
            pki = server.pki
            settings = _settings(pki)
            src = work / "in.pdf"
            _input_pdf(src)
            results: dict[str, object] = {"docs": args.docs, "python": platform.python_version(),
                                          "cpus": os.cpu_count(), "input_bytes": src.stat().st_size}
            for level in ("B-B", "B-T"):
                for profile in ("invisible", "organization"):
                    seconds = _in_process(src, work, settings, profile, level, args.docs)
                    results[f"inproc_{profile}_{level}_docs_per_s"] = round(args.docs / seconds, 2)
                cli_s = _cli(src, work, pki, level, args.docs)
                results[f"cli_{level}_docs_per_s"] = round(args.docs / cli_s, 2)
                results[f"ratio_inproc_invisible_vs_cli_{level}"] = round(
                    results[f"inproc_invisible_{level}_docs_per_s"] / results[f"cli_{level}_docs_per_s"], 2)
            if args.pipeline:
                results["pipeline"] = _pipeline_share(pki, settings, work)
        finally:
            server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
