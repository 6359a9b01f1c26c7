"""``sohoa results``: the digitized results an applicant already owns, and reusing one in a new dossier.

    sohoa results find --applicant 001203004567 [--type "giấy phép"] [--valid-on 2026-12-01] [--json]
    sohoa results reuse DOCUMENT_ID --dossier 000.00.31.H50-261201-0003

Why: Circular 01/2023 — a result digitized once is not asked of the citizen again. ``find`` lists the
applicant's results with their Decree-30 data, validity (``valid_until``, not superseded) and whether
their signatures still verify (offline unless ``--online``); ``reuse`` files the same stored file
under another dossier (no copy), with where it came from, in the audit log.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from sohoa.cli.commands.records_cli import _actor, _date, _emit, _nested_common, _open

if TYPE_CHECKING:
    from sohoa.config import Settings


def register(subparsers: Any) -> None:
    results = subparsers.add_parser("results", help="digitized results an applicant owns: find, reuse")
    rsub = results.add_subparsers(dest="results_command", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("find", help="the applicant's results with their data, validity and signature verdict")
    p.add_argument("--applicant", required=True, metavar="ID", help="CCCD (12 digits) or tax code")
    p.add_argument("--type", dest="doc_type", metavar="T", help="document type or title words (marks optional)")
    p.add_argument("--valid-on", type=_date, metavar="DATE", help="only results valid on that day")
    p.add_argument("--online", action="store_true", help="fetch OCSP/CRL when the files embed none")
    _nested_common(p)
    p.set_defaults(func=cmd_find)
    p = rsub.add_parser("reuse", help="file an existing result under another dossier (the same stored file)")
    p.add_argument("document_id", type=int)
    p.add_argument("--dossier", required=True, metavar="CODE")
    _nested_common(p)
    p.set_defaults(func=cmd_reuse)


def cmd_find(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.pipeline.owned_results import owned_results

    with _open(settings) as rec:
        entries = owned_results(rec, settings, args.applicant, doc_type=args.doc_type, valid_on=args.valid_on,
                                offline=not args.online)
    lang = settings.language if getattr(args, "lang", None) is None else args.lang
    lines = [f"{e['dossier_code']} #{e['document_id']}  {'valid' if e['valid'] else 'not valid'}  "
             f"{e['fields'].get('doc_number', '-')}  {e['fields'].get('doc_type', e['title'] or '')}  "
             f"[{e['signature']['indication'] or '?'}] {e['signature'][lang]}" for e in entries]
    _emit(args, entries, "\n".join(lines) or "-")
    return 0


def cmd_reuse(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records.results import result_by_id, reuse_result

    with _open(settings) as rec:
        document = result_by_id(rec, args.document_id)
        done = reuse_result(rec, document, dossier_code=args.dossier, actor=_actor())
    doc = done.document
    _emit(args, {"dossier": doc.dossier_code, "document_id": doc.id, "created": done.created,
                 "reused_from": document.id}, f"{doc.dossier_code} #{doc.seq}: {doc.title or ''} "
          f"({'filed' if done.created else 'already there'}; the same stored file as #{document.id})")
    return 0
