"""``sohoa doctor``: is every external dependency there? Prints the command that fixes what is not."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sohoa.config.settings import Settings

EXIT_MISSING = 4


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("doctor", help="check Tesseract, language models, poppler, fonts, keys, database")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.pipeline.doctor import run_checks

    results = run_checks(settings)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            mark = "OK     " if r.ok else "MISSING"
            print(f"{mark} {r.name}: {r.detail}")
            if not r.ok and r.fix:
                print(f"        fix: {r.fix}")
    failed = [r for r in results if not r.ok]
    if failed and not args.json:
        print(f"\n{len(failed)} problem(s). Or run: bash scripts/setup.sh")
    return EXIT_MISSING if failed else 0
