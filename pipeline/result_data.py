"""A result's data as it is filed: the values a manifest or sidecar gave win over extracted ones, and a
disagreement between the two is flagged for review, never dropped.

Why here and not in the extraction stage: the stage reads pages; what the center already knows about
the document (a batch manifest line, a watch-folder sidecar) belongs to the job. The filed record keeps
the extracted fields as read (value, confidence, page, box), which value was used, and the conflicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sohoa.stages.extract import Extracted
from sohoa.stages.extract_text import fold

EXTRACT_KINDS = frozenset({"result", "copy"})  # components are the citizen's papers, not Decree-30 documents


@dataclass
class ResultData:
    """What goes to the records (typed columns and the ``metadata`` JSON) and to ``--json``."""

    doc_number: str | None = None
    issue_date: dt.date | None = None
    issuing_agency: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def merge(extracted: Extracted | None, *, doc_number: str | None, issue_date: dt.date | None,
          issuing_agency: str | None) -> ResultData:
    """The manifest's values first, then the extracted ones; conflicts listed and put on review."""
    if extracted is None:
        return ResultData(doc_number, issue_date, issuing_agency)
    given = {"doc_number": doc_number, "issue_date": issue_date.isoformat() if issue_date else None,
             "issuing_agency": issuing_agency}
    data = extracted.to_dict()
    review = list(extracted.needs_review)
    conflicts: dict[str, dict[str, str]] = {}
    for name, value in given.items():
        found = extracted.fields.get(name)
        if value and found is not None and _differs(name, value, found.value):
            conflicts[name] = {"manifest": value, "extracted": found.value}
            if name not in review:
                review.append(name)
    data["needs_review"] = review
    if conflicts:
        data["conflicts"] = conflicts
    if extracted.problems:
        data["problems"] = dict(extracted.problems)

    def value_of(name: str) -> str | None:
        found = extracted.fields.get(name)
        return given[name] or (found.value if found is not None else None)

    date = value_of("issue_date")
    return ResultData(value_of("doc_number"), dt.date.fromisoformat(date) if date else None,
                      value_of("issuing_agency"), data)


def _differs(name: str, given: str, read: str) -> bool:
    """Whether two values disagree beyond how they are written (case, marks, spaces)."""
    if name == "issue_date":
        return given != read
    return "".join(fold(given).split()) != "".join(fold(read).split())
