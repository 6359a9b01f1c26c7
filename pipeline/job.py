"""One document job, end to end: process → PDF/A gate → sign (each profile in turn) → PDF/A gate → attach.

Why here: the CLI (``sohoa process --sign --dossier``), the watch-folder daemon and the batch executors
must run exactly the same sequence with the same durability rules, so it exists once. Every step
writes a new file atomically (temp → fsync → rename) in ``workdir``; the final PDF is what gets
attached; the caller releases its sources only after ``run_document_job`` returns.
Signing audit events go to the records database when a records store is used (the pipeline is the
one layer that may join ``signing`` and ``records``), else to the JSON-lines audit file.

Why ``signing`` and ``records`` are imported inside the functions: they are the heaviest imports of
``sohoa process`` (pyHanko, SQLAlchemy, Alembic: ~0.6 s), a document without ``--sign``/``--dossier``
needs neither, and one that does imports them in a thread while its pages are in the workers, where
the calling process would otherwise only wait (issue 14).
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.atomic import check_writable_dir, fsync_dir
from sohoa.common.display import person
from sohoa.common.errors import ConformanceError
from sohoa.common.hashing import page_order, sha256_file
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor
from sohoa.pipeline.groups import GroupOutcome, join_groups
from sohoa.pipeline.result_data import EXTRACT_KINDS, ResultData, merge
from sohoa.pipeline.run import ProcessResult, StepClock, process_document
from sohoa.stages.conformance import check_pdfa
from sohoa.stages.model import DocumentMeta

if TYPE_CHECKING:
    from sohoa.records.audit import AuditEvent as RecordsAuditEvent
    from sohoa.records.service import Records
    from sohoa.records.types import AttachMeta, AttachResult, NewDossier, SourceFile
    from sohoa.signing.audit import AuditEvent as SigningAuditEvent
    from sohoa.signing.audit import AuditSink
    from sohoa.signing.sign import SignResult

log = logging.getLogger("sohoa.pipeline")


@dataclass
class DocumentJob:
    """Everything one document needs: its page files and what to do with the result."""

    inputs: Sequence[Path]
    output: Path  # where the final (signed) PDF/A is written
    dossier_code: str | None = None
    kind: str = "component"
    title: str | None = None
    doc_number: str | None = None
    issue_date: date | None = None
    issuing_agency: str | None = None
    digitized_by: str | None = None
    sign_profiles: Sequence[str] = ()
    redo_ocr: bool = False
    sidecar: Path | None = None
    new_dossier: NewDossier | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # signing audit rows committed with the attach (one commit a document): for callers whose output
    # nobody sees before it is filed (the daemon's work folder); see ``RecordsAuditSink``
    audit_with_attach: bool = False


@dataclass
class JobResult:
    output: Path
    sha256: str
    process: ProcessResult
    signatures: list[SignResult] = field(default_factory=list)
    attached: AttachResult | None = None
    # the document's steps: process's own (ingest, pages, assemble, pdfa, write), then sign, gate, attach
    timings: dict[str, float] = field(default_factory=dict)
    data: ResultData = field(default_factory=ResultData)  # the result's Decree-30 data, as filed

    def to_dict(self, low_confidence: float) -> dict[str, object]:
        data = self.process.to_dict(low_confidence)
        data["output"] = str(self.output)
        data["sha256"] = self.sha256
        data["size"] = self.output.stat().st_size
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        data["signatures"] = [{"profile": s.profile, "signer": s.signer, "level": s.level, "time": s.signing_time}
                              for s in self.signatures]
        if self.data.metadata:
            data["metadata"] = self.data.metadata
        if self.attached is not None:
            doc = self.attached.document
            data["attached"] = {"dossier": self.attached.document.dossier_code, "document_id": doc.id,
                                "document_seq": doc.seq, "created": self.attached.created,
                                "dossier_created": self.attached.dossier_created}
            data["already_filed"] = self.attached.already_filed
            other = self.attached.same_source_elsewhere
            if other is not None:
                data["needs_review"] = {"reason": "same_source_in_other_dossier", "dossier": other.dossier_code,
                                        "document_id": other.id}
        return data


class RecordsAuditSink:
    """Signing audit events stored in the records database's hash-chained audit log.

    ``hold=True`` (``DocumentJob.audit_with_attach``): the events wait in ``held`` and go into the
    attach's transaction (``Records.attach(audit_events=…)``), or are written by ``flush`` when the job
    fails before it. Why that is safe where it is used: a signed file is then only a step of the job
    until the attach commits — the daemon releases no source and shows no output before that, and a
    crash in between leaves an output that is not in the records, which the daemon's rerun signs and
    files anew (``runners/watch/jobs.py``), with its audit rows. Without ``hold`` (the CLI, whose output
    a person may take before the attach) each event commits before its signed file is renamed.
    """

    def __init__(self, records: Records, dossier_code: str | None, *, hold: bool = False) -> None:
        self.records = records
        self.dossier_code = dossier_code
        self.hold = hold
        self.held: list[RecordsAuditEvent] = []

    def record(self, event: SigningAuditEvent) -> None:
        from sohoa.records.audit import AuditEvent

        details = {k: v for k, v in event.to_dict().items() if k not in ("src", "dst")}
        row = AuditEvent(action="sign", actor=event.key_name, dossier_code=self.dossier_code,
                         document_sha256=event.sha256_after, details=details)
        if self.hold:
            self.held.append(row)
        else:
            self.records.record_audit(row)

    def take(self) -> list[RecordsAuditEvent]:
        taken, self.held = self.held, []
        return taken

    def flush(self) -> None:
        """Write the held events on their own: the job failed before its attach. A database failing here
        too is logged, not raised: the job's own error is on its way (and the daemon retries the job)."""
        rows = self.take()
        try:
            for row in rows:
                self.records.record_audit(row)
        except Exception:
            log.warning("%d signing audit event(s) could not be recorded", len(rows), exc_info=True)


