"""The figures a province reports, per receiving unit and per kind, for a day or a month (and as CSV).

Why per unit: the provincial report lists each unit (the unit code of the dossier code, e.g.
``000.00.31.H50``) with the dossiers it received in the period and the share of them that have a
digitized component and a digitized result — the two rates the one-stop systems publish. Per kind: how
many documents of each kind (component, result, copy) were digitized in the period. Read-only queries
over the records tables, like the rest of the status page.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sohoa.database.engine import translate_errors
from sohoa.records.models import Document, Dossier
from sohoa.records.service import Records

CSV_COLUMNS = ["month", "unit_code", "dossiers_received", "with_digitized_components", "components_pct",
               "with_digitized_results", "results_pct", "components_digitized", "results_digitized",
               "copies_digitized"]


@dataclass(frozen=True)
class UnitFigures:
    unit_code: str
    dossiers: int
    with_components: int
    with_results: int
    documents: dict[str, int]  # kind → documents digitized in the period

    def pct(self, part: int) -> float | None:
        return None if self.dossiers == 0 else round(100.0 * part / self.dossiers, 2)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def per_unit(records: Records, start: date, end: date) -> list[UnitFigures]:
    """Every unit that received dossiers or digitized documents between ``start`` and ``end`` (inclusive)."""
    in_period = (Dossier.received_date >= start) & (Dossier.received_date <= end)
    since = datetime.combine(start, time.min, tzinfo=records.tz).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=records.tz).astimezone(UTC)
    with translate_errors(records.where), Session(records.engine) as s:
        received = dict(s.execute(select(Dossier.unit_code, func.count()).where(in_period)
                                  .group_by(Dossier.unit_code)).all())
        having: dict[str, dict[str, int]] = {}
        for kind in ("component", "result"):
            rows = s.execute(select(Dossier.unit_code, func.count(func.distinct(Dossier.id)))
                             .join(Document, Document.dossier_id == Dossier.id)
                             .where(in_period, Document.kind == kind).group_by(Dossier.unit_code)).all()
            having[kind] = {unit: int(n) for unit, n in rows}
        digitized: dict[str, dict[str, int]] = {}
        rows = s.execute(select(Dossier.unit_code, Document.kind, func.count())
                         .join(Document, Document.dossier_id == Dossier.id)
                         .where(Document.digitized_at >= since, Document.digitized_at < until)
                         .group_by(Dossier.unit_code, Document.kind)).all()
        for unit, kind, n in rows:
            digitized.setdefault(unit, {})[kind] = int(n)
    units = sorted(set(received) | set(digitized))
    return [UnitFigures(unit, int(received.get(unit, 0)), having["component"].get(unit, 0),
                        having["result"].get(unit, 0), digitized.get(unit, {})) for unit in units]


def monthly_csv(records: Records, month: date) -> str:
    """The month's table as CSV (UTF-8, comma-separated, one row per unit and a total row)."""
    start, end = month_bounds(month)
    rows = per_unit(records, start, end)
    total = UnitFigures("*", sum(r.dossiers for r in rows), sum(r.with_components for r in rows),
                        sum(r.with_results for r in rows),
                        {k: sum(r.documents.get(k, 0) for r in rows) for k in ("component", "result", "copy")})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in [*rows, total]:
        writer.writerow([f"{start:%Y-%m}", r.unit_code, r.dossiers, r.with_components, _pct(r.pct(r.with_components)),
                         r.with_results, _pct(r.pct(r.with_results)), r.documents.get("component", 0),
                         r.documents.get("result", 0), r.documents.get("copy", 0)])
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
