"""Records benchmark: attach throughput (documents/s) and search latency (p50/p95), SQLite and PostgreSQL.

Why through the public ``Records.attach``: the number a center cares about includes hashing, the
fsync'd store write, the transaction with its audit event and the full-text indexing. Documents carry
realistic OCR text (the corpus's administrative sentences, names, numbers, 1-3 pages). Without
``--pg-url`` a throw-away PostgreSQL cluster is started like the tests do (tests/services.py).

    .venv/bin/python -m bench.bench_records --docs 100000 --out bench/results/records.md
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.corpus import SENTENCES
from bench.postgres import postgres_url
from sohoa.config.records import RecordsSettings
from sohoa.records import AttachMeta, Records

NAMES = ["Nguyễn Văn Hưởng", "Trần Thị Hồng Nhung", "Lê Quang Đạo", "Phạm Minh Châu", "Hoàng Thị Lụa",
         "Võ Đức Thắng", "Đặng Thu Hà", "Bùi Xuân Trường"]
PLACES = ["Đông Hà", "Quảng Trị", "Hải Lăng", "Triệu Phong", "Gio Linh", "Vĩnh Linh", "Cam Lộ", "Đakrông"]
QUERIES = ["quang tri", "giấy phép xây dựng", "dong ha", "nguyen van huong", "khai sinh", "quyen su dung dat",
           "hai lang", "uy ban nhan dan", "ho ca the", "tinh trang hon nhan", "đakrông", "trich luc ban do"]
UNITS = ["000.00.31.H50", "000.00.32.H50", "000.00.33.H50", "H50.22"]


def page_text(rng: random.Random) -> str:
    lines = [rng.choice(SENTENCES) for _ in range(rng.randint(12, 25))]
    lines.insert(rng.randint(0, len(lines)), f"Ông/bà {rng.choice(NAMES)}, trú tại {rng.choice(PLACES)}")
    lines.append(f"Số: {rng.randint(1, 9999)}/QĐ-UBND ngày {rng.randint(1, 28)}/{rng.randint(1, 12)}/2024")
    return "\n".join(lines)


def run_backend(label: str, url: str, docs: int, work: Path, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    settings = RecordsSettings(database_url=url, store_path=work / f"store-{label}")
    src = work / "src.pdf"
    with Records.open(settings, work) as rec:
        start = time.perf_counter()
        for i in range(docs):
            src.write_bytes(b"%PDF-1.7\n% " + f"{label}-{seed}-{i}".encode() + b"\n%%EOF\n")
            # four documents per dossier; the 4-digit daily sequence wraps after 9,999 dossiers
            code = f"{rng.choice(UNITS)}-24{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{(i // 4) % 9999 + 1:04d}"
            pages = [page_text(rng) for _ in range(rng.randint(1, 3))]
            rec.attach(src, dossier_code=code, kind=rng.choice(["component", "component", "result", "copy"]),
                       meta=AttachMeta(title=pages[0].splitlines()[0][:80], page_texts=pages,
                                       page_confidences=[rng.uniform(40, 95) for _ in pages]))
        attach_s = time.perf_counter() - start
        latencies: list[float] = []
        hits = 0
        for r in range(5):
            for q in QUERIES:
                t0 = time.perf_counter()
                found = rec.search(q, limit=20, code_prefix=UNITS[r % len(UNITS)] if r >= 3 else None)
                latencies.append(time.perf_counter() - t0)
                hits += len(found)
        audit_t0 = time.perf_counter()
        assert rec.verify_audit().ok
        audit_s = time.perf_counter() - audit_t0
    latencies.sort()
    return {
        "docs": docs, "attach_per_s": docs / attach_s, "search_p50_ms": statistics.median(latencies) * 1000,
        "search_p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000, "queries": len(latencies),
        "mean_hits": hits / len(latencies), "audit_verify_s": audit_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--pg-url", default=None, help="existing PostgreSQL database (default: start one)")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only (run both at once on 2 cores)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_sqlite:
            results["sqlite"] = run_backend("sqlite", f"sqlite:///{work / 'bench.db'}", args.docs, work, args.seed)
            print("sqlite", results["sqlite"], flush=True)
        if not args.skip_pg:
            with postgres_url(args.pg_url, "bench") as url:
                results["postgresql"] = run_backend("postgresql", url, args.docs, work, args.seed)
                print("postgresql", results["postgresql"], flush=True)
    if args.out:
        rows = ["| backend | docs | attach docs/s | search p50 ms | search p95 ms | mean hits | audit verify s |",
                "|---|---|---|---|---|---|---|"]
        for name, r in results.items():
            rows.append(f"| {name} | {r['docs']:.0f} | {r['attach_per_s']:.1f} | {r['search_p50_ms']:.1f} | "
                        f"{r['search_p95_ms']:.1f} | {r['mean_hits']:.1f} | {r['audit_verify_s']:.2f} |")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
