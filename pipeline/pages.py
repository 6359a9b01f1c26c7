"""One page through every per-page stage, in a page worker: load → clean → (blank policy) → OCR → prepare.

Why a module of its own: the local pool (``pipeline.run``) and a cluster's page-group task
(``pipeline.groups``) run exactly this, and a page's report must survive a trip through JSON when a
group is processed on another machine (``report_to_dict``/``report_from_dict``).
Only the small ``PreparedPage`` (its image bytes spooled to disk) and the report travel back.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sohoa.config.settings import Settings
from sohoa.stages.assemble import PreparedPage, kept_page, prepare_page, spool_page
from sohoa.stages.clean import clean_page
from sohoa.stages.ingest import PageRef, existing_text, load_page
from sohoa.stages.model import OcrLine, OcrWord, PageOcr
from sohoa.stages.ocr import get_engine, ocr_page


@dataclass
class PageReport:
    """What happened to one page; JSON-friendly."""

    label: str
    text: str = ""
    words: int = 0
    mean_confidence: float | None = None
    ocr_failed: str | None = None
    blank: bool = False
    dropped: bool = False
    rotation: int = 0
    skew: float = 0.0
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # the OCR lines with their boxes and the upright page size, kept only for the pages the result-data
    # extraction reads (the first, and the last two: a blank back page may follow the signature)
    layout: PageOcr | None = None
    size: tuple[int, int] | None = None


@dataclass
class PageOutcome:
    report: PageReport
    prepared: PreparedPage | None


def process_page(job: tuple[PageRef, Settings, Path, bool]) -> PageOutcome:
    """Worker side: one page through every per-page stage; its image bytes go to the spool folder.
    The last item says whether the page's OCR layout comes back too (for the data extraction)."""
    ref, settings, spool, keep_layout = job
    if ref.keep_as_is:
        label = f"{ref.path.name}#{ref.index + 1}"
        text = existing_text(ref)
        report = PageReport(label=label, text=text, words=len(text.split()),
                            warnings=[f"{label}: already has text; kept as it is, not OCR'd"])
        return PageOutcome(report, kept_page(label, ref.path, ref.index, text))
    started = time.perf_counter()
    page = load_page(ref, settings.ingest)
    page.timings["load"] = time.perf_counter() - started
    page = clean_page(page, settings.clean)
    report = PageReport(label=page.label, blank=page.blank, rotation=page.rotation, skew=page.skew)
    if page.blank and settings.clean.blank_pages == "drop":
        report.dropped = True
        report.warnings = [*page.warnings, f"{page.label}: blank page dropped"]
        return PageOutcome(report, None)
    if page.blank:
        page.ocr = None
        if settings.clean.blank_pages == "mark":
            page.warnings.append(f"{page.label}: blank page")
    else:
        page.ocr = ocr_page(page, settings.ocr, engine=get_engine(settings.ocr))
        page.timings["ocr"] = page.ocr.seconds
        report.text = page.ocr.text()
        report.words = len(page.ocr.words)
        report.mean_confidence = page.ocr.mean_confidence
        report.ocr_failed = page.ocr.failed
        if page.ocr.failed:
            page.warnings.append(f"{page.label}: OCR failed ({page.ocr.failed}); page kept as image only")
        elif keep_layout:
            report.layout = page.ocr
            report.size = page.upright_size()
    mark = time.perf_counter()
    prepared = spool_page(prepare_page(page, settings.output), spool)
    page.timings["prepare"] = time.perf_counter() - mark
    report.warnings = list(page.warnings)
    report.timings = dict(page.timings)
    return PageOutcome(report, prepared)


def report_to_dict(report: PageReport) -> dict[str, Any]:
    """Everything in the report, layout included, as JSON types."""
    return asdict(report)


def report_from_dict(data: dict[str, Any]) -> PageReport:
    """The inverse of ``report_to_dict`` (tuples come back from JSON lists)."""
    values = dict(data)
    layout = values.pop("layout", None)
    size = values.pop("size", None)
    report = PageReport(**values)
    report.size = (int(size[0]), int(size[1])) if size else None
    if layout is not None:
        lines = [OcrLine(words=[OcrWord(text=w["text"], box=_box(w["box"]), confidence=w["confidence"])
                                for w in line["words"]],
                         box=_box(line["box"]), baseline=(line["baseline"][0], line["baseline"][1]))
                 for line in layout["lines"]]
        report.layout = PageOcr(lines=lines, languages=layout["languages"], seconds=layout["seconds"],
                                failed=layout["failed"])
    return report


def _box(values: list[int]) -> tuple[int, int, int, int]:
    left, top, right, bottom = (int(v) for v in values)
    return left, top, right, bottom
