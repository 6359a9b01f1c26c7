"""A document processed as page groups, possibly on several machines, then joined once in page order.

Why: an archival file of ~400 pages as one cluster task keeps one core busy while the others wait.
The batch runner cuts such a file into groups of ``[batch] split_pages`` pages; each group task runs
``process_group`` (pages inline in the task's process, the group PDF and its page reports written
under fixed names, atomically, so a redone group replaces its file and is never counted twice); the
join task runs ``join_groups`` (through ``pipeline.job.run_document_job(groups=...)``, which then signs
and attaches once). The reports travel as JSON, never as pickles: group folders are files on shared
storage.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from sohoa.common.atomic import atomic_writer, check_writable_dir, write_bytes_atomic
from sohoa.common.errors import InternalError, ProcessingError
from sohoa.common.messages import _
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor
from sohoa.pipeline.pages import PageReport, process_page, report_from_dict, report_to_dict
from sohoa.pipeline.run import GroupWriter, ProcessResult, StepClock, assemble_output
from sohoa.stages.assemble import build_group
from sohoa.stages.ingest import scan_inputs
from sohoa.stages.model import DocumentMeta

FORMAT = 1  # of the group's JSON file


@dataclass
class GroupOutcome:
    """What one page group produced: its PDF (None when every page of it was a dropped blank) and reports."""

    first: int  # index of the group's first page in the document (0-based)
    count: int  # pages in the group, dropped blank ones included
    path: Path | None
    pages: list[PageReport]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "first": self.first, "count": self.count,
                           "path": None if self.path is None else str(self.path),
                           "pages": [report_to_dict(p) for p in self.pages]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GroupOutcome:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise InternalError(detail=f"page group record of format {data.get('format')!r}, expected {FORMAT}")
        return cls(first=int(data["first"]), count=int(data["count"]),
                   path=None if data["path"] is None else Path(data["path"]),
                   pages=[report_from_dict(p) for p in data["pages"]])


def group_paths(folder: Path, first: int) -> tuple[Path, Path]:
    """The group's PDF and JSON record: fixed names, so a group redone after a lost worker replaces them."""
    return folder / f"group-{first:06d}.pdf", folder / f"group-{first:06d}.json"


def count_pages(inputs: Sequence[Path], settings: Settings, *, redo_ocr: bool = False) -> int:
    """Check every input (the typed errors ``process_document`` raises) and count the document's pages."""
    return len(scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr))


def process_group(inputs: Sequence[Path], settings: Settings, *, first: int, count: int, folder: Path,
                  redo_ocr: bool = False, layout_pages: Collection[int] = (),
                  executor: PageExecutor | None = None) -> GroupOutcome:
    """Pages ``[first, first + count)`` of the document → the group's PDF and JSON record in ``folder``.

    The PDF is renamed into place before the JSON record, so a record always names a complete PDF.
    ``layout_pages``: document page indexes whose OCR layout must come back (see
    ``pipeline.run.layout_pages``). ``executor`` None: pages run inline, in this process.
    """
    check_writable_dir(folder / "group")
    refs = scan_inputs(inputs, settings.ingest, redo_ocr=redo_ocr)
    if first < 0 or count < 1 or first + count > len(refs):
        raise InternalError(detail=f"page group {first}+{count} outside a document of {len(refs)} pages")
    pdf_path, record_path = group_paths(folder, first)
    runner = executor or PageExecutor(1)
    with tempfile.TemporaryDirectory(prefix=f".group-{first:06d}.", suffix=".spool", dir=folder) as spool:
        jobs = [(refs[i], settings, Path(spool), i in layout_pages) for i in range(first, first + count)]
        reports: list[PageReport] = []
        prepared = []
        for outcome in runner.map(process_page, jobs, label=f"{inputs[0]} #{first + 1}-{first + count}"):
            reports.append(outcome.report)
            if outcome.prepared is not None:
                prepared.append(outcome.prepared)
        if prepared:
            with atomic_writer(pdf_path) as (stream, _temp):
                build_group(prepared, stream, label=str(inputs[0]))
    result = GroupOutcome(first=first, count=count, path=pdf_path if prepared else None, pages=reports)
    write_bytes_atomic(record_path, result.to_json().encode("utf-8"))
    return result


def load_group(folder: Path, first: int) -> GroupOutcome | None:
    """The group's record when it was written (its PDF is then complete), else None."""
    _pdf, record = group_paths(folder, first)
    try:
        return GroupOutcome.from_json(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def join_groups(groups: Sequence[GroupOutcome], output: Path, settings: Settings, *,
                meta: DocumentMeta | None = None, sidecar: Path | None = None,
                extract_layout: bool = False, step_file: bool = False) -> ProcessResult:
    """Join the groups in page order into the PDF/A at ``output`` (atomic), with the gate, the result
    data and the sidecar. The groups must cover pages 0..n-1 exactly once (else ``ProcessingError``)."""
    clock = StepClock(time.perf_counter())
    check_writable_dir(output)
    ordered = sorted(groups, key=lambda g: g.first)
    expected = 0
    for group in ordered:
        if group.first != expected or len(group.pages) != group.count:
            raise ProcessingError(path=output, stage="join", detail=_(
                "the page groups do not cover the document exactly once (pages from {first} expected, "
                "a group of pages from {found} found)", first=expected + 1, found=group.first + 1))
        expected += group.count
    reports = [report for group in ordered for report in group.pages]
    paths = [group.path for group in ordered if group.path is not None]
    clock.step("pages")
    return assemble_output(GroupWriter(output.parent, label=str(output), written=paths), reports, output, settings,
                           meta=meta, sidecar=sidecar,
                           extract_layout=extract_layout, clock=clock, label=output, step_file=step_file)
