"""``sohoa token``: API tokens for the web service (stored hashed; the secret is printed once).

    sohoa token create --role clerk|system|admin [--name N]
    sohoa token list [--json]
    sohoa token revoke ID|PREFIX

Roles: clerk (read, verify, attach), system (also create dossiers: the one-stop system), admin (also
manage tokens). The secret goes to stdout only, on ``create``; keep it like a password.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from sohoa.cli.commands.records_cli import _nested_common  # global options after the action, as in `sohoa db`

if TYPE_CHECKING:
    from sohoa.config import Settings

# The roles, spelled here so that building the parser does not load SQLAlchemy; a test keeps them
# equal to ``sohoa.web.tokens.ROLES``.
ROLES = ("clerk", "system", "admin")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("token", help="API tokens of the web service (create, list, revoke)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="token_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create", help="make a token and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="", help="who or what uses it, e.g. 'Quầy 1' or 'iGate'")
    _nested_common(create)
    listing = sub.add_parser("list", help="tokens (never their secrets)")
    _nested_common(listing)
    revoke = sub.add_parser("revoke", help="revoke by id or by the prefix shown in the list")
    revoke.add_argument("ident", metavar="ID|PREFIX")
    _nested_common(revoke)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.records import Records
    from sohoa.web.tokens import Tokens

    with Records.open(settings.records, settings.data_dir) as records:
        tokens = Tokens(records)
        if args.token_command == "create":
            info, secret = tokens.create(args.role, args.name)
            if args.json:
                print(json.dumps(info.to_dict() | {"token": secret}, ensure_ascii=False))
            else:
                print(secret)
                print(f"# token {info.id} ({info.role}, {info.name}): shown once, store it now", file=sys.stderr)
            return 0
        if args.token_command == "list":
            items = tokens.list()
            if args.json:
                print(json.dumps([t.to_dict() for t in items], ensure_ascii=False))
            for t in items if not args.json else ():
                state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
                used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
                print(f"{t.id:>4}  {t.prefix}…  {t.role:<6}  {state:<24}  last used {used}  {t.name}")
            return 0
        info = tokens.revoke(args.ident)
        if args.json:
            print(json.dumps(info.to_dict(), ensure_ascii=False))
        else:
            print(f"token {info.id} ({info.prefix}…, {info.role}, {info.name}) revoked")
        return 0
