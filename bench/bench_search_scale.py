"""Search at ten years' scale: bulk-load synthetic records, then time the clerk's query mix per back end.

    .venv/bin/python -m bench.bench_search_scale --pg-docs 1000000 --sqlite-docs 200000 \
        --out bench/results/search-scale.md

Rows come from ``bench.scale_corpus`` (COPY on PostgreSQL, executemany on SQLite; the search index is
built the way migration 0006 defines it). Each query goes through ``Records.search_result`` (count,
bounded ranking, best page, snippet), limit 20, the same queries on both back ends. Query kinds: common
words (tens of thousands of matching documents), rare words (Zipf tail of the vocabulary), two-word
phrases, a dossier-code prefix (no text), a date range with text. PostgreSQL is a throw-away cluster
(tests/services.py: fsync off) unless ``--pg-url``. ``--alternatives`` also times, on PostgreSQL, the
unbounded ranking (rank every match, then cut) on the same index, for comparison.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.postgres import postgres_url
from bench.scale_corpus import DAYS, START, UNITS, Generator, rare_words
from sohoa.common.folding import fold
from sohoa.config.records import RecordsSettings
from sohoa.records import Records, search

COMMON = ["hồ sơ", "quyet dinh", "ủy ban nhân dân", "giay", "quảng trị", "thu tuc hanh chinh", "đông hà", "ket qua"]
PHRASES = ["khai sinh", "ket hon", "giấy phép", "dong luong", "nguyễn văn", "trieu phong", "huong hoa", "văn hưởng"]
T0 = "2024-01-01T00:00:00+00:00"


def _copy_text(values: list[Any]) -> str:
    out = []
    for v in values:
        if v is None:
            out.append("\\N")
        else:
            s = str(v)
            out.append(s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))
    return "\t".join(out) + "\n"


def _doc_row(doc: Any, received: Any) -> list[Any]:
    sha = f"{doc.id:064x}"
    return [doc.id, doc.dossier_id, doc.seq, doc.kind, doc.title, T0, sha, 1000, len(doc.pages), f"bench/{sha}.pdf",
            "[]", "[]", "[]", "{}", 1, doc.supersedes_id, T0, received.isoformat()]


DOSSIER_COPY = ("COPY dossiers (id, code, unit_code, received_date, status, doc_count, created_at, updated_at) "
                "FROM STDIN")
PAGE_COPY = "COPY document_pages (document_id, page_no, text, confidence) FROM STDIN"
# what attach keeps (records.search.index_document), computed once after the bulk load
DAYS_FILL = ("INSERT INTO document_days (day, lo_id, hi_id) SELECT received_date, min(id), max(id) FROM documents "
             "GROUP BY received_date")
DOC_COLS = ("id, dossier_id, seq, kind, title, digitized_at, sha256, size, page_count, storage_key, source_files, "
            "low_confidence_pages, signatures, extra, version, supersedes_id, created_at, received_date")


def build_rum(conn: Any) -> None:
    """The RUM index as migration 0009 defines it (the extension must be installable)."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS rum")
    conn.execute("SET maintenance_work_mem = '2GB'")
    conn.execute(f"CREATE INDEX {search.RUM_INDEX} ON documents USING rum (tsv rum_tsvector_addon_ops, id) "
                 "WITH (attach = 'id', to = 'tsv')")


