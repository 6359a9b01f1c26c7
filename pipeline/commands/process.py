"""``sohoa process INPUT... -o OUT.pdf``: scans of one document → searchable PDF/A-2B."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from config.settings import Settings
from pipeline.run import ProcessResult, process_document
from stages.model import DocumentMeta


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "process",
        help="scans (JPEG/PNG/TIFF/BMP/PDF) of one document -> searchable PDF/A-2B",
        description="Pages of one document, in natural sort order of the input names, become one "
        "cleaned, OCR'd, searchable PDF/A-2B file.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="scan files (pages in name order)")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.pdf")
    parser.add_argument("-l", "--languages", help="Tesseract languages (default from config: vie+eng)")
    parser.add_argument("--redo-ocr", action="store_true", help="replace the text layer of PDFs that already have one")
    parser.add_argument("--sidecar", type=Path, metavar="FILE.txt",
                        help="also write the OCR text (UTF-8, form feed between pages)")
    parser.add_argument("--title", help="document title for the PDF metadata")
    parser.add_argument("--dossier", metavar="CODE", help="dossier code recorded in the PDF metadata")
    parser.add_argument("--kind", choices=["component", "result", "copy"], help="document kind")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: cores)")
    parser.add_argument("--image-mode", choices=["color", "gray", "bitonal"], help="page image kept in the PDF")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.languages:
        settings.ocr.languages = args.languages
    if args.jobs is not None:
        settings.ocr.workers = max(1, args.jobs)
    if args.image_mode:
        settings.output.image_mode = args.image_mode
    meta = DocumentMeta(title=args.title, dossier_code=args.dossier, kind=args.kind)
    result = process_document(args.inputs, args.output, settings, meta=meta, redo_ocr=args.redo_ocr,
                              sidecar=args.sidecar)
    if args.json:
        print(json.dumps(result.to_dict(settings.ocr.low_confidence), ensure_ascii=False, indent=2))
    else:
        print(summary(result, settings))
    return 0


def summary(result: ProcessResult, settings: Settings) -> str:
    conf = result.mean_confidence
    low = result.low_confidence_pages(settings.ocr.low_confidence)
    lines = [
        f"{result.output}: {result.page_count} page(s), {result.size / 1024:.0f} KiB, "
        f"OCR confidence {'-' if conf is None else f'{conf:.0f}'}, {result.seconds:.1f} s",
    ]
    if low:
        lines.append(f"  pages to review (low OCR confidence or OCR failed): {', '.join(map(str, low))}")
    lines.extend(f"  warning: {w}" for w in result.warnings)
    return "\n".join(lines)
