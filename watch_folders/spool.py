"""The spool: claim by atomic rename into a per-folder work area, and where sources go afterwards.

Why the work area is the source of truth: a rename on the same file system is atomic, so after any
crash each input is either still in the inbox (never claimed: the next scan takes it) or in
``<work>/<job id>/src/`` next to the job's ``job.json`` manifest (claimed: recovery resumes it). Only
after the signed output is durable and attached do the sources leave for ``done/`` (or get deleted);
permanent failures go to ``failed/`` with ``<name>.error.txt`` in Vietnamese and English.
The job id is the content identity of the inputs (``common.hashing``, the one the batch journal and
the records use too), so a re-sent identical scan maps to the same job and is never filed twice.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sohoa.common.atomic import fsync_dir, write_bytes_atomic
from sohoa.common.hashing import content_identity
from sohoa.common.messages import LANGS, N_, Lang, Renderable, translate
from sohoa.watch_folders.scanner import Unit

MANIFEST = "job.json"
SOURCES = "src"


JOB_ID_HEX = 32


def content_id(paths: Sequence[Path]) -> str:
    """Job id: the first 32 hex digits of the inputs' content identity (``common.hashing``)."""
    return content_identity(paths)[:JOB_ID_HEX]


@dataclass
class Claim:
    """A claimed job in the work area, rebuilt from its manifest at recovery."""

    job_id: str
    folder: str  # the WatchFolder label
    inbox: Path
    workdir: Path
    name: str
    sources: list[str]  # paths relative to the inbox, in page order
    dossier_code: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    unreadable: str | None = None
    root: str | None = None  # subfolder (relative), removed when the job leaves
    claimed_at: str = ""

    @property
    def src(self) -> Path:
        return self.workdir / SOURCES

    def claimed_paths(self) -> list[Path]:
        return [self.src / rel for rel in self.sources if (self.src / rel).exists()]

    def to_json(self) -> bytes:
        data = {k: v for k, v in self.__dict__.items() if k not in ("inbox", "workdir")}
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def claim(unit: Unit, work: Path, job_id: str, now: datetime) -> Claim:
    """Write the manifest, then rename every source into ``<work>/<job_id>/src/``; idempotent."""
    workdir = work / job_id
    rels = [unit.relative(p) for p in unit.sources]
    rels += [unit.relative(p) for p in unit.sidecars if p.exists()]
    job = Claim(job_id=job_id, folder=unit.folder.label(), inbox=unit.inbox, workdir=workdir, name=unit.name,
                sources=[unit.relative(p) for p in unit.sources], dossier_code=unit.dossier_code,
                meta=unit.meta, unreadable=unit.unreadable,
                root=unit.relative(unit.root) if unit.root is not None else None,
                claimed_at=now.isoformat(timespec="seconds"))
    existing = load(workdir, unit.inbox)
    if existing is not None:  # same content claimed before (crash after the manifest, or a re-sent scan)
        job = existing
    else:
        (workdir / SOURCES).mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(workdir / MANIFEST, job.to_json())
    for rel in rels:
        src = unit.inbox / rel
        if src.exists():
            _move(src, job.src / rel)
            if rel not in job.sources and not rel.endswith(".json"):
                job.sources.append(rel)
    fsync_dir(unit.inbox)
    if unit.root is not None:
        _remove_empty_tree(unit.root)
    return job


def load(workdir: Path, inbox: Path) -> Claim | None:
    try:
        data = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Claim(inbox=inbox, workdir=workdir, **data)


def pending(work: Path, inbox: Path) -> list[Claim]:
    """Claims left in the work area (by a crash or a stop), with dot-temp files of dead writers removed."""
    found: list[Claim] = []
    if not work.is_dir():
        return found
    for workdir in sorted(p for p in work.iterdir() if p.is_dir()):
        job = load(workdir, inbox)
        if job is None:  # crash before the manifest: nothing was moved yet (it is written first)
            shutil.rmtree(workdir, ignore_errors=True)
            continue
        for temp in workdir.glob(".*"):  # dead writers' temp files and spool folders
            if temp.is_dir():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink(missing_ok=True)
        found.append(job)
    return found


