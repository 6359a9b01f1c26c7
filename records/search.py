"""Full-text search over OCR text: one index row per document, newest candidates first, bounded ranking.

Why this shape (measurements in docs/search.md): ranking every match before cutting the top 20 made a
common word cost as much as its number of matching pages (1.2 s at 100k documents on PostgreSQL).
Now a query walks the matching documents newest first, in the order an index gives (FTS5 rowid order
on SQLite; the primary key, or a GIN bitmap for rare words, on PostgreSQL), and stops after
``COUNT_CAP + 1`` rows: that many gives the match count ("more than 1000" beyond it), and the newest
``CANDIDATES`` of them are ranked (bm25 / ts_rank_cd) — so the better match comes first among recent
documents, and old documents are reached with a date range or a code prefix.

Both databases index the *folded* text (``common.folding``) so "quang tri" finds "Quảng Trị" and
"dong ha" finds "Đông Hà" identically; PostgreSQL also runs ``unaccent`` (a safety net for letters our
folding does not know). The best page of a hit and its snippet are chosen in Python from the original
accented page text, so they look the same whichever database answered. Superseded documents (another
document names them in ``supersedes_id``) are left out unless asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from sohoa.common.folding import search_key
from sohoa.records.text import fold, snippet, terms
from sohoa.records.types import SearchHit, SearchResult

CANDIDATES = 200  # newest matching documents that are ranked
COUNT_CAP = 1000  # matches counted exactly up to this; beyond it, "more than COUNT_CAP"
_PG_TSV = "to_tsvector('simple'::regconfig, unaccent(:folded))"
RUM_INDEX = "ix_documents_tsv_rum"  # migration 0009, when the rum extension is there
_RUM_COST, _WALK_COST = 1.0, 5.0  # per match gathered by RUM, per document walked (measured, _rum_pays)
_NEWEST = 2_147_483_647  # the top of the id column (integer): ``id <=| _NEWEST`` orders newest first


@dataclass(frozen=True)
class Filters:
    code_prefix: str | None = None
    unit: str | None = None
    kind: str | None = None
    date_from: date | None = None  # dossier received date, inclusive
    date_to: date | None = None
    include_superseded: bool = False
    # a result's data (issue 16), compared without marks, case or spaces (common.folding.search_key)
    number: str | None = None  # exact number and symbol, e.g. 123/QĐ-UBND
    number_prefix: str | None = None  # e.g. "123/" or "123/qd"
    agency: str | None = None  # exact issuing agency
    doc_type: str | None = None  # exact document type, e.g. "giấy phép"
    issued_from: date | None = None  # the document's issue date, inclusive
    issued_to: date | None = None

    def any(self) -> bool:
        return bool(self.code_prefix or self.unit or self.kind or self.date_from or self.date_to or self.number
                    or self.number_prefix or self.agency or self.doc_type or self.issued_from or self.issued_to)


def index_document(session: Session, document_id: int, page_texts: list[str], received: date | None) -> None:
    """Index a new document's pages (original text) and widen its reception day's id bounds, in the caller's
    transaction (so a rolled-back attach leaves neither behind)."""
    row = {"id": document_id, "folded": fold("\n".join(page_texts))}
    pg = _is_pg(session)
    if pg:
        session.execute(text(f"UPDATE documents SET tsv = {_PG_TSV} WHERE id = :id"), row)
    else:
        session.execute(text("INSERT INTO document_fts (rowid, folded) VALUES (:id, :folded)"), row)
    if received is not None:
        low, high = ("least", "greatest") if pg else ("min", "max")
        session.execute(_typed(
            "INSERT INTO document_days (day, lo_id, hi_id) VALUES (:day, :id, :id) ON CONFLICT (day) DO UPDATE SET "
            f"lo_id = {low}(document_days.lo_id, excluded.lo_id), hi_id = {high}(document_days.hi_id, excluded.hi_id)",
            {"day": received}), {"day": received, "id": document_id})


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_sql(filters: Filters, params: dict[str, Any], *, pg: bool) -> str:
    clauses: list[str] = []
    if filters.code_prefix and filters.code_prefix.strip():
        prefix = filters.code_prefix.strip().upper()
        if pg:  # LIKE with the varchar_pattern_ops index (any collation)
            clauses.append("s.code LIKE :prefix ESCAPE '\\'")
            params["prefix"] = _escape_like(prefix) + "%"
        else:  # SQLite's LIKE is case-insensitive and skips the index; a binary range uses it
            clauses.append("s.code >= :prefix AND s.code < :prefix_end")
            params["prefix"], params["prefix_end"] = prefix, prefix + "\U0010ffff"
    if filters.unit:
        clauses.append("s.unit_code = :unit")
        params["unit"] = filters.unit.strip()
    if filters.kind:
        clauses.append("d.kind = :kind")
        params["kind"] = filters.kind
    clauses.extend(_result_data_clauses(filters, params, pg=pg))
    # The id range (``_id_range``) is what the walk uses; written as an expression, the date no longer
    # tempts the planner into the (received_date, id) index, whose rows it would then sort (it
    # multiplies the two ranges' selectivities as if independent: 80 rows estimated, 7,600 found).
    clauses.extend(_date_clauses(filters, params, "d.received_date + 0" if pg else "+d.received_date"))
    if not filters.include_superseded:
        clauses.append("NOT EXISTS (SELECT 1 FROM documents n WHERE n.supersedes_id = d.id)")
    return "".join(f" AND {c}" for c in clauses)


def _result_data_clauses(filters: Filters, params: dict[str, Any], *, pg: bool) -> list[str]:
    """Number (exact or prefix), agency, type and issue-date conditions on the folded keys."""
    clauses: list[str] = []
    for name, column in (("number", "number_key"), ("agency", "agency_key"), ("doc_type", "doc_type")):
        key = search_key(getattr(filters, name))
        if key:
            clauses.append(f"d.{column} = :{name}_key")
            params[f"{name}_key"] = key
    prefix = search_key(filters.number_prefix)
    if prefix:
        if pg:  # the varchar_pattern_ops index of migration 0007
            clauses.append("d.number_key LIKE :number_prefix ESCAPE '\\'")
            params["number_prefix"] = _escape_like(prefix) + "%"
        else:
            clauses.append("d.number_key >= :number_prefix AND d.number_key < :number_prefix_end")
            params["number_prefix"], params["number_prefix_end"] = prefix, prefix + "\U0010ffff"
    if filters.issued_from:
        clauses.append("d.issue_date >= :issued_from")
        params["issued_from"] = filters.issued_from
    if filters.issued_to:
        clauses.append("d.issue_date <= :issued_to")
        params["issued_to"] = filters.issued_to
    return clauses


def _date_clauses(filters: Filters, params: dict[str, Any], column: str = "d.received_date") -> list[str]:
    """The received-date conditions on ``documents d`` (its copy of the dossier's date)."""
    clauses: list[str] = []
    if filters.date_from:
        clauses.append(f"{column} >= :date_from")
        params["date_from"] = filters.date_from
    if filters.date_to:
        clauses.append(f"{column} <= :date_to")
        params["date_to"] = filters.date_to
    return clauses


def _typed(sql: str, params: dict[str, Any]) -> Any:
    stmt = text(sql)
    for name in ("date_from", "date_to", "issued_from", "issued_to", "day"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=Date))
    return stmt


