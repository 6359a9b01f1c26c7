"""Settings of the result-data extraction (Decree 30/2020 fields read from the OCR words and their boxes).

Why a list of agencies: OCR slips in an agency's name ("UY BAN NHAN DAN TINH QUANG TRl") are corrected
by fuzzy matching against the names the province actually uses, and a name that matches nothing well
lowers the field's confidence instead of being filed as read.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExtractSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Extract the Decree-30 fields of result documents")
    agencies: list[str] = Field(default_factory=list, description="The province's agency names as they are "
                                "written in headers (upper case, with marks); OCR'd names are matched to them")
    review_below: float = Field(0.8, ge=0, le=1, description="A field with a lower confidence puts the "
                                "document on the review queue")
    agency_min_score: float = Field(85.0, ge=0, le=100, description="rapidfuzz score (0-100) an OCR'd agency "
                                    "name needs to be replaced by the listed name")
