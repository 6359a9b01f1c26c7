"""``sohoa verify``: verify the signatures of returned PDFs, with DSS-style verdicts and a records match.

    sohoa verify FILE|FOLDER... [--json] [--html REPORT.html] [--offline] [--trust PATH] [--lang vi|en]

Exit codes: 0 every file TOTAL-PASSED; 1 some INDETERMINATE (none failed; an unsigned PDF is
INDETERMINATE); 2 some TOTAL-FAILED; 3 a file could not be read (not a PDF, truncated, encrypted).
The worst wins: 3 > 2 > 1 > 0.

The records match (``sohoa.pipeline.verification``) is shared with the web service.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.errors import InputError, UsageError
from sohoa.common.messages import _

if TYPE_CHECKING:
    from sohoa.config import Settings
    from sohoa.signing.verify import VerificationReport

log = logging.getLogger(__name__)
EXIT_UNREADABLE = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="verify signatures of PDFs (DSS-style verdicts)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE|FOLDER")
    parser.add_argument("--json", action="store_true", help="one JSON object per file (docs/verify-json-schema.md)")
    parser.add_argument("--html", type=Path, metavar="REPORT.html", help="write a printable, self-contained report")
    parser.add_argument("--offline", action="store_true", help="use only validation data embedded in the files")
    parser.add_argument("--trust", type=Path, action="append", metavar="PATH",
                        help="trust anchors (certificate file or folder), replacing [signing.trust]; repeatable")
    parser.add_argument("--no-records", action="store_true", help="do not look the files up in the records")
    parser.set_defaults(func=run)


def expand(inputs: list[Path]) -> list[Path]:
    """Files as given; folders recursively, their *.pdf files in name order."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files.extend(sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf"))
        else:
            files.append(item)
    return files


def exit_code(reports: list[VerificationReport], unreadable: int) -> int:
    if unreadable:
        return EXIT_UNREADABLE
    return max((r.exit_code for r in reports), default=0)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from sohoa.common.atomic import atomic_writer
    from sohoa.pipeline.verification import records_lookup
    from sohoa.signing.verify import verify
    from sohoa.signing.verify.report import error_dict, html_report, print_error, print_report

    lang = args.lang or settings.language
    if args.verbose < 2:  # pyHanko logs every failed path with a traceback; the verdict already says why
        for name in ("pyhanko", "pyhanko_certvalidator"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    files = expand(args.inputs)
    if not files:
        raise UsageError(detail=_("no PDF file found in {inputs}", inputs=", ".join(map(str, args.inputs))))
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    reports: list[VerificationReport] = []
    items: list[VerificationReport | tuple[str, InputError]] = []
    unreadable = 0
    with records_lookup(settings) if not args.no_records else _none() as lookup:
        for path in files:
            try:
                report = verify(path, settings.signing, lookup=lookup, offline=args.offline, lang=lang,
                                trust=args.trust)
            except InputError as err:
                unreadable += 1
                items.append((str(path), err))
                if args.json:
                    print(json.dumps(error_dict(str(path), err), ensure_ascii=False))
                else:
                    print_error(str(path), err, console, lang)
                continue
            reports.append(report)
            items.append(report)
            if args.json:
                print(json.dumps(report.to_dict(), ensure_ascii=False))
            else:
                print_report(report, console, lang, details=not args.quiet)
    if args.html:
        with atomic_writer(args.html) as (fh, _tmp):
            fh.write(html_report(items, lang).encode("utf-8"))
    return exit_code(reports, unreadable)


@contextmanager
def _none() -> Iterator[None]:
    yield None
