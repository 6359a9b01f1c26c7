"""``sohoa serve``: the web service for the counter (pages in Vietnamese + JSON API, OpenAPI at /docs).

    sohoa serve [--host 127.0.0.1] [--port 8470] [--workers N]

Binds to 127.0.0.1 by default; put nginx with TLS in front for other PCs (docs/web.md). Needs at least
one token: ``sohoa token create --role clerk --name "Quầy 1"``. The only module that imports ``web``.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from sohoa.common.errors import MissingDependency
from sohoa.common.messages import _

if TYPE_CHECKING:
    from sohoa.config import Settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="web pages and JSON API for the counter",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=None, help="bind address (default [web] host: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="bind port (default [web] port: 8470)")
    parser.add_argument("--workers", type=int, default=None, help="uvicorn worker processes (default [web] workers)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        import uvicorn
    except ImportError:
        raise MissingDependency(what="uvicorn", detail=_("the web server is not installed"),
                                fix="bash scripts/setup.sh (or .venv/bin/pip install uvicorn)") from None
    from sohoa.web.app import create_app

    web = settings.web
    updates = {k: v for k, v in (("host", args.host), ("port", args.port), ("workers", args.workers)) if v is not None}
    web = web.model_copy(update=updates)
    app = create_app(settings, web)  # opens the database and the session secret now: errors before binding
    if web.workers > 1:
        log.warning("workers > 1 needs an import string; serving with one process (run uvicorn --factory for more)")
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    log.warning("sohoa serve on http://%s:%s (pages: /verify, API: /api/v1, docs: /docs)", web.host, web.port)
    uvicorn.run(app, host=web.host, port=web.port, proxy_headers=True, forwarded_allow_ips=web.forwarded_allow_ips,
                server_header=False, access_log=args.verbose > 0, log_level="warning")
    return 0
