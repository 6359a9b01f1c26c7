"""``sohoa process INPUT... -o OUT.pdf``: scans of one document → searchable PDF/A-2B."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sohoa.config.settings import Settings
    from sohoa.pipeline.executor import PageExecutor
    from sohoa.pipeline.job import JobResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "process",
        help="scans (JPEG/PNG/TIFF/BMP/PDF) of one document -> searchable PDF/A-2B",
        description="Pages of one document, in natural sort order of the input names, become one "
        "cleaned, OCR'd, searchable PDF/A-2B file.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="scan files (pages in name order)")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.pdf")
    parser.add_argument("-l", "--languages", help="Tesseract languages (default from config: vie; English "
                        "words are re-read with [ocr] reread_languages)")
    parser.add_argument("--redo-ocr", action="store_true", help="replace the text layer of PDFs that already have one")
    parser.add_argument("--sidecar", type=Path, metavar="FILE.txt",
                        help="also write the OCR text (UTF-8, form feed between pages)")
    parser.add_argument("--title", help="document title for the PDF metadata")
    parser.add_argument("--dossier", metavar="CODE",
                        help="attach the finished PDF to this dossier in the records database (and note it in the XMP)")
    parser.add_argument("--kind", choices=["component", "result", "copy"], default="component",
                        help="document kind (default: component); results and copies get their Decree-30 data "
                        "extracted ([extract])")
    parser.add_argument("--sign", action="append", default=[], metavar="PROFILE",
                        help="sign with this signing profile as the last stage; repeat for several signatures "
                        "(e.g. --sign digitizer --sign organization)")
    parser.add_argument("--digitized-by", metavar="NAME", help="who digitized the document (records metadata)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: cores)")
    parser.add_argument("--image-mode", choices=["color", "gray", "bitonal"], help="page image kept in the PDF")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.pipeline.executor import executor_for

    if args.languages:
        settings.ocr.languages = args.languages
    if args.jobs is not None:
        settings.ocr.workers = max(1, args.jobs)
    # The workers and their OCR helpers start now, while this process imports the document job and
    # opens the records (issue 14: start-up of one `sohoa process` per document). A short document's
    # pages are read in threads of this process ([ocr] in_process_pages), each with its own helper.
    executor = executor_for(args.inputs, settings.ocr)
    try:
        executor.warm(settings.ocr, executor.workers)
        return _run(args, settings, executor)
    finally:
        executor.close()


def _run(args: argparse.Namespace, settings: Settings, executor: PageExecutor) -> int:
    from sohoa.pipeline.job import DocumentJob, run_document_job

    if args.image_mode:
        settings.output.image_mode = args.image_mode
    job = DocumentJob(inputs=args.inputs, output=args.output, dossier_code=args.dossier, kind=args.kind,
                      title=args.title, digitized_by=args.digitized_by, sign_profiles=args.sign,
                      redo_ocr=args.redo_ocr, sidecar=args.sidecar)
    records = None
    if args.dossier:  # SQLAlchemy only when the document is filed
        from sohoa.records.service import Records

        records = Records.open(settings.records, settings.data_dir)
    try:
        result = run_document_job(job, settings, records=records, executor=executor)
    finally:
        if records is not None:
            records.close()
    if args.json:
        print(json.dumps(result.to_dict(settings.ocr.low_confidence), ensure_ascii=False, indent=2, default=str))
    else:
        print(summary(result, settings))
    return 0


def summary(job: JobResult, settings: Settings) -> str:
    from sohoa.common.display import person

    result = job.process
    conf = result.mean_confidence
    low = result.low_confidence_pages(settings.ocr.low_confidence)
    lines = [
        f"{job.output}: {result.page_count} page(s), {job.output.stat().st_size / 1024:.0f} KiB, "
        f"OCR confidence {'-' if conf is None else f'{conf:.0f}'}, {result.seconds:.1f} s",
    ]
    lines.extend(f"  signed: {s.profile} by {person(s.signer)} ({s.level}, {s.signing_time})" for s in job.signatures)
    if job.attached is not None:
        state = "attached" if job.attached.created else "already filed (same file or same source scans)"
        lines.append(f"  {state} to dossier {job.attached.document.dossier_code} as document "
                     f"#{job.attached.document.seq} (version {job.attached.document.version})")
        other = job.attached.same_source_elsewhere
        if other is not None:
            lines.append(f"  needs review: the same scans were already filed in dossier {other.dossier_code} "
                         f"as document #{other.seq}")
    if low:
        lines.append(f"  pages to review (low OCR confidence or OCR failed): {', '.join(map(str, low))}")
    lines.extend(f"  warning: {w}" for w in result.warnings)
    return "\n".join(lines)
