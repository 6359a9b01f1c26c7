"""The one place where stages are sequenced: ingest → clean → OCR → prepare → assemble → check → write.

Per page (in a worker, ``pipeline.pages``): load → clean → (blank policy) → OCR → prepare (encode image,
lay text). Only the small ``PreparedPage`` (its image spooled to disk) and a report travel back.
In the calling process: check all inputs first (bad input never produces partial output), assemble the
PDF/A into a temp file beside the target, run the conformance self-check on it, rename atomically.

Memory stays flat however long the document: pages are assembled as they come back, in groups of at
most ``[output] group_pages`` pages (or ``GROUP_BYTES`` of images), each written to a group PDF in the
spool folder; a document of more than one group is joined by qpdf, which streams (``stages.join``).
A document of one group, the counter's case, is built in memory in one step as before.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from sohoa.common.atomic import atomic_writer, check_writable_dir, write_bytes_atomic
from sohoa.common.errors import ConformanceError, InputAllBlank
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor, page_workers
from sohoa.pipeline.pages import PageReport, process_page
from sohoa.stages.assemble import PreparedPage, build_group, build_pdfa
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.extract import Extracted, extract
from sohoa.stages.ingest import scan_inputs
from sohoa.stages.join import join_pdfa
from sohoa.stages.model import DocumentMeta

# A group is also cut at this many bytes of spooled images (see GroupWriter).
GROUP_BYTES = 48 * 2**20

log = logging.getLogger("sohoa.pipeline")


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
    step_file: bool = False,
) -> ProcessResult:
    """Turn the scans in ``inputs`` (pages of one document) into one PDF/A-2B at ``output``.
    ``extract_layout``: also bring back the OCR layout of the pages the result-data extraction reads.
    ``step_file``: ``output`` is a job's intermediate file (signed next, then deleted): its folder is not
    fsynced (``common.atomic``'s note on durability)."""
    started = time.perf_counter()
    clock = StepClock(started)
    check_writable_dir(output)
    refs = scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr)
    clock.step("ingest")
    own_executor = executor is None
    runner = executor or PageExecutor(page_workers(settings.ocr.workers, len(refs)))
    # Page images wait on disk beside the output (same file system, dot-named so watchers skip it).
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", suffix=".spool", dir=output.parent) as spool:
        wanted = layout_pages(len(refs)) if extract_layout else set()
        jobs = [(ref, settings, Path(spool), i in wanted) for i, ref in enumerate(refs)]
        groups = GroupWriter(Path(spool), pages=settings.output.group_pages, label=str(output))
        reports: list[PageReport] = []
        try:
            for outcome in runner.map(process_page, jobs, label=str(output)):
                reports.append(outcome.report)
                if outcome.prepared is not None:
                    groups.add(outcome.prepared)
        finally:
            if own_executor:
                runner.close()
        clock.step("pages")
        return assemble_output(groups, reports, output, settings, meta=meta, sidecar=sidecar,
                               extract_layout=extract_layout, clock=clock, label=inputs[0], step_file=step_file)


def layout_pages(count: int) -> set[int]:
    """The pages whose OCR layout the result-data extraction reads: the first and the last two
    (a blank back page may follow the signature)."""
    return {0, count - 2, count - 1} & set(range(count))


class GroupWriter:
    """Takes a document's prepared pages in order and writes every full group to a group PDF.

    Why bytes as well as pages: pikepdf holds a group's images in memory while it writes the group, so
    a group of large colour scans is cut earlier. The pages of a written group leave the spool.
    ``written``: group PDFs made elsewhere (a cluster's page-group tasks), in page order.
    """

    def __init__(self, folder: Path, *, pages: int = 1, label: str = "", written: Sequence[Path] = ()) -> None:
        self.folder = folder
        self.limit = max(1, pages)
        self.label = label
        self.pending: list[PreparedPage] = []
        self.pending_bytes = 0
        self.written: list[Path] = list(written)

    def add(self, prepared: PreparedPage) -> None:
        self.pending.append(prepared)
        spooled = prepared.image.spool if prepared.image is not None else None
        self.pending_bytes += spooled.stat().st_size if spooled is not None else 0
        if len(self.pending) >= self.limit or self.pending_bytes >= GROUP_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        target = self.folder / f"group-{len(self.written):06d}.pdf"
        with open(target, "wb") as stream:
            build_group(self.pending, stream, label=self.label)
        for page in self.pending:
            if page.image is not None and page.image.spool is not None:
                page.image.spool.unlink(missing_ok=True)
        self.written.append(target)
        self.pending, self.pending_bytes = [], 0

    @property
    def empty(self) -> bool:
        return not self.pending and not self.written

    def write(self, meta: DocumentMeta, settings: Settings, stream: BinaryIO) -> None:
        """The PDF/A of every page: one build while nothing was written yet, else the groups joined."""
        if not self.written:
            build_pdfa(self.pending, meta, settings.output, stream)
            return
        self.flush()
        join_pdfa(self.written, meta, settings.output, stream, scratch=self.folder, label=self.label)


def assemble_output(groups: GroupWriter, reports: list[PageReport], output: Path,
                    settings: Settings, *, meta: DocumentMeta | None, sidecar: Path | None, extract_layout: bool,
                    clock: StepClock, label: Path | str, step_file: bool = False) -> ProcessResult:
    """The document's tail, wherever its pages were processed: result data, PDF/A (one build, or the
    groups joined), the gate, the sidecar, the hash."""
    metadata = _extract(reports, settings) if extract_layout else None
    if groups.empty:
        raise InputAllBlank(path=label)
    document_meta = meta or DocumentMeta()
    if metadata is not None and metadata.fields:  # the XMP carries the data, the caller's values winning
        read = {name: f.value for name, f in metadata.fields.items()}
        document_meta = replace(document_meta, result_data={**read, **document_meta.result_data})
    with atomic_writer(output, sync_dir=not step_file) as (stream, temp):
        groups.write(document_meta, settings, stream)
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
        write_bytes_atomic(sidecar, sidecar_text(reports).encode("utf-8"))
    warnings = [w for r in reports for w in r.warnings]
    clock.step("write")
    return ProcessResult(output=output, pages=reports, sha256=data_hash, size=size,
                         seconds=time.perf_counter() - clock.started, warnings=warnings, timings=clock.timings,
                         metadata=metadata)


def sidecar_text(reports: Sequence[PageReport]) -> str:
    """Plain text of the kept pages, pages separated by form feed (as OCR tools do)."""
    return "\f".join(r.text for r in reports if not r.dropped)


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
        self.started = time.perf_counter() if started is None else started
        self.mark = self.started
        self.timings: dict[str, float] = {}

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.mark
        self.mark = now
