"""The one place where stages are sequenced: ingest → clean → OCR → prepare → assemble → check → write.

Per page (in a worker): load → clean → (blank policy) → OCR → prepare (encode image, lay text). Only
the small ``PreparedPage`` and a summary travel back, so memory stays flat however long the document.
In the calling process: check all inputs first (bad input never produces partial output), assemble the
PDF/A into a temp file beside the target, run the conformance self-check on it, rename atomically.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sohoa.common.atomic import atomic_writer, check_writable_dir, write_bytes_atomic
from sohoa.common.errors import ConformanceError, InputAllBlank
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor, page_workers
from sohoa.stages.assemble import PreparedPage, build_pdfa, kept_page, prepare_page, sidecar_text, spool_page
from sohoa.stages.clean import clean_page
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.extract import Extracted, extract
from sohoa.stages.ingest import PageRef, existing_text, load_page, scan_inputs
from sohoa.stages.model import DocumentMeta, PageOcr
from sohoa.stages.ocr import get_engine, ocr_page

log = logging.getLogger("sohoa.pipeline")


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
class ProcessResult:
    output: Path
    pages: list[PageReport]
    sha256: str
    size: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    metadata: Extracted | None = None  # the Decree-30 fields, when extraction was asked for
    # Wall seconds of the document's own steps in the calling process (issue 14: where the fixed cost
    # of a small document goes): ingest (checking every input), pages (the page pool, start to last
    # page), assemble, pdfa (the conformance check), write (hash, sidecar). Per-page ones are in pages.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return sum(1 for p in self.pages if not p.dropped)

    @property
    def mean_confidence(self) -> float | None:
        values = [p.mean_confidence for p in self.pages if p.mean_confidence is not None]
        return sum(values) / len(values) if values else None

    def low_confidence_pages(self, threshold: float) -> list[int]:
        kept = [p for p in self.pages if not p.dropped]
        return [n + 1 for n, p in enumerate(kept)
                if p.ocr_failed or (p.mean_confidence is not None and p.mean_confidence < threshold)]

    def to_dict(self, threshold: float) -> dict[str, object]:
        return {
            "output": str(self.output),
            "sha256": self.sha256,
            "size": self.size,
            "pages": self.page_count,
            "seconds": round(self.seconds, 3),
            "mean_confidence": None if self.mean_confidence is None else round(self.mean_confidence, 1),
            "low_confidence_pages": self.low_confidence_pages(threshold),
            "warnings": self.warnings,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "page_details": [
                {"label": p.label, "words": p.words, "mean_confidence": p.mean_confidence,
                 "ocr_failed": p.ocr_failed, "blank": p.blank, "dropped": p.dropped,
                 "rotation": p.rotation, "skew": round(p.skew, 2), "warnings": p.warnings,
                 "timings": {k: round(v, 3) for k, v in p.timings.items()}}
                for p in self.pages
            ],
        }


@dataclass
class _PageOutcome:
    report: PageReport
    prepared: PreparedPage | None


def _process_page(job: tuple[PageRef, Settings, Path, bool]) -> _PageOutcome:
    """Worker side: one page through every per-page stage; its image bytes go to the spool folder.
    The last item says whether the page's OCR layout comes back too (for the data extraction)."""
    ref, settings, spool, keep_layout = job
    if ref.keep_as_is:
        label = f"{ref.path.name}#{ref.index + 1}"
        text = existing_text(ref)
        report = PageReport(label=label, text=text, words=len(text.split()),
                            warnings=[f"{label}: already has text; kept as it is, not OCR'd"])
        return _PageOutcome(report, kept_page(label, ref.path, ref.index, text))
    started = time.perf_counter()
    page = load_page(ref, settings.ingest)
    page.timings["load"] = time.perf_counter() - started
    page = clean_page(page, settings.clean)
    report = PageReport(label=page.label, blank=page.blank, rotation=page.rotation, skew=page.skew)
    if page.blank and settings.clean.blank_pages == "drop":
        report.dropped = True
        report.warnings = [*page.warnings, f"{page.label}: blank page dropped"]
        return _PageOutcome(report, None)
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
    return _PageOutcome(report, prepared)


