"""Full-text search over OCR text: SQLite FTS5 or PostgreSQL tsvector + GIN, same folded terms.

Why both index the *folded* text (``records.text.fold``): it makes "quang tri" find "Quảng Trị" and
"dong ha" find "Đông Hà" identically on both databases. PostgreSQL additionally runs ``unaccent`` over
the folded text and the query (a safety net for letters our folding does not know). Snippets are cut
from the original accented page text in Python, so they look the same whichever database answered.
Results are one hit per document (its best page), best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from sohoa.records.text import fold, snippet, terms
from sohoa.records.types import SearchHit


@dataclass(frozen=True)
class Filters:
    code_prefix: str | None = None
    unit: str | None = None
    kind: str | None = None
    date_from: date | None = None  # dossier received date, inclusive
    date_to: date | None = None


def index_pages(session: Session, pages: Sequence[tuple[int, str]]) -> None:
    """Add (page id, original text) pairs to the full-text index, in the caller's transaction."""
    if not pages:
        return
    rows = [{"id": pid, "folded": fold(body)} for pid, body in pages]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("UPDATE document_pages SET tsv = to_tsvector('simple'::regconfig, unaccent(:folded)) WHERE id = :id"),
            rows,
        )
    else:
        session.execute(text("INSERT INTO page_fts (rowid, folded) VALUES (:id, :folded)"), rows)


def unindex_document(session: Session, document_id: int) -> None:
    if session.get_bind().dialect.name != "postgresql":
        session.execute(
            text("DELETE FROM page_fts WHERE rowid IN (SELECT id FROM document_pages WHERE document_id = :d)"),
            {"d": document_id},
        )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_sql(filters: Filters, params: dict[str, Any]) -> str:
    clauses: list[str] = []
    if filters.code_prefix:
        clauses.append("s.code LIKE :prefix ESCAPE '\\'")
        params["prefix"] = _escape_like(filters.code_prefix.strip()) + "%"
    if filters.unit:
        clauses.append("s.unit_code = :unit")
        params["unit"] = filters.unit.strip()
    if filters.kind:
        clauses.append("d.kind = :kind")
        params["kind"] = filters.kind
    if filters.date_from:
        clauses.append("s.received_date >= :date_from")
        params["date_from"] = filters.date_from
    if filters.date_to:
        clauses.append("s.received_date <= :date_to")
        params["date_to"] = filters.date_to
    return "".join(f" AND {c}" for c in clauses)


def search(session: Session, query: str, filters: Filters, *, limit: int, snippet_chars: int) -> list[SearchHit]:
    words = terms(query)
    if not words:
        return []
    params: dict[str, Any] = {"n": limit * 4}
    where = _filter_sql(filters, params)
    joins = "JOIN documents d ON d.id = p.document_id JOIN dossiers s ON s.id = d.dossier_id"
    cols = "p.page_no, p.text, d.id AS doc_id, d.sha256, d.kind, d.title, s.code"
    if session.get_bind().dialect.name == "postgresql":
        params["q"] = " & ".join(words)
        sql = (
            f"SELECT {cols}, ts_rank_cd(p.tsv, q.query) AS score "
            f"FROM to_tsquery('simple'::regconfig, unaccent(:q)) AS q(query), document_pages p {joins} "
            f"WHERE p.tsv @@ q.query{where} ORDER BY score DESC, d.id LIMIT :n"
        )
    else:
        params["q"] = " ".join(f'"{w}"' for w in words)
        sql = (
            f"SELECT {cols}, -bm25(page_fts) AS score "
            f"FROM page_fts JOIN document_pages p ON p.id = page_fts.rowid {joins} "
            f"WHERE page_fts MATCH :q{where} ORDER BY score DESC, d.id LIMIT :n"
        )
    stmt = text(sql)
    for name in ("date_from", "date_to"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=Date))
    hits: list[SearchHit] = []
    seen: set[int] = set()
    for row in session.execute(stmt, params):
        if row.doc_id in seen:
            continue
        seen.add(row.doc_id)
        hits.append(SearchHit(
            dossier_code=row.code, document_sha256=row.sha256, kind=row.kind, title=row.title,
            page_no=row.page_no, score=float(row.score), snippet=snippet(row.text, words, snippet_chars),
        ))
        if len(hits) >= limit:
            break
    return hits
