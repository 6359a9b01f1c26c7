"""Start-up stays light (issue 14): building the parser and ``--help`` load none of the heavy layers.

Why in a fresh subprocess: this test process has imported everything already, so ``sys.modules`` here
says nothing. Why no time limit: wall time on a shared machine is noise; what makes ``sohoa --help``
slow is which libraries it imports, and that is exact. The time is measured in ``bench/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_the_console_script_exits_with_main_s_code_and_flushed_output(tmp_path: Path) -> None:
    """``entry`` skips the heap teardown (os._exit): the exit code and the buffered JSON must survive it."""
    missing = tmp_path / "khong-co.jpg"
    done = subprocess.run([sys.executable, "-m", "sohoa.cli", "process", str(missing), "-o", str(tmp_path / "o.pdf"),
                           "--json", "--lang", "en"], capture_output=True, text=True, timeout=120, check=False)
    from sohoa.common.errors import InputError

    assert done.returncode == InputError.exit_code, done.stderr
    report = json.loads(done.stdout)  # printed to a pipe (block-buffered), so only there if it was flushed
    assert report["exit_code"] == done.returncode and report["path"] == str(missing), report


def test_the_ocr_engine_module_imports_no_image_library() -> None:
    """The OCR helper is started first thing in a thread; importing its engine must not wait for numpy/cv2."""
    probe = "import json, sys, sohoa.stages.ocr_engine; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert not loaded & {"numpy", "cv2", "PIL", "pikepdf", "pydantic"}, sorted(loaded)
