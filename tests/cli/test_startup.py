"""Start-up stays light (issue 14): building the parser and ``--help`` load none of the heavy layers.

Why in a fresh subprocess: this test process has imported everything already, so ``sys.modules`` here
says nothing. Why no time limit: wall time on a shared machine is noise; what makes ``sohoa --help``
slow is which libraries it imports, and that is exact. The time is measured in ``bench/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pyhanko", "sqlalchemy", "fastapi", "celery", "alembic", "pydantic", "cv2", "pikepdf", "uvicorn")

PROBE = """
import json, sys
from sohoa.cli.main import build_parser, main
build_parser()
argv = json.loads(sys.argv[1])
if argv:
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def _loaded(argv: list[str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                          check=True, timeout=120)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [[], ["--help"], ["process", "--help"], ["watch", "--help"], ["verify", "--help"],
                                  ["sign", "--help"], ["dossier", "search", "--help"], ["token", "create", "--help"],
                                  ["batch", "--help"], ["serve", "--help"], ["worker", "--help"]])
def test_parser_and_help_import_no_heavy_library(argv: list[str]) -> None:
    heavy = _loaded(argv) & set(HEAVY)
    assert not heavy, f"sohoa {' '.join(argv)} imported {sorted(heavy)}"


def test_a_usage_error_imports_no_heavy_library() -> None:
    """A mistyped command is answered as fast as --help (argparse exits before any handler)."""
    assert not _loaded(["process"]) & set(HEAVY)


def test_choices_spelled_in_the_cli_match_their_owners() -> None:
    """The CLI spells a few choice lists itself so the parser needs no heavy import; they must not drift."""
    from sohoa.cli.commands import records_cli, sign, token
    from sohoa.records.types import KINDS
    from sohoa.signing import LEVELS
    from sohoa.web.tokens import ROLES

    assert tuple(sign.LEVELS) == tuple(LEVELS)
    assert tuple(records_cli.KINDS) == tuple(KINDS)
    assert tuple(token.ROLES) == tuple(ROLES)
