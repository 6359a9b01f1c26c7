"""Typed failures of the records package (exit codes 70-89).

Why so many: callers react differently. A daemon retries ``transient`` ones (database down, lock
busy, disk full after cleanup), quarantines the file on input-like ones (bad code, refused dossier),
and an operator must act on integrity ones (audit chain broken, store file missing).
"""

from __future__ import annotations

from sohoa.common.errors import RecordsError


class InvalidDossierCode(RecordsError):
    code = "dossier_code_invalid"
    exit_code = 71
    vi = "Mã hồ sơ không hợp lệ: {value!r} ({detail}). Định dạng đúng: <mã đơn vị>-YYMMDD-NNNN, ví dụ {example}."
    en = "Invalid dossier code {value!r} ({detail}). Expected <unit code>-YYMMDD-NNNN, e.g. {example}."


class DossierNotFound(RecordsError):
    code = "dossier_not_found"
    exit_code = 72
    vi = "Không tìm thấy hồ sơ {dossier}."
    en = "Dossier {dossier} not found."


class DossierRefused(RecordsError):
    code = "dossier_unknown_refused"
    exit_code = 73
    vi = "{path}: hồ sơ {dossier} chưa có trong cơ sở dữ liệu và cấu hình không cho tự tạo (records.unknown_dossier)."
    en = "{path}: dossier {dossier} does not exist and records.unknown_dossier = \"refuse\"."


class DossierExists(RecordsError):
    code = "dossier_exists"
    exit_code = 74
    vi = "Hồ sơ {dossier} đã tồn tại."
    en = "Dossier {dossier} already exists."


class DocumentNotFound(RecordsError):
    code = "document_not_found"
    exit_code = 75
    vi = "Không tìm thấy văn bản {what}."
    en = "Document {what} not found."


class AlreadySuperseded(RecordsError):
    code = "document_already_superseded"
    exit_code = 76
    vi = "{path}: văn bản {what} đã được thay thế bởi một phiên bản khác."
    en = "{path}: document {what} has already been superseded by another version."


class InvalidRecordInput(RecordsError):
    code = "records_invalid_input"
    exit_code = 77
    vi = "{path}: dữ liệu không hợp lệ: {detail}"
    en = "{path}: invalid data: {detail}"


class StoreWriteError(RecordsError):
    code = "store_write_failed"
    exit_code = 83
    transient = True
    vi = "Không lưu được {path} vào kho văn bản {where}: {detail}. Không có bản ghi nào được tạo; tệp gốc giữ nguyên."
    en = "Cannot store {path} in {where}: {detail}. No record was created; the source file is untouched."


class StoreFileMissing(RecordsError):
    code = "store_file_missing"
    exit_code = 84
    vi = "Kho văn bản thiếu tệp {path} của văn bản {what}."
    en = "The store is missing {path} for document {what}."


class AuditChainBroken(RecordsError):
    code = "audit_chain_broken"
    exit_code = 85
    vi = "Nhật ký kiểm tra bị sửa hoặc xóa: {detail}"
    en = "The audit log was edited or truncated: {detail}"


class InputReadError(RecordsError):
    code = "records_input_unreadable"
    exit_code = 78
    vi = "{path}: không đọc được tệp: {detail}"
    en = "{path}: cannot read the file: {detail}"


class StoreFileCorrupt(RecordsError):
    code = "store_file_corrupt"
    exit_code = 86
    vi = "Tệp {path} trong kho văn bản không còn khớp mã băm SHA-256 {what}; không xuất."
    en = "Stored file {path} no longer matches its SHA-256 {what}; not exported."