def run_document_job(job: DocumentJob, settings: Settings, *, records: Records | None = None,
                     executor: PageExecutor | None = None, workdir: Path | None = None,
                     on_step: Callable[[str], None] | None = None,
                     groups: Sequence[GroupOutcome] | None = None) -> JobResult:
    """Run one job; raises a typed ``SohoaError`` and leaves no final output when a step fails.

    ``groups``: the document's pages were already processed as page groups (a cluster's split
    document, ``pipeline.groups``); they are joined instead of processing ``job.inputs`` here, and the
    document is then signed, gated and attached once, as any other.

    ``on_step`` is told "processed" (PDF/A written) and "signed" (final signed output written) as each
    is durable — the watch daemon's crash test hook (``runners/watch/crash.py``) listens there.
    """
    workdir = workdir or job.output.parent
    loading = _import_in_background(["sohoa.signing.sign"] if job.sign_profiles else [])
    given = {"doc_number": job.doc_number, "issue_date": job.issue_date.isoformat() if job.issue_date else None,
             "issuing_agency": job.issuing_agency}
    meta = DocumentMeta(title=job.title, dossier_code=job.dossier_code, kind=job.kind,  # type: ignore[arg-type]
                        author=job.digitized_by, result_data={k: v for k, v in given.items() if v})
    signatures: list[SignResult] = []
    held = (RecordsAuditSink(records, job.dossier_code, hold=True)
            if job.audit_with_attach and records is not None and job.dossier_code else None)
    # Intermediate files live in a private folder beside the output (mkdtemp: never a pid-only name,
    # which threads of one daemon share), so a signed file is renamed into place on the same disk.
    check_writable_dir(job.output)
    scratch = Path(tempfile.mkdtemp(prefix=f".{job.output.name}.", suffix=".job", dir=workdir))
    # The last signature is written on the output's own file system, so the gate's rename is atomic.
    final_dir = scratch
    if job.sign_profiles and os.stat(workdir).st_dev != os.stat(job.output.parent).st_dev:
        final_dir = Path(tempfile.mkdtemp(prefix=f".{job.output.name}.", suffix=".job", dir=job.output.parent))
    try:
        current = scratch / "pdfa.pdf" if job.sign_profiles else job.output
        extract_layout = settings.extract.enabled and job.kind in EXTRACT_KINDS
        step_file = bool(job.sign_profiles)  # the unsigned PDF/A is signed next, then deleted
        if groups is not None:
            processed = join_groups(groups, current, settings, meta=meta, sidecar=job.sidecar,
                                    extract_layout=extract_layout, step_file=step_file)
        else:
            processed = process_document(job.inputs, current, settings, meta=meta, redo_ocr=job.redo_ocr,
                                         sidecar=job.sidecar, executor=executor, extract_layout=extract_layout,
                                         step_file=step_file)
        if on_step is not None:
            on_step("processed")
        clock = StepClock()
        if loading is not None:
            loading.join()
        for number, profile in enumerate(job.sign_profiles, start=1):
            target = (final_dir if number == len(job.sign_profiles) else scratch) / f"signed-{number}.pdf"
            signatures.append(_sign(current, target, profile, job, settings, records, held))
            current = target
            clock.step("sign")
        if signatures:
            _gate_signed(current, unsigned=scratch / "pdfa.pdf", output=job.output)
            clock.step("gate")
        if on_step is not None and job.sign_profiles:
            on_step("signed")
    except BaseException:
        if held is not None:
            held.flush()  # the signatures were made, whatever became of the document
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if final_dir != scratch:
            shutil.rmtree(final_dir, ignore_errors=True)
    digest = signatures[-1].sha256_after if signatures else processed.sha256
    result = JobResult(output=job.output, sha256=digest, process=processed, signatures=signatures,
                       timings={**processed.timings, **clock.timings},
                       data=merge(processed.metadata, doc_number=job.doc_number, issue_date=job.issue_date,
                                  issuing_agency=job.issuing_agency))
    if records is not None and job.dossier_code:
        result.attached = records.attach(job.output, dossier_code=job.dossier_code, kind=job.kind, sha256=digest,
                                         meta=_attach_meta(job, processed, signatures, settings, result.data),
                                         audit_events=held.take() if held is not None else ())
        clock.step("attach")
        result.timings["attach"] = clock.timings["attach"]
    return result


