"""Who may do what: API tokens (Bearer), the page session (signed cookie), CSRF on form posts.

Why the page session holds only a token id: a revoked token must end the clerk's session on the next
click, so each request re-reads the token row (one indexed lookup) instead of trusting the cookie.
Why CSRF tokens on top of SameSite=Strict cookies: older counter-PC browsers ignore SameSite, and a
per-session random value checked in every form post costs nothing.
The session secret lives in a file created 0600 on first run: never in the config, logs or pages.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

from fastapi import Request

from sohoa.common.atomic import write_bytes_atomic
from sohoa.common.errors import ConfigError
from sohoa.common.messages import N_, _
from sohoa.common.reasons import foreign
from sohoa.web.errors import AuthRequired, CsrfFailed, Forbidden
from sohoa.web.tokens import TokenInfo, Tokens

log = logging.getLogger(__name__)

#: what each role may do, as the Forbidden sentence names it
ACTIONS = {"clerk": N_("read, verify and attach"), "system": N_("create dossiers"), "admin": N_("manage API tokens")}


def session_secret(path: Path) -> str:
    """Read the secret, creating it (0600, written whole, never replacing another's) on first run."""

    def unusable(exc: OSError) -> ConfigError:
        return ConfigError(path=path, detail=_("cannot create the session secret: {reason}", reason=foreign(exc)))

    if not path.exists():
        try:
            write_bytes_atomic(path, secrets.token_hex(32).encode("ascii"), mode=0o600, exclusive=True,
                               make_parents=True, on_error=unusable)
        except FileExistsError:
            pass  # another worker created it first: use that one
        else:
            log.info("created the web session secret %s (0600)", path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("session secret %s was readable by others (%o); tightened to 0600", path, mode)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise ConfigError(path=path, detail=_("the session secret file is too short; delete it to regenerate"))
    return secret


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_token(request: Request, tokens: Tokens) -> TokenInfo:
    """The caller's token from ``Authorization: Bearer``, or from the page session (same-origin JS)."""
    secret = bearer(request)
    info = tokens.authenticate(secret) if secret else session_token(request, tokens)
    if info is None:
        raise AuthRequired()
    return info


def session_token(request: Request, tokens: Tokens) -> TokenInfo | None:
    token_id = request.session.get("tid")
    if not isinstance(token_id, int):
        return None
    info = tokens.get(token_id)
    if info is None or not info.active:
        request.session.clear()
        return None
    return info


def require(info: TokenInfo, role: str) -> None:
    if not info.allows(role):
        raise Forbidden(role=info.role, action=_(ACTIONS[role]))


def csrf_token(request: Request) -> str:
    """The session's CSRF value, created when first needed (the login form needs one too)."""
    value = request.session.get("csrf")
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        request.session["csrf"] = value
    return value


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed()