def _id_range(session: Session, filters: Filters, params: dict[str, Any]) -> str | None:
    """`` AND <id> BETWEEN lo AND hi`` for a date range (None: no document in it), else "".

    Why: documents are attached about when their dossier is received, so a date range is a narrow band
    of ids; bounding the newest-first walk to it means an old range does not first step over every
    newer match. ``document_days`` (migration 0009) holds each reception day's lowest and highest id,
    kept at attach: a year is 365 rows to read, not the 100,000 index entries of its documents
    (17-56 ms at a million). The bounds may be wider than the range's ids, never narrower; the date
    itself is still checked on every row.
    """
    if not (filters.date_from or filters.date_to):
        return ""
    bounds: dict[str, Any] = {}
    where = " AND ".join(_date_clauses(filters, bounds, "day"))
    sql = f"SELECT min(lo_id) AS lo, max(hi_id) AS hi FROM document_days WHERE {where}"
    row = session.execute(_typed(sql, bounds), bounds).one()
    if row.lo is None:
        return None
    params["lo"], params["hi"] = row.lo, row.hi
    return " AND d.id BETWEEN :lo AND :hi"


_RUM_VALID = f"EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('{RUM_INDEX}') AND indisvalid)"


def has_rum(session: Session) -> bool:
    """The RUM index of migration 0009 is there and valid (the extension was available when it ran).

    Asked on every search (a catalog lookup, well under a millisecond) so that a DBA adding or
    dropping the index is followed without a restart.
    """
    return bool(session.execute(text(f"SELECT {_RUM_VALID}")).scalar())


