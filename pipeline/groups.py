"""STAND-IN for the lead's page-group primitive (same interface); replaced when main's version is merged.

A document's pages [first, first+count) are processed into one group PDF (``build_pdfa`` over the group's
pages) plus its JSON outcome, both under fixed names in the caller's folder; the join copies the groups'
pages in order into one PDF/A with the document's metadata, and runs the PDF/A gate on it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pikepdf

from sohoa.common.atomic import atomic_writer, write_bytes_atomic
from sohoa.common.errors import ConformanceError, InputAllBlank, ProcessingError
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor
from sohoa.pipeline.run import PageReport, ProcessResult, StepClock, _extract, _process_page
from sohoa.stages import pdfa
from sohoa.stages.assemble import _producer, build_pdfa
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.ingest import scan_inputs
from sohoa.stages.model import DocumentMeta, OcrLine, OcrWord, PageOcr


def _report(data: dict[str, Any]) -> PageReport:
    layout = data.pop("layout")
    size = data.pop("size")
    report = PageReport(**data)
    if layout is not None:
        lines = [OcrLine(words=[OcrWord(text=w["text"], box=tuple(w["box"]), confidence=w["confidence"])
                                for w in line["words"]], box=tuple(line["box"]), baseline=tuple(line["baseline"]))
                 for line in layout["lines"]]
        report.layout = PageOcr(lines=lines, languages=layout["languages"], seconds=layout["seconds"],
                                failed=layout["failed"])
    report.size = tuple(size) if size is not None else None  # type: ignore[assignment]
    return report


@dataclass
class GroupOutcome:
    first: int
    count: int
    path: Path
    pages: list[PageReport]

    def to_json(self) -> str:
        return json.dumps({"first": self.first, "count": self.count, "path": str(self.path),
                           "pages": [dataclasses.asdict(p) for p in self.pages]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GroupOutcome:
        data = json.loads(text)
        return cls(first=data["first"], count=data["count"], path=Path(data["path"]),
                   pages=[_report(p) for p in data["pages"]])


def count_pages(inputs: Sequence[Path], settings: Settings, *, redo_ocr: bool = False) -> int:
    return len(scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr))


def process_group(inputs: Sequence[Path], settings: Settings, *, first: int, count: int, folder: Path,
                  redo_ocr: bool = False, layout_pages: Collection[int] = (),
                  executor: PageExecutor | None = None) -> GroupOutcome:
    refs = scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr)[first:first + count]
    path = folder / f"group-{first:06d}.pdf"
    with tempfile.TemporaryDirectory(prefix=f".group-{first:06d}.", suffix=".spool", dir=folder) as spool:
        jobs = [(ref, settings, Path(spool), first + n in layout_pages) for n, ref in enumerate(refs)]
        outcomes = (list(executor.map(_process_page, jobs, label=str(path))) if executor is not None
                    else [_process_page(job) for job in jobs])
        prepared = [o.prepared for o in outcomes if o.prepared is not None]
        if prepared:
            with atomic_writer(path) as (stream, _temp):
                build_pdfa(prepared, DocumentMeta(), settings.output, stream)
    outcome = GroupOutcome(first=first, count=count, path=path, pages=[o.report for o in outcomes])
    write_bytes_atomic(folder / f"group-{first:06d}.json", outcome.to_json().encode("utf-8"))
    return outcome


def join_groups(groups: Sequence[GroupOutcome], output: Path, settings: Settings, *,
                meta: DocumentMeta | None = None, sidecar: Path | None = None,
                extract_layout: bool = False) -> ProcessResult:
    started = time.perf_counter()
    clock = StepClock(started)
    ordered = sorted(groups, key=lambda g: g.first)
    covered = [p for g in ordered for p in range(g.first, g.first + g.count)]
    if covered != list(range(len(covered))):
        raise ProcessingError(path=output, stage="join", detail=_("the page groups do not cover the document"))
    reports = [p for g in ordered for p in g.pages]
    metadata = _extract(reports, settings) if extract_layout else None
    if not any(not r.dropped for r in reports):
        raise InputAllBlank(path=output)
    document_meta = meta or DocumentMeta()
    if metadata is not None and metadata.fields:
        read = {name: f.value for name, f in metadata.fields.items()}
        document_meta = replace(document_meta, result_data={**read, **document_meta.result_data})
    sources = [pikepdf.open(g.path) for g in ordered if any(not r.dropped for r in g.pages)]
    try:
        with atomic_writer(output) as (stream, temp):
            pdf = pikepdf.new()
            for source in sources:
                pdf.pages.extend(source.pages)
            pdfa.add_output_intent(pdf)
            pdfa.add_metadata(pdf, pdfa.doc_info(document_meta, creator=settings.output.creator,
                                                 producer=_producer(), now=datetime.now()))
            pdf.save(stream, force_version="1.7", compress_streams=False, fix_metadata_version=False,
                     object_stream_mode=pikepdf.ObjectStreamMode.disable, deterministic_id=True)
            stream.flush()
            clock.step("assemble")
            violations = check_pdfa(temp)
            clock.step("pdfa")
            if violations:
                problems = "; ".join(f"{v.clause}: {v.message}" for v in violations[:5])
                clauses = ", ".join(dict.fromkeys(v.clause for v in violations[:5]))
                raise ConformanceError(path=output, detail=_("clauses {clauses} ({problems})", clauses=clauses,
                                                             problems=foreign(problems)))
    finally:
        for source in sources:
            source.close()
    data_hash, size = sha256_file(output)
    if sidecar is not None:
        write_bytes_atomic(sidecar, "\f".join(r.text for r in reports if not r.dropped).encode("utf-8"))
    clock.step("write")
    return ProcessResult(output=output, pages=reports, sha256=data_hash, size=size,
                         seconds=time.perf_counter() - started, warnings=[w for r in reports for w in r.warnings],
                         timings=clock.timings, metadata=metadata)
