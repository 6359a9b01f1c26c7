"""An applicant's digitized results with their signature verdict: what ``sohoa results find`` and
``GET /api/v1/results`` answer.

Why in the pipeline layer: it joins the records' query (``records.results``) with ``signing.verify``,
which records may not import. Each stored file is verified as it is now (offline: only what it embeds),
because a certificate revoked since filing changes whether the result can be reused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sohoa.common.errors import InputError
from sohoa.config import Settings
from sohoa.records.results import OwnedResult, find_results
from sohoa.records.service import Records


def owned_results(records: Records, settings: Settings, applicant_id: str, *, doc_type: str | None = None,
                  valid_on: dt.date | None = None, offline: bool = True) -> list[dict[str, Any]]:
    """JSON-ready entries: fields, validity, and the signature verdict of each result."""
    from sohoa.signing.verify import verify

    day = valid_on or dt.date.today()
    entries: list[dict[str, Any]] = []
    found: list[OwnedResult] = find_results(records, applicant_id, doc_type=doc_type, valid_on=valid_on)
    for owned in found:
        entry = owned.to_dict(day)
        try:
            report = verify(owned.document.path, settings.signing, offline=offline)
            entry["signature"] = {"indication": report.indication, "sub_indication": report.sub_indication,
                                  "vi": report.sentence("vi"), "en": report.sentence("en")}
        except InputError as err:
            entry["signature"] = {"indication": None, "sub_indication": None, "vi": err.message("vi"),
                                  "en": err.message("en")}
        entries.append(entry)
    return entries