def _pg_prelude(session: Session) -> tuple[bool, float]:
    """(RUM index valid, estimated documents), and no parallel workers for this transaction: one round trip.

    Why serial: for a walk that stops at ``COUNT_CAP + 1`` rows, starting workers costs more than they
    save on a busy server (measured at 1M documents, load 8: 44-58 ms serial, 91-97 ms parallel).
    """
    row = session.execute(text(
        f"SELECT set_config('max_parallel_workers_per_gather', '0', true), {_RUM_VALID} AS rum, "
        "(SELECT reltuples FROM pg_class WHERE oid = 'documents'::regclass) AS total")).one()
    return bool(row.rum), float(row.total or 0)


def _rum_pays(session: Session, params: dict[str, Any], documents: float) -> bool:
    """Whether the RUM scan beats the newest-first primary-key walk for these words (and id range).

    Why a choice (measured at 1M documents, docs/search.md): the RUM scan gathers and sorts every
    match of the words before it returns the first (about 1-2 µs a match), while the walk checks
    documents newest first (about 8 µs each) and stops at ``COUNT_CAP + 1`` matches, i.e. after
    ``COUNT_CAP / density`` documents, or at the end of a date range's ids. So: a common word, walk
    (1,400 documents for 700,000 matches, against 0.5 s of RUM); a middle-frequency pair, RUM (28,000
    matches in 46 ms, against a 35,000-document walk of 270 ms). The number of matches is the
    planner's estimate from the tsvector statistics (within a factor of two of the truth there),
    read with EXPLAIN (a fraction of a millisecond); the planner itself cannot make this choice, as
    it costs the RUM scan as if its first row came at once.
    """
    plan = session.execute(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM documents d WHERE "
                                "d.tsv @@ to_tsquery('simple'::regconfig, unaccent(:q))"), {"q": params["q"]}).scalar()
    matches = max(1.0, float(plan[0]["Plan"]["Plan Rows"]))
    walk = (COUNT_CAP + 1) * max(1.0, documents) / matches
    if "lo" in params:
        walk = min(walk, params["hi"] - params["lo"] + 1)
    return matches * _RUM_COST < walk * _WALK_COST


