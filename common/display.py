"""How a person, an organisation and a moment are written for a clerk: "Nguyễn Thị Số Hóa — Trung tâm
PVHCC", "15:54 ngày 01/12/2026".

Why one place: certificates name people as distinguished names ("Common Name: …; Organization: …;
Country: VN"), and times travel as ISO 8601 with an offset. Both are right for JSON and audits, and
wrong on a counter screen, a printed report or a terminal line. The web pages, ``sohoa verify`` and
``sohoa process`` all write them through these functions, so the clerk reads the same words everywhere.
Older records stored the whole distinguished name; ``person`` shortens those too.
"""

from __future__ import annotations

import datetime as dt
import re

from sohoa.common.messages import N_, Lang, translate

# asn1crypto's human_friendly names ("Common Name: X; Organization: Y" for a subject, ", " between
# attributes of an issuer line) and RFC 4514 strings ("CN=X,O=Y,C=VN").
_FRIENDLY = re.compile(r"(Common Name|Organization|Organizational Unit|Country|Locality|State/Province|"
                       r"Serial Number|Email Address|Title|Given Name|Surname)\s*:\s*")
_RFC4514 = re.compile(r"(?:^|,)\s*(CN|O|OU|C|L|ST|SERIALNUMBER|E|T)=", re.IGNORECASE)

ROLES = {"digitizer": N_("digitizer"), "organization": N_("organisation"), "copy": N_("certified copy")}
TIME_ON_DATE = N_("{time}, {date}")  # Vietnamese: "{time} ngày {date}"
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def name_parts(text: str | None) -> dict[str, str]:
    """The attributes of a distinguished name written either way; {} for a plain name."""
    if not text:
        return {}
    if _FRIENDLY.search(text):
        pieces = _FRIENDLY.split(text)[1:]
        keys = {"Common Name": "cn", "Organization": "o", "Organizational Unit": "ou", "Country": "c"}
        return {keys.get(k, k): v.strip(" ;,") for k, v in zip(pieces[::2], pieces[1::2], strict=False)}
    if _RFC4514.search(text):
        pieces = _RFC4514.split(text)[1:]
        return {k.lower(): v.strip(" ,") for k, v in zip(pieces[::2], pieces[1::2], strict=False)}
    return {}


def person(name: str | None, organization: str | None = None) -> str:
    """"Name — Organisation" from a common name and organisation, or from a distinguished name alone."""
    if not name:
        return organization or "-"
    parts = name_parts(name)
    if parts:
        name, organization = parts.get("cn") or parts.get("o") or name, organization or parts.get("o")
    if organization and organization != name:
        return f"{name} — {organization}"
    return name


def role(profile: str | None, lang: Lang) -> str:
    """A signing profile as the clerk calls it ("người số hóa", "cơ quan", …); other names as they are."""
    if not profile:
        return "-"
    return translate(ROLES[profile], lang) if profile in ROLES else profile


def moment(value: dt.datetime | str | None, lang: Lang) -> str:
    """A time in its own offset, as people write it: "15:54 ngày 01/12/2026" / "15:54, 01 Dec 2026"."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    date = f"{value:%d/%m/%Y}" if lang == "vi" else f"{value.day:02d} {MONTHS_EN[value.month - 1]} {value.year}"
    return translate(TIME_ON_DATE, lang, time=f"{value:%H:%M}", date=date)
