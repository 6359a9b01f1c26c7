"""Batch planning: a folder tree or a CSV manifest → the list of documents to digitize, all checked first.

Why everything is checked before anything runs: an archive batch runs for days; a typo in row 40 000
of a manifest must be found in the first second, with its line, column and reason (in Vietnamese for
the clerk who fixes the spreadsheet, in English for the engineer), not when a worker reaches it.
Bad rows are all reported together; the good rows still run unless ``--strict`` is given, and the
final report lists the bad rows again.

Manifest (UTF-8, with or without BOM; ``,`` ``;`` or tab separated; header names case-insensitive):
``file`` (a scan, several joined by ``|``, or a folder whose scans form one document; relative to SRC),
``dossier_code``, ``doc_number``, ``issue_date`` (YYYY-MM-DD or DD/MM/YYYY), ``issuing_agency``,
``title``, ``kind`` (component | result | copy, or 0 = component, 1 = result), ``sign_profile``
(profiles joined by ``|``; ``none`` = not signed), ``digitized_by``. Vietnamese ASCII header names
(``ma_ho_so``, ``so_ky_hieu``, ``ngay_ban_hanh``, ``co_quan_ban_hanh``, ``trich_yeu``, ``loai``) work too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sohoa.common.errors import InputMissing, SohoaError
from sohoa.common.messages import N_, Message, Renderable, _, bilingual, normalize_lang, translate
from sohoa.common.natsort import natural_key
from sohoa.common.reasons import foreign
from sohoa.config.batch import BatchSettings
from sohoa.config.settings import Settings
from sohoa.records.codes import parse_code
from sohoa.records.errors import InvalidDossierCode

SCAN_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".pdf"})
COLUMNS = ("file", "dossier_code", "doc_number", "issue_date", "issuing_agency", "title", "kind", "sign_profile",
           "digitized_by")
ALIASES = {
    "tep": "file", "duong_dan": "file", "path": "file", "files": "file",
    "ma_ho_so": "dossier_code", "mahoso": "dossier_code", "dossier": "dossier_code",
    "so_ky_hieu": "doc_number", "number": "doc_number",
    "ngay_ban_hanh": "issue_date", "date": "issue_date",
    "co_quan_ban_hanh": "issuing_agency", "agency": "issuing_agency",
    "trich_yeu": "title", "ten_tai_lieu": "title",
    "loai": "kind", "ky_so": "sign_profile", "sign": "sign_profile", "nguoi_so_hoa": "digitized_by",
}
KINDS = {"component": "component", "result": "result", "copy": "copy", "0": "component", "1": "result",
         "thanh_phan": "component", "ket_qua": "result", "ban_sao": "copy"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


class ManifestInvalid(SohoaError):
    code = "manifest_invalid"
    exit_code = 90
    text = N_("Manifest {path} is invalid: {detail}. Nothing was processed.")


class ManifestUnreadable(SohoaError):
    code = "manifest_unreadable"
    exit_code = 91
    text = N_("Cannot read manifest {path}: {detail}")


@dataclass
class RowProblem:
    """One bad manifest row (or tree entry): where, which column, why — in both languages."""

    line: int | None
    column: str
    value: str
    vi: str
    en: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "value": self.value, "reason_vi": self.vi,
                "reason_en": self.en}

    def sentence(self, lang: str) -> str:
        lang = normalize_lang(lang)
        reason = self.vi if lang == "vi" else self.en
        if self.line:
            return translate(N_("line {line}, column {column}: {reason}"), lang, line=self.line, column=self.column,
                             reason=reason)
        return translate(N_("{entry}, column {column}: {reason}"), lang, entry=self.value, column=self.column,
                         reason=reason)


@dataclass
class PlannedDoc:
    """One document to digitize: its page files in order and what to file it as."""

    key: str
    inputs: list[Path]
    dossier_code: str
    kind: str
    title: str | None = None
    doc_number: str | None = None
    issue_date: date | None = None
    issuing_agency: str | None = None
    digitized_by: str | None = None
    sign_profiles: list[str] = field(default_factory=list)
    line: int | None = None


@dataclass
class Plan:
    source: Path
    manifest: Path | None
    docs: list[PlannedDoc]
    problems: list[RowProblem]


def find_scans(folder: Path) -> list[Path]:
    """Scan files directly in ``folder``, natural order, hidden files ignored."""
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in SCAN_SUFFIXES), key=natural_key)


def _walk(root: Path) -> list[Path]:
    """Every non-hidden folder under ``root`` (root included), in natural order."""
    out = [root]
    for child in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=natural_key):
        out.extend(_walk(child))
    return out


def _code_finder(pattern: str) -> re.Pattern[str]:
    # the configured pattern is a full-match rule; inside a name it must stand alone
    return re.compile(rf"(?<![0-9A-Za-z.])(?:{pattern})(?![0-9A-Za-z])")


def code_from_path(rel: Path, settings: Settings) -> str | None:
    """The dossier code named by a document's path: its own name first, then its folders upwards."""
    finder = _code_finder(settings.records.dossier_code_pattern)
    names = [rel.stem if rel.suffix.lower() in SCAN_SUFFIXES else rel.name, *[p.name for p in rel.parents]]
    for name in names:
        for match in finder.finditer(name):
            try:
                return parse_code(match.group(0), settings.records).code
            except InvalidDossierCode:
                continue
    return None


