"""``sohoa batch SRC``: digitize an archive tree or a CSV manifest, resumably, locally or on Celery workers.

Order of work: plan and check everything (every bad row printed, in the clerk's language, before any
document starts) → record the plan in the journal → run what is not done → write the report. Ctrl-C
once: documents in progress finish, nothing new starts, the report says what is left; twice: the
documents in progress are abandoned and handed back. Rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.errors import ConfigError, SohoaError
from sohoa.common.messages import N_, _, ngettext, normalize_lang

if TYPE_CHECKING:
    from sohoa.config.settings import Settings
    from sohoa.runners.batch.manifest import Plan


class BatchIncomplete(SohoaError):
    code = "batch_incomplete"
    exit_code = 93
    text = N_("Batch {run}: {failed} document(s) failed, {invalid} invalid row(s) (see the report {report}).")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "batch", help="digitize an archive: a folder tree or a CSV manifest, resumable, local or on Celery",
        description="Every document: clean, OCR, PDF/A, sign ([batch] sign_profiles), attach to its dossier. "
        "Rerun the same command to resume; done documents are skipped by content hash.")
    parser.add_argument("src", type=Path, metavar="SRC", help="folder of scans, or a .csv manifest")
    parser.add_argument("--manifest", type=Path, default=None, metavar="FILE.csv",
                        help="metadata per document; its file paths are relative to SRC")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local executor: documents at once (default [batch] workers, 0 = CPU cores)")
    parser.add_argument("--executor", choices=["local", "celery"], default="local",
                        help="local process pool, or tasks for `sohoa worker` processes (Redis broker)")
    parser.add_argument("--dry-run", action="store_true", help="check and print the plan; process nothing")
    parser.add_argument("--retry-failed", action="store_true", help="also retry documents that failed before")
    parser.add_argument("--strict", action="store_true", help="refuse to start when any manifest row is bad")
    parser.add_argument("--report", type=Path, default=None, metavar="DIR",
                        help="report folder (default [batch] report_dir under data_dir)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.set_defaults(func=run)


def _print_problems(plan: Plan, lang: str) -> None:
    if not plan.problems:
        return
    where = plan.manifest or plan.source
    head = ngettext("{where}: {n} invalid row (will not be processed):",
                    "{where}: {n} invalid rows (will not be processed):", len(plan.problems),
                    where=where).render(normalize_lang(lang))
    print(head, file=sys.stderr)
    for problem in plan.problems:
        print(f"  {problem.sentence(lang)}", file=sys.stderr)


def _print_plan(plan: Plan, settings: Settings, as_json: bool) -> None:
    docs = [{"item": d.key, "line": d.line, "files": [str(p) for p in d.inputs], "dossier_code": d.dossier_code,
             "kind": d.kind, "title": d.title, "sign_profiles": d.sign_profiles} for d in plan.docs]
    if as_json:
        print(json.dumps({"documents": docs, "invalid": [p.to_dict() for p in plan.problems]}, ensure_ascii=False))
        return
    for d in docs:
        signs = "+".join(d["sign_profiles"]) or "-"
        print(f"{d['dossier_code']}\t{d['kind']}\t{len(d['files'])} file(s)\tsign:{signs}\t{d['item']}")
    print(f"{len(docs)} document(s), {len(plan.problems)} invalid row(s)")


def _check_profiles(plan: Plan, settings: Settings) -> None:
    known = set(settings.signing.profiles)
    missing = sorted({p for d in plan.docs for p in d.sign_profiles if p not in known})
    if missing:
        raise ConfigError(path=settings.source or "-", detail=_("[batch] sign_profiles names unknown signing "
                                                                         "profile(s) {profiles}",
                                                                         profiles=", ".join(missing)))


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.pipeline.executor import default_workers
    from sohoa.runners.batch.journal import FINAL, BatchJournal
    from sohoa.runners.batch.manifest import ManifestInvalid, plan_batch
    from sohoa.runners.batch.report import ProgressView, summarize, summary_text, write_report
    from sohoa.runners.batch.runner import (
        ItemOutcome,
        StopFlag,
        low_confidence_threshold,
        prepare_run,
        run_local,
        worker_records,
    )

    batch = settings.batch
    lang = args.lang or settings.language
    plan = plan_batch(args.src, args.manifest, settings, batch)
    _check_profiles(plan, settings)
    _print_problems(plan, lang)
    if plan.problems and args.strict:
        raise ManifestInvalid(path=plan.manifest or plan.source, detail=ngettext("{n} invalid row", "{n} invalid rows",
                                                                                    len(plan.problems)))
    if args.dry_run:
        _print_plan(plan, settings, args.json)
        return 0
    workers = default_workers(args.workers if args.workers is not None else batch.workers)
    since = datetime.now(UTC)
    started = time.monotonic()
    records = worker_records(settings)
    journal = BatchJournal(records)
    run, items = prepare_run(plan, settings, records, retry_failed=args.retry_failed,
                             options={"executor": args.executor, "workers": workers})
    todo = [i for i in items if i.state not in FINAL]
    view = ProgressView(total_docs=len(items), total_pages=sum(i.planned_pages for i in todo),
                        done_docs=len(items) - len(todo), lang=lang, log_every_s=batch.progress_log_s,
                        quiet=args.quiet)

    def on_outcome(outcome: ItemOutcome) -> None:
        if outcome.state in FINAL:
            view.advance(pages=outcome.pages, failed=int(outcome.state == "failed"))

    stop = StopFlag()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.signal())
    try:
        if args.executor == "celery":
            from sohoa.runners.batch.celery_app import check_broker, enqueue, follow, make_app

            app = make_app(settings)
            check_broker(app)
            enqueue(app, run, todo, batch.celery.queue)
            follow(run, items, settings, on_outcome, stop)
        else:
            run_local(run, items, settings, workers, on_outcome, stop)
    finally:
        signal.signal(signal.SIGINT, previous)
        view.close()
    final = journal.items(run.id)
    left = any(i.state not in FINAL for i in final)
    journal.set_run_status(run.id, "stopped" if left else "finished")
    summary = summarize(run, final, plan.problems, since=since, wall_s=time.monotonic() - started,
                        executor=args.executor, workers=workers, threshold=low_confidence_threshold(settings),
                        interrupted=stop.requested.is_set())
    folder = args.report or settings.resolve(batch.report_dir)
    write_report(summary, final, plan.problems, folder)
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, default=str))
    else:
        print(summary_text(summary, lang))
    if stop.requested.is_set():
        return 130
    if summary.failed or summary.invalid_rows:
        err = BatchIncomplete(run=run.id, failed=summary.failed, invalid=summary.invalid_rows,
                              report=summary.report_json)
        print(f"sohoa: {err.message('vi' if lang == 'vi' else 'en')}", file=sys.stderr)
        return err.exit_code
    return 0
