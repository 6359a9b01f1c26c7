"""API tokens: created once, shown once, stored only as a SHA-256 hash, limited by a role.

Why a plain SHA-256 (no salt, no slow hash): the secret is 256 random bits made here, not a password a
person chose, so there is nothing to brute-force and a fast hash lets every request be checked with one
indexed lookup. The first characters (``prefix``) are kept in clear so ``sohoa token list`` can name a
token without ever being able to show it again. Revoked tokens stay in the table (who had access when).
Roles: ``clerk`` reads, verifies and attaches; ``system`` (other software, e.g. the one-stop system)
also creates dossiers; ``admin`` also manages tokens. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sohoa.common.errors import RecordsError
from sohoa.common.messages import N_, _
from sohoa.database.base import Base, UTCDateTime, utcnow
from sohoa.database.engine import translate_errors, writer
from sohoa.records.service import Records

ROLES: tuple[str, ...] = ("clerk", "system", "admin")
RANK = {"clerk": 0, "system": 1, "admin": 2}
TOKEN_PREFIX = "sohoa_"
PREFIX_CHARS = 12  # "sohoa_" + 6 random characters: enough to tell tokens apart in a listing
LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write a row on every request


class TokenError(RecordsError):
    code = "token_invalid"
    exit_code = 79
    text = N_("API token: {detail}")


class TokenNotFound(RecordsError):
    code = "token_not_found"
    exit_code = 79
    text = N_("API token {what} not found.")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class TokenInfo:
    """A token as callers see it: never the secret nor its hash."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, role: str) -> bool:
        """True when this token's role is ``role`` or above (clerk < system < admin)."""
        return self.active and RANK[self.role] >= RANK[role]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "prefix": self.prefix,
                "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.role, row.prefix, row.created_at, row.last_used_at, row.revoked_at)


class Tokens:
    """Token operations over an open ``Records`` (same engine, same transaction rules)."""

    def __init__(self, records: Records) -> None:
        self.engine = records.engine
        self.where = records.where

    def _session(self, *, write: bool) -> Session:
        return Session(writer(self.engine) if write else self.engine, expire_on_commit=False)

    def create(self, role: str, name: str = "") -> tuple[TokenInfo, str]:
        """A new token of ``role``; returns its info and the secret, which is never retrievable again."""
        if role not in ROLES:
            raise TokenError(detail=_("role must be one of {roles}, not {role!r}", roles=", ".join(ROLES), role=role))
        name = (name or role).strip()[:120]
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(name=name, role=role, prefix=secret[:PREFIX_CHARS], token_hash=hash_token(secret),
                       created_at=utcnow())
        with translate_errors(self.where), self._session(write=True) as s, s.begin():
            s.add(row)
            s.flush()
            return _info(row), secret

    def list(self, *, include_revoked: bool = True) -> list[TokenInfo]:
        with translate_errors(self.where), self._session(write=False) as s:
            stmt = select(ApiToken).order_by(ApiToken.id)
            if not include_revoked:
                stmt = stmt.where(ApiToken.revoked_at.is_(None))
            return [_info(r) for r in s.execute(stmt).scalars()]

    def get(self, token_id: int) -> TokenInfo | None:
        with translate_errors(self.where), self._session(write=False) as s:
            row = s.get(ApiToken, token_id)
            return None if row is None else _info(row)

    def revoke(self, ident: str | int) -> TokenInfo:
        """Revoke by id or by the prefix shown in the listing; revoking twice keeps the first time."""
        with translate_errors(self.where), self._session(write=True) as s, s.begin():
            row = self._find(s, ident)
            if row is None:
                raise TokenNotFound(what=str(ident))
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            s.flush()
            return _info(row)

    def _find(self, s: Session, ident: str | int) -> ApiToken | None:
        text = str(ident).strip()
        if text.isdigit():
            return s.get(ApiToken, int(text))
        if len(text) < 8:
            return None
        rows = s.execute(select(ApiToken).where(ApiToken.prefix == text[:PREFIX_CHARS])).scalars().all()
        return rows[0] if len(rows) == 1 else None

    def authenticate(self, secret: str) -> TokenInfo | None:
        """The active token with this secret, or None; updates ``last_used_at`` at most once a minute."""
        if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = hash_token(secret)
        with translate_errors(self.where), self._session(write=False) as s:
            row = s.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
            if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
                return None
            info = _info(row)
        now = utcnow()
        if info.last_used_at is None or now - info.last_used_at > LAST_USED_RESOLUTION:
            with translate_errors(self.where), self._session(write=True) as s, s.begin():
                fresh = s.get(ApiToken, info.id)
                if fresh is not None:
                    fresh.last_used_at = now
        return info
