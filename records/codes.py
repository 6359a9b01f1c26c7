"""Dossier codes: validate ``<unit code>-YYMMDD-NNNN`` and make new ones.

Why here and not in the database: the message must tell a clerk the expected format with an example,
and the unit-code length limit and real-date check are not expressible in a portable SQL constraint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sohoa.common.messages import _
from sohoa.config.records import RecordsSettings
from sohoa.records.errors import InvalidDossierCode


@dataclass(frozen=True)
class ParsedCode:
    code: str
    unit: str
    received: date
    seq: int


@lru_cache(maxsize=16)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def parse_code(code: str, settings: RecordsSettings) -> ParsedCode:
    """Split and check a dossier code; raise ``InvalidDossierCode`` naming the expected format."""
    example = settings.dossier_code_example
    value = code.strip()
    match = _compiled(settings.dossier_code_pattern).fullmatch(value)
    if match is None:
        raise InvalidDossierCode(value=code, detail=_("does not match the pattern"), example=example)
    unit = match.group("unit")
    if len(unit) > settings.unit_code_max_length:
        raise InvalidDossierCode(
            value=code, detail=_("unit code longer than {limit} characters", limit=settings.unit_code_max_length),
            example=example,
        )
    try:
        received = datetime.strptime(match.group("date"), "%y%m%d").date()
    except ValueError:
        raise InvalidDossierCode(value=code, detail=_("the YYMMDD part is not a real date"), example=example) from None
    seq = int(match.group("seq"))
    if seq == 0:
        raise InvalidDossierCode(value=code, detail=_("the sequence number starts at 1"), example=example)
    return ParsedCode(code=value, unit=unit, received=received, seq=seq)


def make_code(unit: str, received: date, seq: int, settings: RecordsSettings) -> str:
    """Build a code from its parts and check it against the configured pattern."""
    if seq >= 10**settings.sequence_digits:
        raise InvalidDossierCode(
            value=f"{unit}-{received:%y%m%d}-{seq}", detail=_("daily sequence exhausted"),
            example=settings.dossier_code_example,
        )
    code = f"{unit}-{received:%y%m%d}-{seq:0{settings.sequence_digits}d}"
    parse_code(code, settings)
    return code
