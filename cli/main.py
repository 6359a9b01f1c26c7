"""The ``sohoa`` command line: global options, subcommand discovery, errors → sentences and exit codes.

Why the imports are few: every call builds the whole parser, so building it must not load pyHanko,
SQLAlchemy, FastAPI, pydantic or OpenCV (``sohoa --help`` took 1.5 s when it did). Command modules
import only argparse-level things at the top and the layers below inside their handlers; the settings
model is loaded after the arguments are parsed. ``tests/cli/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import json
import logging
import os
import pkgutil
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sohoa.cli.commands as commands_pkg
from sohoa.common.errors import InternalError, SohoaError, UsageError

if TYPE_CHECKING:
    from sohoa.config import Settings

log = logging.getLogger("sohoa")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="settings file (default: ./sohoa.toml if present, else built-in defaults)")
    parser.add_argument("--lang", choices=["vi", "en"], default=None,
                        help="language of messages (default from config: vi)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sohoa", description="Digitize, OCR, sign and file dossiers.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    for action in sub.choices.values():
        _add_common(action)
    return parser


def _setup_logging(settings: Settings, verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        from sohoa.cli.logs import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = args.lang or os.environ.get("SOHOA_LANG") or "vi"
    json_out = bool(getattr(args, "json", False))
    try:
        from sohoa.config import load_settings

        settings = load_settings(args.config)
        lang = args.lang or settings.language
        _setup_logging(settings, args.verbose, args.quiet)
        return int(args.func(args, settings) or 0)
    except SohoaError as err:
        _report_error(err, lang, json_out)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: one sentence, exit 1, traceback in debug log
        log.debug("unexpected error", exc_info=True)
        err = InternalError(detail=f"{type(exc).__name__}: {exc}")
        _report_error(err, lang, json_out)
        return err.exit_code


def entry() -> None:
    """The ``sohoa`` console script: ``main()``, then exit without tearing the heap down.

    Why: a Python process that imported pyHanko, pikepdf, OpenCV and the page stages spends ~0.13 s
    freeing every module object at exit (measured with strace: no system call in that time), which a
    counter pays once per document (issue 14). Everything that matters is done by then: outputs were
    renamed into place and synced, the records committed and closed. The exit handlers still run
    (the pool's children are reaped, the OCR helpers closed) and the streams are flushed; only the
    teardown is skipped. With a non-daemon thread still alive the normal exit runs instead.
    """
    code = main()
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what the interpreter would run first on its way out
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written anyway
            pass
    os._exit(code)


def _report_error(err: SohoaError, lang: str, json_out: bool) -> None:
    if json_out:
        print(json.dumps(err.to_dict(), ensure_ascii=False))
    message = err.message("vi" if lang == "vi" else "en")
    print(f"sohoa: {message}", file=sys.stderr)


def usage_error(detail: str) -> UsageError:
    return UsageError(detail=detail)


if __name__ == "__main__":
    entry()