def plan_tree(src: Path, settings: Settings, batch: BatchSettings) -> Plan:
    """Documents of a folder tree: one per scan file, or one per folder holding scans."""
    docs: list[PlannedDoc] = []
    problems: list[RowProblem] = []
    groups: list[tuple[Path, list[Path]]] = []
    for folder in _walk(src):
        scans = find_scans(folder)
        if batch.grouping == "folder":
            if scans:
                groups.append((folder, scans))
        else:
            groups.extend((scan, [scan]) for scan in scans)
    for anchor, inputs in groups:
        rel = anchor.relative_to(src)
        key = rel.as_posix() or "."
        code = code_from_path(rel, settings)
        if code is None and batch.grouping == "folder":  # a folder without a code: its files may agree on one
            named = {code_from_path(Path(p.name), settings) for p in inputs}
            code = named.pop() if len(named) == 1 else None
        code = code or batch.default_dossier_code or None
        if code is None:
            problems.append(RowProblem(None, "path", key, *bilingual(_("no dossier code in the file or folder names"))))
            continue
        title = rel.stem if rel.suffix else (rel.name or src.name)
        docs.append(PlannedDoc(key=key, inputs=inputs, dossier_code=code, kind=batch.default_kind, title=title,
                               digitized_by=batch.digitized_by or None, sign_profiles=list(batch.sign_profiles)))
    return Plan(source=src, manifest=None, docs=docs, problems=problems)


