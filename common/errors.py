"""Typed errors of sohoa, each with an exit code and one human sentence in Vietnamese and English.

Why: an unattended center needs every failure to say *which file* and *why* in words a clerk reads
(Vietnamese) and an engineer greps (English), and scripts need a stable exit code per kind of failure.
Subclasses only declare their code, exit code and one English sentence template (``text``, marked with
``N_`` for the message catalog, ``common/messages.py``); the Vietnamese sentence is its translation in
``common/locale/vi/LC_MESSAGES/sohoa.po``. Callers pass the fields. A plain-text ``detail`` is taken as a
library's English text (``common/reasons.py``): verbatim in English, its translated reason in Vietnamese.
Secrets never go into the fields: templates name files, tokens and labels, never PINs or passwords.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sohoa.common.messages import N_, Lang, Message, render
from sohoa.common.reasons import foreign

__all__ = ["Lang"]  # re-exported: ``from sohoa.common.errors import Lang`` predates the catalog


class SohoaError(Exception):
    """Base of all expected failures. ``str(err)`` is the English sentence (logs, tracebacks)."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1
    transient: ClassVar[bool] = False
    #: the pipeline stage this kind of failure belongs to (named in ``<name>.error.txt`` and the journals)
    default_stage: ClassVar[str] = "internal"
    #: the English sentence template (a catalog msgid); its fields come from the raiser
    text: ClassVar[str] = N_("{detail}")

    def __init__(self, **fields: Any) -> None:
        detail = fields.setdefault("detail", "")
        if isinstance(detail, str) and detail:
            fields["detail"] = foreign(detail)
        self.fields = fields
        super().__init__(self.message("en"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from fields so errors survive pickling across worker processes.
        return (_rebuild, (type(self), self.fields))

    def message(self, lang: Lang = "vi") -> str:
        """The sentence in ``lang`` (Vietnamese unless ``"en"``), every field filled in."""
        lang = "vi" if lang == "vi" else "en"
        try:
            return Message(self.text, self.fields).render(lang)
        except (KeyError, IndexError, ValueError):
            values = ", ".join(f"{key}={render(value, lang)}" for key, value in self.fields.items())
            return f"{self.code}: {values}"

    @property
    def stage(self) -> str:
        """The stage that failed: the ``stage`` field when the raiser named one, else the kind's default."""
        return str(self.fields.get("stage") or self.default_stage)

    @property
    def path(self) -> str | None:
        value = self.fields.get("path")
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "exit_code": self.exit_code,
            "path": self.path,
            "message_vi": self.message("vi"),
            "message_en": self.message("en"),
        }


def _rebuild(cls: type[SohoaError], fields: dict[str, Any]) -> SohoaError:
    return cls(**fields)


# --- usage, configuration, environment (2-9) -------------------------------------------------


class UsageError(SohoaError):
    code = "usage"
    exit_code = 2
    text = N_("Invalid command line: {detail}")


class ConfigError(SohoaError):
    code = "config"
    exit_code = 3
    text = N_("Configuration {path} is invalid: {detail}")


class MissingDependency(SohoaError):
    code = "missing_dependency"
    exit_code = 4
    text = N_("Missing dependency {what}: {detail}. Install it with: {fix}")


# --- bad input (10-29) ----------------------------------------------------------------------


class InputError(SohoaError):
    """A problem with one input file: the job is refused, the daemon quarantines the file."""

    default_stage = "ingest"
    code = "input"
    exit_code = 10


class InputMissing(InputError):
    code = "input_missing"
    exit_code = 10
    text = N_("{path}: file not found.")


class InputEmpty(InputError):
    code = "input_empty"
    exit_code = 11
    text = N_("{path}: the file is empty (0 bytes); the scanner may not have finished writing it.")


class InputCorrupt(InputError):
    code = "input_corrupt"
    exit_code = 12
    text = N_("{path}: the file is damaged or truncated ({detail}).")


class InputWrongType(InputError):
    code = "input_wrong_type"
    exit_code = 13
    text = N_("{path}: not a supported scan image or PDF ({detail}).")


class InputEncrypted(InputError):
    code = "input_encrypted"
    exit_code = 14
    text = N_("{path}: the PDF is encrypted or password-protected and cannot be processed.")


class InputTooLarge(InputError):
    code = "input_too_large"
    exit_code = 15
    text = N_("{path}: page too large ({detail}), over the {limit} megapixel limit.")


class InputHasText(InputError):
    code = "input_has_text"
    exit_code = 16
    text = N_("{path}: the PDF already has text on page(s) {pages}; use --redo-ocr to replace the old text layer.")


class InputAllBlank(InputError):
    code = "input_all_blank"
    exit_code = 17
    text = N_("{path}: every page is blank and was dropped; nothing to write.")


class InputTooSmall(InputError):
    code = "input_too_small"
    exit_code = 18
    text = N_("{path}: {detail} is too small to be a scanned page (at least {limit} a side).")


# --- output and processing (30-49) ----------------------------------------------------------


class OutputError(SohoaError):
    default_stage = "write"
    code = "output_unwritable"
    exit_code = 30
    transient = True
    text = N_("Cannot write output {path}: {detail}")


class ConformanceError(SohoaError):
    default_stage = "assemble"
    code = "pdfa_nonconforming"
    exit_code = 31
    text = N_("Output {path} does not conform to PDF/A-2B: {detail}")


class ProcessingError(SohoaError):
    default_stage = "process"
    code = "processing"
    exit_code = 32
    text = N_("Processing {path} failed at stage {stage}: {detail}")


# --- signing (50-69), records (70-89): subclasses live with their packages -------------------


class SigningError(SohoaError):
    default_stage = "sign"
    code = "signing"
    exit_code = 50
    text = N_("Signing failed: {detail}")


class RecordsError(SohoaError):
    default_stage = "attach"
    code = "records"
    exit_code = 70
    text = N_("Dossier records error: {detail}")


class InternalError(SohoaError):
    code = "internal"
    exit_code = 99  # no verdict or other failure uses it: a script can tell a crash from an answer
    text = N_("Unexpected internal error: {detail}")