def candidates(session: Session, words: list[str], filters: Filters, *,
               rum: bool | None = None) -> tuple[list[tuple[int, float]], int]:
    """(document id, score) of the newest ``CANDIDATES`` matches, best first; and the capped match count.

    ``rum``: on PostgreSQL, take the word matches from the RUM index (True) or the GIN plan (False);
    None: RUM when its index is there and the estimate says it pays (``_rum_pays``). The benchmark
    compares the three on the same data.
    """
    pg = _is_pg(session)
    params: dict[str, Any] = {"cap": COUNT_CAP + 1}
    where = _filter_sql(filters, params, pg=pg)
    id_range = _id_range(session, filters, params)
    if id_range is None:
        return [], 0
    where += id_range if pg else id_range.replace("d.id", "f.rowid" if words else "d.id")
    joins = "JOIN dossiers s ON s.id = d.dossier_id"
    if pg:
        match = ""
        if words:
            params["q"] = " & ".join(words)
            match = " AND d.tsv @@ to_tsquery('simple'::regconfig, unaccent(:q))"
        params["fetch"] = max(COUNT_CAP + 1, CANDIDATES)
        rum_there, documents = _pg_prelude(session)
        order = "d.id DESC"
        if words and (rum_there and _rum_pays(session, params, documents) if rum is None else rum):
            # the RUM index returns the matches in id order by itself: no primary-key walk; enable_sort
            # off so that a small id range does not tempt the planner into a primary-key scan and a sort
            params["top"] = params.get("hi", _NEWEST)
            order = "d.id <=| CAST(:top AS integer)"
            session.execute(text("SET LOCAL enable_sort = off"))
        sql = f"SELECT d.id FROM documents d {joins} WHERE true{match}{where} ORDER BY {order} LIMIT :fetch"
        ids = [row.id for row in session.execute(_typed(sql, params), params)]
        if order != "d.id DESC":  # the rest of the transaction (ranking, pages) sorts as usual
            session.execute(text("SET LOCAL enable_sort = on"))
        newest = ids[:CANDIDATES]
        if not words or not newest:
            return [(i, 0.0) for i in newest], len(ids)
        ranked = session.execute(
            text("SELECT d.id, ts_rank_cd(d.tsv, to_tsquery('simple'::regconfig, unaccent(:q))) AS score "
                 "FROM documents d WHERE d.id = ANY(:ids)"), {"q": params["q"], "ids": newest})
        scores = {row.id: float(row.score) for row in ranked}
    else:
        params["n"] = CANDIDATES
        if words:  # bm25 costs ~30 µs a row: score the candidates only, count with a plain rowid walk
            params["q"] = " ".join(f'"{w}"' for w in words)
            base = (f"FROM document_fts f JOIN documents d ON d.id = f.rowid {joins} "
                    f"WHERE document_fts MATCH :q{where} ORDER BY f.rowid DESC")
            rows = session.execute(_typed(f"SELECT f.rowid AS id, -bm25(document_fts) AS score {base} LIMIT :n",
                                          params), params).all()
        else:
            base = f"FROM documents d {joins} WHERE 1{where} ORDER BY d.id DESC"
            rows = session.execute(_typed(f"SELECT d.id, 0.0 AS score {base} LIMIT :n", params), params).all()
        newest = [row.id for row in rows]
        scores = {row.id: float(row.score) for row in rows}
        ids = newest
        if len(rows) == CANDIDATES:  # there may be more: count them, up to the cap
            column = "f.rowid" if words else "d.id"
            ids = [row.id for row in session.execute(_typed(f"SELECT {column} AS id {base} LIMIT :cap", params),
                                                     params)]
    order = sorted(newest, key=lambda i: (-scores.get(i, 0.0), -i))
    return [(i, scores.get(i, 0.0)) for i in order], len(ids)


def _best_page(pages: list[tuple[int, str]], words: list[str]) -> tuple[int, str]:
    """The page with most occurrences of the query terms (the first such page on a tie)."""
    if not words or len(pages) == 1:
        return pages[0]
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")
    best, best_count = pages[0], -1
    for page in pages:
        count = len(pattern.findall(fold(page[1])))
        if count > best_count:
            best, best_count = page, count
    return best


def search(session: Session, query: str, filters: Filters, *, limit: int, snippet_chars: int,
           rum: bool | None = None) -> SearchResult:
    words = terms(query)
    if not words and not filters.any():
        return SearchResult(hits=[], total=0, capped=False)
    ranked, count = candidates(session, words, filters, rum=rum)
    top = ranked[:limit]
    hits: list[SearchHit] = []
    if top:
        ids = [i for i, _score in top]
        meta = {row.id: row for row in session.execute(
            text("SELECT d.id, d.sha256, d.kind, d.title, s.code FROM documents d "
                 "JOIN dossiers s ON s.id = d.dossier_id WHERE d.id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": ids})}
        pages: dict[int, list[tuple[int, str]]] = {}
        for row in session.execute(
                text("SELECT document_id, page_no, text FROM document_pages WHERE document_id IN :ids "
                     "ORDER BY document_id, page_no").bindparams(bindparam("ids", expanding=True)), {"ids": ids}):
            pages.setdefault(row.document_id, []).append((row.page_no, row.text))
        for doc_id, score in top:
            row = meta[doc_id]
            page_no, body = _best_page(pages.get(doc_id) or [(1, "")], words)
            hits.append(SearchHit(
                dossier_code=row.code, document_sha256=row.sha256, kind=row.kind, title=row.title,
                page_no=page_no, score=score, snippet=snippet(body, words, snippet_chars),
            ))
    return SearchResult(hits=hits, total=min(count, COUNT_CAP), capped=count > COUNT_CAP)