def process_document(
    inputs: Sequence[Path],
    output: Path,
    settings: Settings,
    *,
    meta: DocumentMeta | None = None,
    redo_ocr: bool = False,
    sidecar: Path | None = None,
    executor: PageExecutor | None = None,
    extract_layout: bool = False,
) -> ProcessResult:
    """Turn the scans in ``inputs`` (pages of one document) into one PDF/A-2B at ``output``.
    ``extract_layout``: also bring back the OCR layout of the pages the result-data extraction reads."""
    started = time.perf_counter()
    clock = StepClock(started)
    check_writable_dir(output)
    refs = scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr)
    clock.step("ingest")
    own_executor = executor is None
    runner = executor or PageExecutor(page_workers(settings.ocr.workers, len(refs)))
    # Page images wait on disk beside the output (same file system, dot-named so watchers skip it).
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", suffix=".spool", dir=output.parent) as spool:
        wanted = {0, len(refs) - 2, len(refs) - 1} if extract_layout else set()
        jobs = [(ref, settings, Path(spool), i in wanted) for i, ref in enumerate(refs)]
        try:
            outcomes = list(runner.map(_process_page, jobs, label=str(output)))
        finally:
            if own_executor:
                runner.close()
        clock.step("pages")
        prepared = [o.prepared for o in outcomes if o.prepared is not None]
        reports = [o.report for o in outcomes]
        metadata = _extract(reports, settings) if extract_layout else None
        if not prepared:
            raise InputAllBlank(path=inputs[0])
        document_meta = meta or DocumentMeta()
        if metadata is not None and metadata.fields:  # the XMP carries the data, the caller's values winning
            read = {name: f.value for name, f in metadata.fields.items()}
            document_meta = replace(document_meta, result_data={**read, **document_meta.result_data})
        with atomic_writer(output) as (stream, temp):
            build_pdfa(prepared, document_meta, settings.output, stream)
            stream.flush()
            clock.step("assemble")
            violations = check_pdfa(temp)
            clock.step("pdfa")
            if violations:
                problems = "; ".join(f"{v.clause}: {v.message}" for v in violations[:5])
                clauses = ", ".join(dict.fromkeys(v.clause for v in violations[:5]))
                raise ConformanceError(path=output, detail=_("clauses {clauses} ({problems})", clauses=clauses,
                                                             problems=foreign(problems)))
    data_hash, size = sha256_file(output)
    if sidecar is None and settings.output.sidecar_text:
        sidecar = output.with_suffix(".txt")
    if sidecar is not None:
        write_bytes_atomic(sidecar, sidecar_text(prepared).encode("utf-8"))
    warnings = [w for r in reports for w in r.warnings]
    clock.step("write")
    return ProcessResult(output=output, pages=reports, sha256=data_hash, size=size,
                         seconds=time.perf_counter() - started, warnings=warnings, timings=clock.timings,
                         metadata=metadata)


def _extract(reports: list[PageReport], settings: Settings) -> Extracted:
    """The Decree-30 fields from the pages that came back with their layout (then dropped: not kept)."""
    kept = [r for r in reports if not r.dropped]
    chosen = [(n, r) for n, r in enumerate(kept, start=1) if r.layout is not None and r.size is not None]
    found = extract([(r.layout, r.size) for _, r in chosen], settings.extract,  # type: ignore[misc]
                    numbers=[n for n, _ in chosen]) if chosen else Extracted()
    found.page_sizes = {n: r.size for n, r in chosen if r.size is not None}
    for report in reports:
        report.layout = None
    return found


class StepClock:
    """Wall seconds per named step, each from the end of the one before (steps may repeat: they add up)."""

    def __init__(self, started: float | None = None) -> None:
        self.mark = time.perf_counter() if started is None else started
        self.timings: dict[str, float] = {}

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.mark
        self.mark = now
