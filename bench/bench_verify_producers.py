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
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.bench_verify import _source, _timed, quiet_pyhanko
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import verify
from tests.pki import TestPki, make_nss_db, serve_pki
from tests.verify.producers import cases, judges
from tests.verify.producers.base import Workspace


def _verdict(path: Path, settings: SigningSettings, offline: bool) -> str:
    try:
        report = verify(path, settings, offline=offline, lang="en")
    except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
        return f"error: {type(exc).__name__}"
    return f"{report.indication} {report.sub_indication or ''}".strip()


def _build(folder: Path, ws: Workspace) -> tuple[list[tuple[cases.Case, Path]], list[str]]:
    (folder / "corpus").mkdir()
    corpus = cases.Corpus(ws, _source(folder, 2), folder / "corpus")
    built: list[tuple[cases.Case, Path]] = []
    skipped: list[str] = []
    for case in cases.CASES:
        why = next((w for t in case.needs if (w := cases.missing_tool(t))), None)
        if why:
            skipped.append(f"{case.name}: {why}")
        else:
            built.append((case, cases.build(case, corpus)))
    return built, skipped


def _row(case: cases.Case, path: Path, settings: SigningSettings, pki: TestPki, nss: Path) -> str:
    facts = asyncio.run(judges.hanko_facts(path, pki))
    online, offline = _verdict(path, settings, False), _verdict(path, settings, True)
    want = " ".join(x for x in case.online if x)
    want_off = " ".join(x for x in case.expected_offline if x)
    bug = "xfail" if case.bug else "xfail offline" if case.offline_bug else "xfail online" if case.online_bug else ""
    return (f"| {case.name} | {case.split} | {case.producer} | {case.post} | {want} / {want_off} | "
            f"{online} / {offline} | {bug} | {'; '.join(f.short() for f in facts) or '-'} | "
            f"{judges.pdfsig_summary(path, nss)} |")


def _tools(settings: SigningSettings, pki: TestPki, nss: Path) -> list[tuple[str, Callable[[list[Path]], None]]]:
    def ours(paths: list[Path]) -> None:
        for p in paths:
            _verdict(p, settings, True)

    async def hanko(paths: list[Path]) -> None:
        for p in paths:
            await judges.hanko_facts(p, pki, fetch=False)

    def pdfsig(paths: list[Path]) -> None:
        for p in paths:
            subprocess.run(["pdfsig", "-no-ocsp", "-nssdir", f"sql:{nss}", str(p)], capture_output=True, check=False)

    return [("sohoa verify (in process, offline)", ours),
            ("pyHanko validate_pdf_signature/_timestamp (in process, no fetching)",
             lambda paths: asyncio.run(hanko(paths))),
            ("pdfsig -no-ocsp (one process per file)", pdfsig)]


def run(rounds: int) -> str:
    """Build the corpus, judge and time it; the report's Markdown."""
    quiet_pyhanko()
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-producers-") as tmp:
        server = serve_pki(Path(tmp) / "pki")
        pki = server.pki
        settings = SigningSettings.model_validate({"trust": {"roots": [str(pki.root.cert_pem)]},
                                                   "revocation": {"timeout_s": 5}})
        ws = Workspace(pki)
        built, skipped = _build(Path(tmp), ws)
        nss = make_nss_db(Path(tmp) / "nss", pki)
        rows = [_row(case, path, settings, pki, nss) for case, path in built]
        groups = {"all": [p for _c, p in built], "tuning": [p for c, p in built if c.split == "tuning"],
                  "held-out": [p for c, p in built if c.split == "held-out"]}
        speed = [(label, {g: _timed(label, lambda fn=fn, paths=paths: fn(paths), len(paths), rounds)[1]
                          for g, paths in groups.items()}) for label, fn in _tools(settings, pki, nss)]
        ws.close()
        server.stop()
    tuning = len(groups["tuning"])
    lines = ["# Verify benchmark: files of other producers", "",
             f"{len(built)} files ({tuning} tuning, {len(built) - tuning} held-out; tests/verify/producers/cases.py), "
             f"best of {rounds} rounds, load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores. "
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
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds")
    report = run(parser.parse_args().rounds)
    out = Path(__file__).resolve().parent / "results" / "verify-producers.md"
    out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
