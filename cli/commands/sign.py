"""``sohoa sign``: sign one PDF with a configured profile, or ad hoc with a PKCS#12 file.

    sohoa sign IN.pdf -o OUT.pdf --profile organization [--level B-LT]
    sohoa sign IN.pdf -o OUT.pdf --pkcs12 key.p12 --password-env P12_PASSWORD \\
        [--appearance organization|digitizer|copy|invisible] [--timestamp-url URL] [--level B-T]

Why no ``--password`` option: argv is visible to every user of the machine (``ps``) and lands in shell
history; the password comes from the named environment variable only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.errors import UsageError
from sohoa.common.messages import _

if TYPE_CHECKING:
    from sohoa.config import Settings

# The PAdES levels, spelled here so that building the parser does not load pyHanko; a test keeps
# them equal to ``sohoa.signing.LEVELS``.
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sign", help="sign a PDF (PAdES) with a profile or a PKCS#12 file",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   allow_abbrev=False)  # "--password X" must not pass as --password-env
    parser.add_argument("input", type=Path, metavar="IN.pdf")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.pdf",
                        help="signed output (may equal IN.pdf; written atomically)")
    parser.add_argument("--profile", help="signing profile from [signing.profiles]")
    parser.add_argument("--level", choices=LEVELS, default=None, help="PAdES level (default: the profile's)")
    adhoc = parser.add_argument_group("ad-hoc signing (no profile)")
    adhoc.add_argument("--pkcs12", type=Path, metavar="FILE", help="PKCS#12 (.p12/.pfx) key file")
    adhoc.add_argument("--password-env", metavar="VAR", help="environment variable holding the PKCS#12 password")
    adhoc.add_argument("--appearance", choices=["organization", "digitizer", "copy", "invisible"],
                       default="invisible", help="visible appearance (default: invisible)")
    adhoc.add_argument("--timestamp-url", metavar="URL", help="RFC 3161 TSA (default: [signing.tsa] url)")
    parser.add_argument("--json", action="store_true", help="print the result (or the error) as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.signing import JsonLinesAuditSink, sign_pdf, sign_pdf_adhoc

    audit = JsonLinesAuditSink(settings.resolve(settings.signing.audit_file))
    if args.profile and args.pkcs12:
        raise UsageError(detail=_("use either --profile or --pkcs12, not both"))
    if args.profile:
        if args.timestamp_url:
            raise UsageError(detail=_("--timestamp-url is for ad-hoc signing; profiles use [signing.tsa] url"))
        result = sign_pdf(args.input, args.output, profile=args.profile, settings=settings.signing,
                          level=args.level, audit=audit)
    elif args.pkcs12:
        if not args.password_env:
            raise UsageError(detail=_("--pkcs12 needs --password-env VAR "
                                      "(the password is never given on the command line)"))
        result = sign_pdf_adhoc(args.input, args.output, pkcs12=args.pkcs12, password_env=args.password_env,
                                settings=settings.signing, appearance=args.appearance, level=args.level,
                                timestamp_url=args.timestamp_url, audit=audit)
    else:
        raise UsageError(detail=_("give --profile NAME or --pkcs12 FILE --password-env VAR"))
    if args.json:
        print(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in result.__dict__.items()},
                         ensure_ascii=False))
    elif not args.quiet:
        print(f"{result.dst}: {result.level}, {result.field_name}, {result.signer}, {result.signing_time}")
    return 0
