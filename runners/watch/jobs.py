"""One claimed watch-folder job: plan its documents, run each with ``run_document_job``, release sources.

Why the plan and per-document markers are files in the job's work folder: they make every step
repeatable after a crash. ``plan.json`` fixes how the claimed files split into documents (cover-sheet
detection runs once); ``doc-N.json`` records each document's outcome once it is final (attached,
failed, needs review). A rerun skips documents with a marker, and a document whose output PDF exists
but has no marker is looked up by hash in the records: if it is there, the attach happened before the
crash and is not repeated (nothing twice); otherwise the job reruns it (nothing lost).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sohoa.common.atomic import write_bytes_atomic
from sohoa.common.errors import (
    InputError,
    InternalError,
    SohoaError,
)
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _, bilingual
from sohoa.config.settings import Settings
from sohoa.config.watch import CoverSheetSettings, WatchFolder
from sohoa.pipeline.executor import PageExecutor
from sohoa.pipeline.job import DocumentJob, run_document_job
from sohoa.records.errors import DossierRefused, InvalidDossierCode
from sohoa.records.service import Records
from sohoa.runners.watch.crash import crash_point
from sohoa.stages.ingest import load_page, scan_inputs
from sohoa.stages.separate import find_cover_sheets
from sohoa.watch_folders.spool import Claim

log = logging.getLogger("sohoa.watch")

REVIEW_ERRORS = (InvalidDossierCode, DossierRefused)


@dataclass
class DocPlan:
    """One document of a job: its claimed sources (relative), the pages it keeps, its dossier."""

    number: int
    name: str
    sources: list[str]  # every claimed file that belongs to this document (moved together)
    inputs: list[str]  # the files that become pages (a dropped cover sheet is a source, not an input)
    dossier_code: str | None
    review_vi: str = ""
    review_en: str = ""


@dataclass
class DocOutcome:
    outcome: str  # done | failed | review
    dossier_code: str | None = None
    sha256: str | None = None
    document_id: int | None = None
    pages: int = 0
    seconds: float = 0.0
    stage: str = ""
    code: str = ""
    vi: str = ""
    en: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def open_check(path: Path, settings: Settings) -> str | None:
    """The daemon's "opens cleanly" test: the ingest stage's cheap header/page scan."""
    try:
        scan_inputs([path], settings.ingest)
    except InputError as err:
        return err.message("en")
    return None


def _plan_path(job: Claim) -> Path:
    return job.workdir / "plan.json"


def _marker(job: Claim, number: int) -> Path:
    return job.workdir / f"doc-{number}.json"


def plan_documents(job: Claim, folder: WatchFolder, settings: Settings, cover: CoverSheetSettings) -> list[DocPlan]:
    """The job's documents, computed once and kept in ``plan.json``."""
    path = _plan_path(job)
    if path.exists():
        return [DocPlan(**d) for d in json.loads(path.read_text(encoding="utf-8"))]
    if folder.grouping == "cover_sheet":
        plans = _split_at_cover_sheets(job, folder, settings, cover)
    else:
        plans = [DocPlan(0, job.name, list(job.sources), list(job.sources), job.dossier_code)]
    for plan in plans:
        if plan.dossier_code is None and not plan.review_en:
            plan.review_vi, plan.review_en = bilingual(
                _("no dossier code found (file name, sidecar JSON or QR cover sheet)"))
    write_bytes_atomic(path, json.dumps([asdict(p) for p in plans], ensure_ascii=False).encode("utf-8"))
    crash_point("planned")
    return plans


def _split_at_cover_sheets(job: Claim, folder: WatchFolder, settings: Settings,
                           cover_settings: CoverSheetSettings) -> list[DocPlan]:
    """Start a new document at every file whose page is a QR cover sheet (file granularity)."""
    plans: list[DocPlan] = []
    current: DocPlan | None = None
    for rel in job.sources:
        path = job.src / rel
        cover = None
        refs = []
        try:
            refs = scan_inputs([path], settings.ingest)
            for ref in refs:
                sheets = find_cover_sheets([load_page(ref, settings.ingest)], cover_settings,
                                           settings.records.dossier_code_pattern)
                if sheets:
                    cover = sheets[0]
                    if ref.index:
                        log.warning("%s: cover sheet on page %d of a multi-page file; the whole file starts "
                                    "the new document", rel, ref.index + 1)
                    break
        except InputError:
            cover = None  # a bad file stays with its document; the job reports it
        if cover is not None:
            keep = folder.cover_sheet == "keep" or len(refs) > 1
            current = DocPlan(len(plans), f"{job.name}-{cover.dossier_code}", [rel], [rel] if keep else [],
                              cover.dossier_code)
            plans.append(current)
        else:
            if current is None:
                current = DocPlan(0, f"{job.name}-truoc-bia", [], [], job.dossier_code)
                plans.append(current)
            current.sources.append(rel)
            current.inputs.append(rel)
    for plan in plans:
        if not plan.inputs:
            plan.review_vi, plan.review_en = bilingual(_("a cover sheet with no pages after it"))
    return plans