def _unique(target: Path, job_id: str) -> Path:
    if not target.exists():
        return target
    return target.with_name(f"{target.stem}-{job_id[:8]}{target.suffix}")


def release_to(job: Claim, dest_root: Path, rels: Sequence[str] | None = None, *, name: str | None = None,
               note: tuple[str, str] | None = None, delete: bool = False) -> list[Path]:
    """Move (or delete) claimed sources to ``dest_root``; a multi-file job keeps its own sub-folder.

    ``note`` = (suffix, text): written next to the moved files as ``<name><suffix>``.
    """
    rels = list(job.sources) if rels is None else list(rels)
    extra = [p.relative_to(job.src).as_posix() for p in job.src.rglob("*.json")] if rels == job.sources else []
    moved: list[Path] = []
    single = len(rels) == 1 and not extra
    base = dest_root if single else _unique(dest_root / (name or job.name), job.job_id)
    for rel in rels + extra:
        src = job.src / rel
        if not src.exists():
            continue
        if delete:
            src.unlink()
            continue
        dst = _unique(base / (Path(rel).name if single else rel), job.job_id)
        _move(src, dst)
        moved.append(dst)
    if note is not None and not delete:
        suffix, text = note
        anchor = moved[0].name if single and moved else base.name
        write_bytes_atomic(_unique(dest_root / f"{anchor}{suffix}", job.job_id), text.encode("utf-8"))
    if moved:
        fsync_dir(dest_root)
    return moved


def finish(job: Claim) -> None:
    """Remove the job's work folder once every source has left it."""
    shutil.rmtree(job.workdir, ignore_errors=True)
    fsync_dir(job.workdir.parent)


def _blocks(lines: list[tuple[str, dict[str, object]]], reasons: dict[Lang, str]) -> str:
    """One block of ``Label: value`` lines per language, Vietnamese first; ``{reason}`` is per language."""
    blocks = []
    for lang in LANGS:
        blocks.append("\n".join(translate(msgid, lang, **fields, reason=reasons[lang]) for msgid, fields in lines))
    return "\n\n".join(blocks)


def error_text(name: str, *, stage: str, code: str, vi: str, en: str, when: datetime, job_id: str) -> str:
    """The ``<name>.error.txt`` body: Vietnamese first (for the clerk), then English."""
    stamp = when.isoformat(timespec="seconds")
    lines: list[tuple[str, dict[str, object]]] = [
        (N_("File: {name}"), {"name": name}), (N_("Stage: {stage}"), {"stage": stage}),
        (N_("Error code: {code}"), {"code": code}), (N_("Time: {time}"), {"time": stamp}),
        (N_("Reason: {reason}"), {})]
    return _blocks(lines, {"vi": vi, "en": en}) + f"\n\nJob: {job_id}\n"


def review_text(name: str, *, reason_vi: str, reason_en: str, when: datetime, job_id: str) -> str:
    """The ``<name>.review.txt`` body: why a clerk must look at the document, in both languages."""
    stamp = when.isoformat(timespec="seconds")
    lines: list[tuple[str, dict[str, object]]] = [
        (N_("File: {name}"), {"name": name}), (N_("Time: {time}"), {"time": stamp}),
        (N_("Needs review: {reason}"), {})]
    return _blocks(lines, {"vi": reason_vi, "en": reason_en}) + f"\n\nJob: {job_id}\n"


def note_text(message: Renderable) -> str:
    """A one-sentence note file (``.duplicate.txt``): the sentence in Vietnamese, then in English."""
    return "".join(message.render(lang) + "\n" for lang in LANGS)


def _remove_empty_tree(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass
    try:
        root.rmdir()
    except OSError:
        pass
