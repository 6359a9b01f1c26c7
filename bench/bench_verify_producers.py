"""Multi-producer verification benchmark: verdicts and verifications per second on the corpus of issue 11.

Why a second verify benchmark: ``bench_verify`` times sohoa's own B-LT/B-LTA files; the world's files
(endesive, pdfsig, pdfsignerpy, @signpdf, OpenSSL CMS, pyHanko with other options, later changes and
crafted attacks: ``tests/verify/producers``) take other paths through the verifier. In the same run,
on the same files: ``sohoa verify`` in process (offline), pyHanko's validator in process (no fetching),
and ``pdfsig -no-ocsp`` one process per file. The report also gives, per case, the expected verdict,
ours online and offline, pyHanko's facts and pdfsig's verdict, and whether the case is tuning or held-out.

    .venv/bin/python -m bench.bench_verify_producers --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_verify import _source
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import verify
from tests.pki import make_nss_db, serve_pki
from tests.verify.producers import cases, judges
from tests.verify.producers.base import Workspace


def _rate(fn: Callable[[], None], count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def _verdict(path: Path, settings: SigningSettings, offline: bool) -> str:
    try:
        report = verify(path, settings, offline=offline, lang="en")
    except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
        return f"error: {type(exc).__name__}"
    return f"{report.indication} {report.sub_indication or ''}".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds")
    args = parser.parse_args()
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = serve_pki(folder / "pki")
        pki = server.pki
        settings = SigningSettings.model_validate({"trust": {"roots": [str(pki.root.cert_pem)]},
                                                   "revocation": {"timeout_s": 5}})
        ws = Workspace(pki)
        (folder / "corpus").mkdir()
        corpus = cases.Corpus(ws, _source(folder, 2), folder / "corpus")
        built: list[tuple[cases.Case, Path]] = []
        skipped: list[str] = []
        for case in cases.CASES:
            why = next((w for t in case.needs if (w := cases.missing_tool(t))), None)
            if why:
                skipped.append(f"{case.name}: {why}")
                continue
            built.append((case, cases.build(case, corpus)))
        nss = make_nss_db(folder / "nss", pki)
        rows = []
        for case, path in built:
            facts = asyncio.run(judges.hanko_facts(path, pki))
            online, offline = _verdict(path, settings, False), _verdict(path, settings, True)
            want = " ".join(x for x in case.online if x)
            want_off = " ".join(x for x in case.expected_offline if x)
            bug = "xfail" if case.bug else ("xfail offline" if case.offline_bug else "")
            rows.append(f"| {case.name} | {case.split} | {case.producer} | {case.post} | {want} / {want_off} | "
                        f"{online} / {offline} | {bug} | {'; '.join(f.short() for f in facts) or '-'} | "
                        f"{judges.pdfsig_summary(path, nss)} |")
        files = [p for _c, p in built]
        groups = {"all": files, "tuning": [p for c, p in built if c.split == "tuning"],
                  "held-out": [p for c, p in built if c.split == "held-out"]}

        def ours(paths: list[Path]) -> Callable[[], None]:
            def run() -> None:
                for p in paths:
                    _verdict(p, settings, True)
            return run

        def hanko(paths: list[Path]) -> Callable[[], None]:
            async def all_files() -> None:
                for p in paths:
                    await judges.hanko_facts(p, pki, fetch=False)
            return lambda: asyncio.run(all_files())

        def pdfsig(paths: list[Path]) -> Callable[[], None]:
            def run() -> None:
                for p in paths:
                    subprocess.run(["pdfsig", "-no-ocsp", "-nssdir", f"sql:{nss}", str(p)], capture_output=True,
                                   check=False)
            return run

        speed = []
        for label, make in (("sohoa verify (in process, offline)", ours),
                            ("pyHanko validate_pdf_signature/_timestamp (in process, no fetching)", hanko),
                            ("pdfsig -no-ocsp (one process per file)", pdfsig)):
            speed.append((label, {g: _rate(make(paths), len(paths), args.rounds) for g, paths in groups.items()}))
        ws.close()
        server.stop()
    tuning = sum(1 for c, _p in built if c.split == "tuning")
    lines = ["# Verify benchmark: files of other producers", "",
             f"{len(files)} files ({tuning} tuning, {len(files) - tuning} held-out; tests/verify/producers/cases.py), "
             f"best of {args.rounds} rounds, load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores. "
             "Verifications per second, all tools in the same run on the same files.", "",
             "| tool | all | tuning | held-out |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {r['all']:.1f} | {r['tuning']:.1f} | {r['held-out']:.1f} |" for label, r in speed]
    lines += ["", "## Verdicts", "",
              "Expected and ours are `online / offline` (online: the test PKI's OCSP/CRL/TSA on 127.0.0.1, its "
              "root the only trust anchor). pyHanko: intact/valid/modification level per signature (fetching "
              "allowed). pdfsig: signature + certificate verdict per signature (OCSP on).", "",
              "| case | split | signer | after signing | expected | ours | known bug | pyHanko | pdfsig |",
              "|---|---|---|---|---|---|---|---|---|", *rows]
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped)]
    report = "\n".join(lines) + "\n"
    out = Path(__file__).resolve().parent / "results" / "verify-producers.md"
    out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