def load_marker(job: Claim, number: int) -> DocOutcome | None:
    path = _marker(job, number)
    if not path.exists():
        return None
    return DocOutcome(**json.loads(path.read_text(encoding="utf-8")))


def _save_marker(job: Claim, number: int, outcome: DocOutcome) -> None:
    write_bytes_atomic(_marker(job, number), json.dumps(asdict(outcome), ensure_ascii=False).encode("utf-8"))


def run_job(job: Claim, folder: WatchFolder, settings: Settings, cover: CoverSheetSettings, *, records: Records,
            executor: PageExecutor) -> list[tuple[DocPlan, DocOutcome]]:
    """Process every document of a claimed job; raises only transient errors (the caller retries)."""
    if job.unreadable:
        error = _first_input_error(job, settings) or InternalError(detail=job.unreadable)
        plans = [DocPlan(0, job.name, list(job.sources), list(job.sources), job.dossier_code)]
        outcome = failure(error, job.dossier_code)
        _save_marker(job, 0, outcome)
        return [(plans[0], outcome)]
    results: list[tuple[DocPlan, DocOutcome]] = []
    for plan in plan_documents(job, folder, settings, cover):
        outcome = load_marker(job, plan.number)
        if outcome is None:
            outcome = _run_document(job, plan, folder, settings, records=records, executor=executor)
            _save_marker(job, plan.number, outcome)
            crash_point("marked")
        results.append((plan, outcome))
    return results


def _first_input_error(job: Claim, settings: Settings) -> InputError | None:
    for path in job.claimed_paths():
        try:
            scan_inputs([path], settings.ingest)
        except InputError as err:
            return err
    return None


def failure(err: SohoaError, code: str | None) -> DocOutcome:
    return DocOutcome("failed", dossier_code=code, stage=err.stage, code=err.code, vi=err.message("vi"),
                      en=err.message("en"))


def _run_document(job: Claim, plan: DocPlan, folder: WatchFolder, settings: Settings, *, records: Records,
                  executor: PageExecutor) -> DocOutcome:
    if plan.review_en:
        damaged = _decode_error(job, plan, settings)
        if damaged is not None:  # a damaged file is a failure, whatever its routing
            return failure(damaged, plan.dossier_code)
        return DocOutcome("review", dossier_code=plan.dossier_code, vi=plan.review_vi, en=plan.review_en)
    output = job.workdir / f"doc-{plan.number}.pdf"
    if output.exists():
        done = records.find_by_sha256(sha256_file(output)[0])
        if done is not None and done.dossier_code == plan.dossier_code:  # attached just before a crash
            return DocOutcome("done", dossier_code=plan.dossier_code, sha256=done.sha256, document_id=done.id,
                              pages=done.page_count)
    started = time.perf_counter()
    meta: dict[str, Any] = dict(job.meta)
    document = DocumentJob(
        inputs=[job.src / rel for rel in plan.inputs], output=output, dossier_code=plan.dossier_code,
        kind=folder.kind, title=_text(meta.get("title")) or Path(plan.name).stem,
        doc_number=_text(meta.get("doc_number")), issuing_agency=_text(meta.get("issuing_agency")),
        digitized_by=folder.digitized_by or _text(meta.get("digitized_by")) or None,
        sign_profiles=list(folder.sign_profiles),
        extra={"watch_job": job.job_id, "watch_folder": job.folder, "sources": plan.sources},
        audit_with_attach=True,  # the output stays in the work folder until filed; a crash reruns it
    )
    try:
        result = run_document_job(document, settings, records=records, executor=executor, workdir=job.workdir,
                                  on_step=crash_point)
        crash_point("attached")
    except REVIEW_ERRORS as err:
        return DocOutcome("review", dossier_code=plan.dossier_code, code=err.code, vi=err.message("vi"),
                          en=err.message("en"))
    except SohoaError as err:
        if err.transient:
            raise
        return failure(err, plan.dossier_code)
    except Exception as exc:  # noqa: BLE001 - last-resort boundary: one bad document must not stop the daemon
        log.exception("unexpected error in %s", plan.name)
        return failure(InternalError(detail=f"{type(exc).__name__}: {exc}"), plan.dossier_code)
    timings: dict[str, float] = {}
    for page in result.process.pages:
        for stage, seconds in page.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    total = time.perf_counter() - started
    timings.update(result.timings)  # the document's own steps (ingest … attach) beside the page stages
    timings["process"] = result.process.seconds
    timings["sign_attach"] = max(0.0, total - result.process.seconds)
    attached = result.attached
    return DocOutcome("done", dossier_code=plan.dossier_code, sha256=result.sha256,
                      document_id=attached.document.id if attached else None, pages=result.process.page_count,
                      seconds=round(total, 3), timings={k: round(v, 3) for k, v in timings.items()})


def _decode_error(job: Claim, plan: DocPlan, settings: Settings) -> InputError | None:
    """Fully decode a needs-review document's pages: only readable scans are worth a clerk's look."""
    try:
        for ref in scan_inputs([job.src / rel for rel in plan.inputs], settings.ingest):
            load_page(ref, settings.ingest)
    except InputError as err:
        return err
    return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def now_local(settings: Settings) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.records.timezone))
