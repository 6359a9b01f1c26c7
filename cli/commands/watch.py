"""``sohoa watch``: run the watch-folder daemon until SIGTERM/SIGINT (systemd: config/sohoa-watch.service)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sohoa.config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "watch",
        help="watch scanner folders: stable scans -> signed PDF/A attached to their dossiers",
        description="Runs until stopped. Folders, routing, signing profiles and the health port come from "
        "the [watch] section of the config; --folder adds one more inbox (grouping 'file').",
    )
    parser.add_argument("--folder", type=Path, action="append", default=[], metavar="DIR",
                        help="watch this folder too (one file = one document); repeatable")
    parser.add_argument("--sign", action="append", default=[], metavar="PROFILE",
                        help="signing profile for the --folder inboxes; repeatable")
    parser.add_argument("--polling", action="store_true", help="poll the --folder inboxes (network shares)")
    parser.add_argument("--health-port", type=_port, default=None, metavar="PORT",
                        help='health/metrics port (0 = off, "any" = a free port the system picks; default from '
                        "config)")
    parser.set_defaults(func=run)


def _port(text: str) -> int | str:
    if text == "any":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'not a port number or "any": {text!r}') from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.config.watch import WatchFolder
    from sohoa.runners.watch.daemon import Daemon

    watch = settings.watch.model_copy(deep=True)
    if args.folder:
        extra = [WatchFolder(path=p.resolve(), sign_profiles=args.sign, polling=args.polling) for p in args.folder]
        known = {str(settings.resolve(f.path).resolve()) for f in watch.folders}
        watch.folders.extend(f for f in extra if str(f.path) not in known)
    if args.health_port is not None:
        watch.health_port = args.health_port
    if not args.quiet:
        logging.getLogger("sohoa.watch").setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
    return Daemon(settings, watch).run()