def _header_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw).strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(name, name)


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputMissing(path=path) from None
    except OSError as exc:
        raise ManifestUnreadable(path=path, detail=exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise ManifestUnreadable(path=path, detail=_("not UTF-8 (byte {byte}); save it as CSV UTF-8",
                                                           byte=exc.start)) from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if header is None:
                header = cells
                continue
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ManifestUnreadable(path=path, detail=_("line {line}: {reason}", line=reader.line_num,
                                                           reason=foreign(exc))) from None
    if not header:
        raise ManifestInvalid(path=path, detail=_("the file is empty (no header row)"))
    return header, rows


def _row_problem(line: int, column: str, value: str, why: Renderable) -> RowProblem:
    return RowProblem(line, column, value, *bilingual(why))


def _resolve_files(spec: str, base: Path) -> tuple[list[Path], Message | None]:
    inputs: list[Path] = []
    for part in (p.strip() for p in spec.split("|")):
        if not part:
            continue
        path = Path(part) if Path(part).is_absolute() else base / part
        if path.is_dir():
            scans = find_scans(path)
            if not scans:
                return [], _("folder {folder} holds no scans", folder=part)
            inputs.extend(scans)
        elif not path.is_file():
            return [], _("file not found: {file}", file=part)
        elif path.suffix.lower() not in SCAN_SUFFIXES:
            return [], _("{file} is not a scan image or PDF", file=part)
        else:
            inputs.append(path)
    if not inputs:
        return [], _("no file given")
    return inputs, None


def _parse_date(value: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def read_manifest(path: Path, base: Path, settings: Settings, batch: BatchSettings) -> Plan:
    """Parse and check every row; the header must be usable or nothing can be planned."""
    header, rows = _read_rows(path)
    names = [_header_name(h) for h in header]
    if "file" not in names:
        raise ManifestInvalid(path=path, detail=_("no 'file' column in the header (line 1)"))
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise ManifestInvalid(path=path, detail=_("columns named twice in the header: {columns}",
                                                       columns=", ".join(dupes)))
    docs: list[PlannedDoc] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    profiles = set(settings.signing.profiles)
    today = date.today()
    for line, cells in rows:
        if len(cells) > len(names):
            problems.append(_row_problem(line, "-", ";".join(cells[len(names):]),
                                         _("the row has {cells} columns, the header {names}", cells=len(cells),
                                           names=len(names))))
            continue
        row = {n: unicodedata.normalize("NFC", c).strip() for n, c in zip(names, cells, strict=False)}
        bad: list[RowProblem] = []
        spec = row.get("file", "")
        inputs, why = _resolve_files(spec, base)
        if why:
            bad.append(_row_problem(line, "file", spec, why))
        key = "|".join(p.strip() for p in spec.split("|") if p.strip())
        if not why and key in seen:
            bad.append(_row_problem(line, "file", spec, _("the same file is already on line {line}", line=seen[key])))
        code = row.get("dossier_code", "") or batch.default_dossier_code
        if not code:
            bad.append(_row_problem(line, "dossier_code", "", _("no dossier code")))
        else:
            try:
                code = parse_code(code, settings.records).code
            except InvalidDossierCode as err:
                bad.append(RowProblem(line, "dossier_code", code, err.message("vi"), err.message("en")))
        issued: date | None = None
        if row.get("issue_date"):
            issued = _parse_date(row["issue_date"])
            if issued is None:
                bad.append(_row_problem(line, "issue_date", row["issue_date"],
                                        _("not a date (use YYYY-MM-DD or DD/MM/YYYY)")))
            elif issued > today:
                bad.append(_row_problem(line, "issue_date", row["issue_date"], _("the issue date is in the future")))
        kind = batch.default_kind
        if row.get("kind"):
            kind = KINDS.get(row["kind"].lower(), "")
            if not kind:
                bad.append(_row_problem(line, "kind", row["kind"], _("kind must be component, result or copy (0/1)")))
        signs = list(batch.sign_profiles)
        if row.get("sign_profile"):
            signs = [] if row["sign_profile"].lower() in ("none", "-", "khong") else [
                p.strip() for p in row["sign_profile"].split("|") if p.strip()]
            unknown = [p for p in signs if p not in profiles]
            if unknown:
                bad.append(_row_problem(line, "sign_profile", row["sign_profile"],
                                        _("no signing profile {profiles} in the configuration",
                                          profiles=", ".join(unknown))))
        if bad:
            problems.extend(bad)
            continue
        seen[key] = line
        docs.append(PlannedDoc(key=key, inputs=inputs, dossier_code=code, kind=kind,
                               title=row.get("title") or None, doc_number=row.get("doc_number") or None,
                               issue_date=issued, issuing_agency=row.get("issuing_agency") or None,
                               digitized_by=row.get("digitized_by") or batch.digitized_by or None,
                               sign_profiles=signs, line=line))
    return Plan(source=base, manifest=path, docs=docs, problems=problems)


def plan_batch(src: Path, manifest: Path | None, settings: Settings, batch: BatchSettings) -> Plan:
    """SRC a folder (tree, or the base of ``--manifest`` paths) or SRC itself a ``.csv`` manifest."""
    src = src.resolve()
    if not src.exists():
        raise InputMissing(path=src)
    if manifest is None and src.is_file():
        if src.suffix.lower() != ".csv":
            raise ManifestUnreadable(path=src, detail=_("SRC is a file but not a .csv manifest"))
        return read_manifest(src, src.parent, settings, batch)
    if manifest is not None:
        return read_manifest(manifest.resolve(), src if src.is_dir() else src.parent, settings, batch)
    return plan_tree(src, settings, batch)
