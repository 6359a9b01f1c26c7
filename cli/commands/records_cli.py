"""``sohoa dossier create|show|list|search|export``, ``sohoa db upgrade``, ``sohoa store check``,
``sohoa audit verify``: thin wrappers over ``records.Records``.

Why thin: the daemon, batch and a future API call the same library functions, so behaviour (and its
tests) lives in ``records``; this module only parses arguments and prints text or JSON.
Exit codes: 0 = fine; ``store check`` returns 1 when it finds problems; ``audit verify`` raises
``AuditChainBroken`` (exit 85) when the chain is broken.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sohoa.common.messages import ngettext
from sohoa.common.reasons import foreign

if TYPE_CHECKING:
    from sohoa.config import Settings
    from sohoa.records import Records

# The document kinds, spelled here so that building the parser does not load SQLAlchemy (the records
# package opens with its service); a test keeps them equal to ``sohoa.records.types.KINDS``.
KINDS = ("component", "result", "copy")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _nested_common(parser: argparse.ArgumentParser) -> None:
    """Let global options also follow the sub-subcommand without overwriting values given before it."""
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="FILE", help="settings file")
    parser.add_argument("--lang", choices=["vi", "en"], default=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS)
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefix", help="dossier code prefix")
    parser.add_argument("--unit", help="receiving unit code")
    parser.add_argument("--from", dest="date_from", type=_date, help="received on or after (YYYY-MM-DD)")
    parser.add_argument("--to", dest="date_to", type=_date, help="received on or before (YYYY-MM-DD)")
    parser.add_argument("--limit", type=int, default=None)


def register(subparsers: Any) -> None:
    dossier = subparsers.add_parser("dossier", help="dossier records: create, show, list, search, export")
    dsub = dossier.add_subparsers(dest="dossier_command", metavar="ACTION")
    dsub.required = True

    p = dsub.add_parser("create", help="create a dossier (given code, or the next code for a unit and day)")
    p.add_argument("--code", help="full dossier code, e.g. 000.00.31.H50-220906-0001")
    p.add_argument("--unit", help="unit code; the next daily number is allocated")
    p.add_argument("--date", type=_date, help="received date for a new code (default: today, local time)")
    p.add_argument("--procedure", help="procedure code")
    p.add_argument("--applicant-name")
    p.add_argument("--applicant-id")
    p.add_argument("--receiving-unit")
    p.add_argument("--due", type=_date)
    _nested_common(p)
    p.set_defaults(func=cmd_create)

    p = dsub.add_parser("show", help="a dossier and its documents")
    p.add_argument("code")
    _nested_common(p)
    p.set_defaults(func=cmd_show)

    p = dsub.add_parser("list", help="list dossiers, newest first")
    _filters(p)
    p.add_argument("--status")
    _nested_common(p)
    p.set_defaults(func=cmd_list)

    p = dsub.add_parser("search", help="full-text search over OCR text (accents optional), and a result's data")
    p.add_argument("query", nargs="?", default="", help="words (may be empty with a filter)")
    _filters(p)
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--number", help="a result's number and symbol, exact (marks and case ignored)")
    p.add_argument("--number-prefix", help="a result's number starting with this, e.g. 123/")
    p.add_argument("--agency", help="issuing agency, exact (marks and case ignored)")
    p.add_argument("--type", dest="doc_type", help="document type, e.g. 'giấy phép'")
    p.add_argument("--issued-from", type=_date, help="issued on or after (YYYY-MM-DD)")
    p.add_argument("--issued-to", type=_date, help="issued on or before (YYYY-MM-DD)")
    _nested_common(p)
    p.set_defaults(func=cmd_search)

    p = dsub.add_parser("export", help="write a dossier's PDFs plus metadata JSON and CSV to a folder")
    p.add_argument("code")
    p.add_argument("--to", dest="target", type=Path, required=True, metavar="DIR")
    _nested_common(p)
    p.set_defaults(func=cmd_export)

    _group_of_one(subparsers, ("db", "database schema"), ("upgrade", "apply pending migrations"), cmd_db_upgrade)
    _group_of_one(subparsers, ("store", "content-addressed document store"),
                  ("check", "find orphan, missing and (with --rehash) damaged files"), cmd_store_check,
                  options=_store_check_options)
    _group_of_one(subparsers, ("audit", "audit log"), ("verify", "check the audit hash chain"), cmd_audit_verify)


def _store_check_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rehash", action="store_true", help="re-hash every file (slow on large stores)")
    parser.add_argument("--remove", action="store_true", help="remove orphan files and stale temp files")


def _group_of_one(subparsers: Any, group: tuple[str, str], action: tuple[str, str],
                  func: Callable[[argparse.Namespace, Settings], int],
                  options: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """``sohoa GROUP ACTION`` for a group with one action so far (``db upgrade``, ``store check``…)."""
    parent = subparsers.add_parser(group[0], help=group[1])
    actions = parent.add_subparsers(dest=f"{group[0]}_command", metavar="ACTION")
    actions.required = True
    parser = actions.add_parser(action[0], help=action[1])
    if options is not None:
        options(parser)
    _nested_common(parser)
    parser.set_defaults(func=func)


def _open(settings: Settings) -> Records:
    from sohoa.records import Records

    return Records.open(settings.records, settings.data_dir)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "sohoa"


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records import NewDossier

    new = NewDossier(code=args.code, unit_code=args.unit, received_date=args.date, procedure_code=args.procedure,
                     applicant_name=args.applicant_name, applicant_id=args.applicant_id,
                     receiving_unit=args.receiving_unit, due_date=args.due)
    with _open(settings) as rec:
        info = rec.create_dossier(new, actor=_actor())
    _emit(args, info.to_dict(), info.code)
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records.types import fields_to_review, result_fields

    with _open(settings) as rec:
        info = rec.get_dossier(args.code)
        docs = rec.documents(info.code)
    lines = [f"{info.code}  {info.status}  received {info.received_date}  unit {info.unit_code}"]
    if info.applicant_name or info.procedure_code:
        lines.append(f"  applicant: {info.applicant_name or '-'}  procedure: {info.procedure_code or '-'}")
    for d in docs:
        conf = f"{d.mean_confidence:.0f}" if d.mean_confidence is not None else "-"
        lines.append(f"  #{d.seq:<3} {d.kind:<9} v{d.version} {d.page_count:>3} p  OCR {conf:>3}  "
                     f"{d.sha256[:16]}  {d.title or ''}")
        data = result_fields(d.extra)
        shown = [data[k] for k in ("doc_number", "doc_type", "issue_date", "issuing_agency", "subject", "signer_name")
                 if k in data]
        if shown:
            review = fields_to_review(d.extra)
            lines.append("       " + " · ".join(shown) + (f"  (to review: {', '.join(review)})" if review else ""))
    _emit(args, {"dossier": info.to_dict(), "documents": [d.to_dict() for d in docs]}, "\n".join(lines))
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with _open(settings) as rec:
        rows = rec.list_dossiers(prefix=args.prefix, unit=args.unit, status=args.status, date_from=args.date_from,
                                 date_to=args.date_to, limit=args.limit or 50)
    text = "\n".join(f"{r.code}  {r.status:<10} {r.document_count:>3} docs  {r.applicant_name or ''}" for r in rows)
    _emit(args, [r.to_dict() for r in rows], text)
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    with _open(settings) as rec:
        hits = rec.search(args.query, code_prefix=args.prefix, unit=args.unit, kind=args.kind,
                          date_from=args.date_from, date_to=args.date_to, limit=args.limit, number=args.number,
                          number_prefix=args.number_prefix, agency=args.agency, doc_type=args.doc_type,
                          issued_from=args.issued_from, issued_to=args.issued_to)
    text = "\n".join(f"{h.dossier_code}  {h.kind:<9} p.{h.page_no:<3} {h.document_sha256[:12]}  {h.snippet}"
                     for h in hits)
    _emit(args, [h.__dict__ for h in hits], text)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records.export import export_dossier

    with _open(settings) as rec:
        result = export_dossier(rec, args.code, args.target, actor=_actor())
    _emit(args, {"folder": str(result.folder), "files": [str(f) for f in result.files]},
          "\n".join(str(f) for f in result.files))
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records import Records

    rec = Records(settings.records, settings.data_dir)
    try:
        before, after = rec.upgrade()
    finally:
        rec.close()
    _emit(args, {"database": rec.where, "before": before, "after": after},
          f"{rec.where}: {before or 'empty'} -> {after}")
    return 0


def cmd_store_check(args: argparse.Namespace, settings: Settings) -> int:
    with _open(settings) as rec:
        report = rec.check_store(rehash=args.rehash, remove_orphans=args.remove, actor=_actor())
    lines = [f"{report.files} files; {len(report.orphans)} orphan, {len(report.missing)} missing, "
             f"{len(report.corrupt)} damaged, {len(report.stale_temps)} stale temp; {len(report.removed)} removed"]
    lines += [f"  orphan  {k}" for k in report.orphans] + [f"  missing {k}" for k in report.missing]
    lines += [f"  damaged {k}" for k in report.corrupt] + [f"  temp    {k}" for k in report.stale_temps]
    _emit(args, {**report.__dict__, "ok": report.ok}, "\n".join(lines))
    return 0 if report.ok or (args.remove and not report.missing and not report.corrupt) else 1


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records.errors import AuditChainBroken

    with _open(settings) as rec:
        report = rec.verify_audit()
    _emit(args, {**report.__dict__, "ok": report.ok},
          f"{report.events} events, head #{report.head_seq} {report.head_hash}"
          + "".join(f"\n  {p}" for p in report.problems))
    if not report.ok:
        raise AuditChainBroken(detail=ngettext("{n} problem, first: {problem}", "{n} problems, first: {problem}",
                                                len(report.problems), problem=foreign(report.problems[0])))
    return 0
