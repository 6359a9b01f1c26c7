"""Typed failures of the records package (exit codes 70-89).

Why so many: callers react differently. A daemon retries ``transient`` ones (database down, lock
busy, disk full after cleanup), quarantines the file on input-like ones (bad code, refused dossier),
and an operator must act on integrity ones (audit chain broken, store file missing).
"""

from __future__ import annotations

from sohoa.common.errors import RecordsError
from sohoa.common.messages import N_


class InvalidDossierCode(RecordsError):
    code = "dossier_code_invalid"
    exit_code = 71
    text = N_("Invalid dossier code {value!r} ({detail}). Expected <unit code>-YYMMDD-NNNN, e.g. {example}.")


class DossierNotFound(RecordsError):
    code = "dossier_not_found"
    exit_code = 72
    text = N_("Dossier {dossier} not found.")


class DossierRefused(RecordsError):
    code = "dossier_unknown_refused"
    exit_code = 73
    text = N_("{path}: dossier {dossier} does not exist and records.unknown_dossier = \"refuse\".")


class DossierExists(RecordsError):
    code = "dossier_exists"
    exit_code = 74
    text = N_("Dossier {dossier} already exists.")


class DocumentNotFound(RecordsError):
    code = "document_not_found"
    exit_code = 75
    text = N_("Document {what} not found.")


class AlreadySuperseded(RecordsError):
    code = "document_already_superseded"
    exit_code = 76
    text = N_("{path}: document {what} has already been superseded by another version.")


class InvalidRecordInput(RecordsError):
    code = "records_invalid_input"
    exit_code = 77
    text = N_("{path}: invalid data: {detail}")


class StoreWriteError(RecordsError):
    code = "store_write_failed"
    exit_code = 83
    transient = True
    text = N_("Cannot store {path} in {where}: {detail}. No record was created; the source file is untouched.")


class StoreFileMissing(RecordsError):
    code = "store_file_missing"
    exit_code = 84
    text = N_("The store is missing {path} for document {what}.")


class AuditChainBroken(RecordsError):
    code = "audit_chain_broken"
    exit_code = 85
    text = N_("The audit log was edited or truncated: {detail}")


class InputReadError(RecordsError):
    code = "records_input_unreadable"
    exit_code = 78
    text = N_("{path}: cannot read the file: {detail}")


class StoreFileCorrupt(RecordsError):
    code = "store_file_corrupt"
    exit_code = 86
    text = N_("Stored file {path} no longer matches its SHA-256 {what}; not exported.")