def load_pg(url: str, docs: int, seed: int, *, rum: bool = True) -> float:
    """COPY dossiers, documents (tsv from a staging table) and pages; the GIN (and RUM) index built after."""
    import psycopg

    from sohoa.database.engine import make_engine, upgrade

    engine = make_engine(url, RecordsSettings())
    upgrade(engine, "bench")
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP INDEX ix_documents_tsv")
        conn.execute(f"DROP INDEX IF EXISTS {search.RUM_INDEX}")  # built after the rows, as GIN is (and timed)
        conn.execute("ALTER TABLE documents DROP CONSTRAINT uq_documents_supersedes")
        conn.execute("CREATE UNLOGGED TABLE bench_stage (LIKE documents)")
        conn.execute("ALTER TABLE bench_stage ADD COLUMN folded text")
        gen = Generator(docs, seed)
        stream = gen.stream()
        done = False
        loaded = 0
        while not done:
            batch_docs = 0
            dossier_buf, stage_buf, pages_buf = io.StringIO(), io.StringIO(), io.StringIO()
            for dossier, dl in stream:
                dossier_buf.write(_copy_text([dossier.id, dossier.code, dossier.unit, dossier.received, "received",
                                              len(dl), T0, T0]))
                for d in dl:
                    stage_buf.write(_copy_text(_doc_row(d, dossier.received) + [fold("\n".join(d.pages))]))
                    for n, body in enumerate(d.pages, 1):
                        pages_buf.write(_copy_text([d.id, n, body, 80.0]))
                batch_docs += len(dl)
                if batch_docs >= 20_000:
                    break
            else:
                done = True
            with conn.cursor() as cur:
                for sql, buf in ((DOSSIER_COPY, dossier_buf), (f"COPY bench_stage ({DOC_COLS}, folded) FROM STDIN",
                                                               stage_buf)):
                    with cur.copy(sql) as copy:
                        copy.write(buf.getvalue())
                cur.execute(f"INSERT INTO documents ({DOC_COLS}, tsv) SELECT {DOC_COLS}, "
                            "to_tsvector('simple'::regconfig, unaccent(folded)) FROM bench_stage")
                cur.execute("TRUNCATE bench_stage")
                with cur.copy(PAGE_COPY) as copy:
                    copy.write(pages_buf.getvalue())
            loaded += batch_docs
            print(f"  pg loaded {loaded} documents, {time.perf_counter() - start:.0f} s", flush=True)
        conn.execute("DROP TABLE bench_stage")
        conn.execute("ALTER TABLE documents ADD CONSTRAINT uq_documents_supersedes UNIQUE (supersedes_id)")
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute("CREATE INDEX ix_documents_tsv ON documents USING gin (tsv)")
        conn.execute(DAYS_FILL)
        if rum:
            t0 = time.perf_counter()
            build_rum(conn)
            print(f"  pg RUM index built in {time.perf_counter() - t0:.0f} s", flush=True)
        for table in ("dossiers", "documents", "document_pages"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def load_sqlite(path: Path, docs: int, seed: int) -> float:
    """executemany in transactions of about 20,000 documents, FTS5 rows with the folded text."""
    engine_url = f"sqlite:///{path}"
    with Records.open(RecordsSettings(database_url=engine_url, store_path=path.parent / "store"), path.parent):
        pass
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    gen = Generator(docs, seed)
    dossiers: list[tuple[Any, ...]] = []
    rows: list[list[Any]] = []
    pages: list[tuple[Any, ...]] = []
    fts: list[tuple[int, str]] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO dossiers (id, code, unit_code, received_date, status, doc_count, created_at, "
                         "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", dossiers)
        conn.executemany(f"INSERT INTO documents ({DOC_COLS}) VALUES ({', '.join('?' * 18)})", rows)
        conn.executemany("INSERT INTO document_pages (document_id, page_no, text, confidence) VALUES (?, ?, ?, ?)",
                         pages)
        conn.executemany("INSERT INTO document_fts (rowid, folded) VALUES (?, ?)", fts)
        conn.execute("COMMIT")
        for buf in (dossiers, rows, pages, fts):
            buf.clear()

    for dossier, dl in gen.stream():
        dossiers.append((dossier.id, dossier.code, dossier.unit, dossier.received.isoformat(), "received", len(dl),
                         T0, T0))
        for d in dl:
            rows.append(_doc_row(d, dossier.received))
            fts.append((d.id, fold("\n".join(d.pages))))
            pages.extend((d.id, n, body, 80.0) for n, body in enumerate(d.pages, 1))
        if len(rows) >= 20_000:
            flush()
            print(f"  sqlite loaded {dossier.id} dossiers, {time.perf_counter() - start:.0f} s", flush=True)
    flush()
    conn.execute(DAYS_FILL)
    conn.execute("INSERT INTO document_fts (document_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


def query_mix(seed: int, rounds: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, search_result keyword arguments); the same list for every back end."""
    rng = random.Random(seed)
    vocab = Generator(1).vocab
    rare = rare_words()
    mix: list[tuple[str, dict[str, Any]]] = []
    for r in range(rounds):
        mix.append(("common word", {"query": COMMON[r % len(COMMON)]}))
        word = rng.choice(rare)  # Zipf tail: none to a hundred documents at 1M
        mix.append(("rare word", {"query": fold(word) if r % 2 else word}))
        mix.append(("two-word phrase", {"query": PHRASES[r % len(PHRASES)] if r % 2 else vocab[rng.randint(50, 500)]}))
        day = START + timedelta(days=rng.randint(0, DAYS - 1))
        mix.append(("code prefix", {"query": "", "code_prefix": f"{rng.choice(UNITS)}-{day:%y%m}"}))
        lo = START + timedelta(days=rng.randint(0, DAYS - 60))
        mix.append(("date range + text", {"query": COMMON[(r + 3) % len(COMMON)] if r % 2 else PHRASES[r % 8],
                                          "date_from": lo, "date_to": lo + timedelta(days=rng.choice([7, 30, 365]))}))
    return mix


def run_queries(rec: Records, mix: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    by_kind: dict[str, list[float]] = {}
    totals: dict[str, list[int]] = {}
    for _kind, kwargs in mix[:5]:  # warm the caches once per kind
        rec.search_result(**kwargs, limit=20)
    for kind, kwargs in mix:
        t0 = time.perf_counter()
        result = rec.search_result(**kwargs, limit=20)
        by_kind.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
        totals.setdefault(kind, []).append(result.total + (1 if result.capped else 0))
    return {k: summary(v) | {"median_matches": statistics.median(totals[k])} for k, v in by_kind.items()}


PLANS = {"auto": None, "rum": True, "gin": False}  # search.candidates(rum=...)


def run_plans(rec: Records, mix: list[tuple[str, dict[str, Any]]],
              plans: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """PostgreSQL: each query with each plan in turn (the order alternating), on the same data and load.

    "gin": the RUM index is dropped inside the query's transaction (rolled back after), so the planner
    sees what a center without the extension has; "rum": the ordered RUM scan for every word query;
    "auto": what search does with the index there (RUM or the walk, by estimate). Same code path
    (``search.search`` on one session) for both; the time includes the catalog lookup and snippets.
    """
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    times: dict[str, dict[str, list[float]]] = {p: {} for p in plans}
    totals: dict[str, dict[str, list[int]]] = {p: {} for p in plans}

    def one(plan: str, kwargs: dict[str, Any]) -> tuple[float, int]:
        with rec.engine.connect() as conn, conn.begin() as trans:
            if plan == "gin":
                conn.execute(text(f"DROP INDEX IF EXISTS {search.RUM_INDEX}"))
            filters = search.Filters(**{k: v for k, v in kwargs.items() if k != "query"})
            with Session(bind=conn) as session:
                t0 = time.perf_counter()
                result = search.search(session, kwargs["query"], filters, limit=20,
                                       snippet_chars=rec.settings.snippet_chars, rum=PLANS[plan])
                ms = (time.perf_counter() - t0) * 1000
            trans.rollback()
        return ms, result.total + (1 if result.capped else 0)

    for _kind, kwargs in mix[:5]:  # warm the caches once per kind
        for plan in plans:
            one(plan, kwargs)
    for n, (kind, kwargs) in enumerate(mix):
        for plan in plans[n % len(plans):] + plans[:n % len(plans)]:  # each plan first in turn
            ms, total = one(plan, kwargs)
            times[plan].setdefault(kind, []).append(ms)
            totals[plan].setdefault(kind, []).append(total)
    for kind in times[plans[0]]:
        if len({tuple(totals[p][kind]) for p in plans}) > 1:
            raise AssertionError(f"the plans disagree on the match counts of {kind}")
    return {p: {k: summary(v) | {"median_matches": statistics.median(totals[p][k])} for k, v in times[p].items()}
            for p in plans}


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, max(0, round(p * len(ms)) - 1))]

    return {"n": len(ms), "p50": statistics.median(ms), "p95": pct(0.95), "p99": pct(0.99)}


def unbounded(rec: Records, mix: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """The pre-0006 way on the same index: rank every match, then cut the top 20 (text queries only)."""
    from sqlalchemy import text

    from sohoa.records.text import terms

    out: dict[str, list[float]] = {}
    with rec.engine.connect() as conn:
        for kind, kwargs in mix:
            words = terms(kwargs["query"])
            if not words or len(kwargs) > 1:
                continue
            t0 = time.perf_counter()
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT d.id, ts_rank_cd(d.tsv, q) AS score FROM documents d, "
                                  "to_tsquery('simple'::regconfig, unaccent(:q)) q WHERE d.tsv @@ q "
                                  "ORDER BY score DESC LIMIT 20"), {"q": " & ".join(words)}).all()
            else:
                conn.execute(text("SELECT rowid, bm25(document_fts) FROM document_fts WHERE document_fts MATCH :q "
                                  "ORDER BY bm25(document_fts) LIMIT 20"),
                             {"q": " ".join(f'"{w}"' for w in words)}).all()
            out.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
    return {k: summary(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-docs", type=int, default=1_000_000)
    parser.add_argument("--sqlite-docs", type=int, default=200_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--rounds", type=int, default=40, help="queries per kind")
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--plans", default="auto,rum,gin", help="PostgreSQL plans to compare, interleaved")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the SQLite database here (reused if present)")
    parser.add_argument("--reuse-pg", action="store_true", help="--pg-url already holds the loaded records")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    mix = query_mix(args.seed, args.rounds)
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sohoa-scale-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not args.skip_sqlite:
            path = work / "scale.db"
            load_s = load_sqlite(path, args.sqlite_docs, args.seed) if not path.exists() else 0.0
            settings = RecordsSettings(database_url=f"sqlite:///{path}", store_path=work / "store")
            with Records.open(settings, work) as rec:
                load = os.getloadavg()
                results = run_queries(rec, mix)
                report.append(section("sqlite", args.sqlite_docs, load_s, rec, results, (load, os.getloadavg())))
                if args.alternatives:
                    report.append(table("sqlite, unbounded ranking (rank all matches, then cut)", unbounded(rec, mix)))
            print("\n".join(report), flush=True)
        if not args.skip_pg:
            with postgres_url(args.pg_url, "scale") as url:
                load_s = 0.0 if args.reuse_pg else load_pg(url, args.pg_docs, args.seed, rum="gin" != args.plans)
                with Records.open(RecordsSettings(database_url=url, store_path=work / "store"), work) as rec:
                    load = os.getloadavg()
                    by_plan = run_plans(rec, mix, args.plans.split(","))
                    for plan, results in by_plan.items():
                        report.append(section(f"postgresql, {plan} plan", args.pg_docs, load_s, rec, results,
                                              (load, os.getloadavg())))
                    if args.alternatives:
                        report.append(table("postgresql, unbounded ranking (rank all matches, then cut)",
                                            unbounded(rec, mix)))
                print("\n".join(report[-2:]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report) + "\n", encoding="utf-8")


def section(backend: str, _docs: int, load_s: float, rec: Records, results: dict[str, dict[str, float]],
            loads: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    with rec.engine.connect() as conn:
        from sqlalchemy import text

        pages = conn.execute(text("SELECT count(*) FROM document_pages")).scalar_one()
        count = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
    loaded = f"load {load_s:.0f} s" if load_s else "loaded by an earlier run"
    (before, after) = loads
    head = (f"{backend}: {count:,} documents, {pages:,} pages, {loaded}; load average "
            f"{before[0]:.1f} / {before[1]:.1f} before, {after[0]:.1f} / {after[1]:.1f} after (1 / 5 min)")
    return table(head, results)


def table(title: str, results: dict[str, dict[str, float]]) -> str:
    rows = [f"### {title}", "", "| query kind | n | p50 ms | p95 ms | p99 ms | median matches |",
            "|---|---|---|---|---|---|"]
    for kind, r in results.items():
        matches = r.get("median_matches")
        rows.append(f"| {kind} | {r['n']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                    f"{'' if matches is None else f'{matches:.0f}'} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