def _sign(src: Path, dst: Path, profile: str, job: DocumentJob, settings: Settings,
          records: Records | None, held: RecordsAuditSink | None) -> SignResult:
    from sohoa.signing.audit import JsonLinesAuditSink
    from sohoa.signing.sign import sign_pdf

    audit: AuditSink = held or (RecordsAuditSink(records, job.dossier_code) if records is not None
                                else JsonLinesAuditSink(settings.resolve(settings.signing.audit_file)))
    # a step file in the scratch folder: the gate renames the last one into place and fsyncs that folder
    return sign_pdf(src, dst, profile=profile, settings=settings.signing, audit=audit, step_file=True)


def _import_in_background(modules: list[str]) -> threading.Thread | None:
    """Import ``modules`` in a thread: it runs while this thread waits for the page workers.

    A failed import is only logged here; the import where the module is used raises it properly.
    Nothing is started for modules already imported (a daemon's second document).
    """
    todo = [m for m in modules if m not in sys.modules]
    if not todo:
        return None

    def load() -> None:
        for name in todo:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - reported again, typed, by the import that needs it
                log.debug("background import of %s failed", name, exc_info=True)

    thread = threading.Thread(target=load, name="sohoa-import", daemon=True)
    thread.start()
    return thread


def _gate_signed(signed: Path, *, unsigned: Path, output: Path) -> None:
    """The PDF/A gate after signing: only a conforming signed file replaces ``output``.

    Why: signing appends revisions (a centre's CMYK seal image, a future pyHanko change) that the check
    before signing never saw. On a failure the unsigned PDF/A is kept beside the output, and the error
    names it, so the work is not lost.
    """
    violations = check_pdfa(signed)
    if violations:
        kept = output.with_name(output.stem + ".unsigned.pdf")
        shutil.move(unsigned, kept)
        with kept.open("rb") as moved:  # across file systems a move is a copy, whose data is not synced yet
            os.fsync(moved.fileno())
        fsync_dir(kept.parent)
        problems = "; ".join(f"{v.clause}: {v.message}" for v in violations[:5])
        clauses = ", ".join(dict.fromkeys(v.clause for v in violations[:5]))
        raise ConformanceError(path=output, detail=_(
            "after signing, clauses {clauses} ({problems}); the unsigned PDF/A is kept as {kept}",
            clauses=clauses, problems=foreign(problems), kept=kept.name))
    os.replace(signed, output)
    fsync_dir(output.parent)


def _source_file(path: Path) -> SourceFile:
    from sohoa.records.types import SourceFile

    digest, size = sha256_file(path)
    return SourceFile(name=path.name, sha256=digest, size=size)


def _signing_time(result: SignResult) -> datetime:
    """The stamp time as a datetime (it is ISO 8601 unless a center configured another stamp format)."""
    try:
        return datetime.fromisoformat(result.signing_time)
    except ValueError:
        return datetime.now(UTC)


def _digitizer_of(signatures: list[SignResult]) -> str | None:
    """The digitizer's name from its signing certificate, when the job named nobody (the daemon's case)."""
    return next((person(s.signer) for s in signatures if s.profile == "digitizer" and s.signer), None)


def _attach_meta(job: DocumentJob, processed: ProcessResult, signatures: list[SignResult],
                 settings: Settings, data: ResultData) -> AttachMeta:
    from sohoa.records.types import AttachMeta, SignatureInfo

    kept = [p for p in processed.pages if not p.dropped]
    return AttachMeta(
        title=job.title,
        doc_number=data.doc_number,
        issue_date=data.issue_date,
        issuing_agency=data.issuing_agency,
        digitized_by=job.digitized_by or _digitizer_of(signatures),
        page_texts=[p.text for p in kept],
        page_confidences=[p.mean_confidence for p in kept],
        low_confidence_pages=processed.low_confidence_pages(settings.ocr.low_confidence),
        page_count=len(kept),
        source_files=[_source_file(p) for p in page_order(Path(p) for p in job.inputs)],
        signatures=[SignatureInfo(profile=s.profile or "adhoc", signer=person(s.signer), time=_signing_time(s),
                                  level=s.level) for s in signatures],
        actor=job.digitized_by or f"sohoa@{socket.gethostname()}",
        extra={**job.extra, **({"metadata": data.metadata} if data.metadata else {})},
        new_dossier=job.new_dossier,
    )
