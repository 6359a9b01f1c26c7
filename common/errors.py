"""Typed errors of sohoa, each with an exit code and one human sentence in Vietnamese and English.

Why: an unattended center needs every failure to say *which file* and *why* in words a clerk reads
(Vietnamese) and an engineer greps (English), and scripts need a stable exit code per kind of failure.
Subclasses only declare their code, exit code and two message templates; callers pass the fields.
Secrets never go into the fields: templates name files, tokens and labels, never PINs or passwords.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Lang = Literal["vi", "en"]


class SohoaError(Exception):
    """Base of all expected failures. ``str(err)`` is the English sentence (logs, tracebacks)."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1
    transient: ClassVar[bool] = False
    #: the pipeline stage this kind of failure belongs to (named in ``<name>.error.txt`` and the journals)
    default_stage: ClassVar[str] = "internal"
    vi: ClassVar[str] = "{detail}"
    en: ClassVar[str] = "{detail}"

    def __init__(self, **fields: Any) -> None:
        fields.setdefault("detail", "")
        self.fields = fields
        super().__init__(self.message("en"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from fields so errors survive pickling across worker processes.
        return (_rebuild, (type(self), self.fields))

    def message(self, lang: Lang = "vi") -> str:
        template = self.vi if lang == "vi" else self.en
        try:
            return template.format(**self.fields)
        except (KeyError, IndexError):
            return f"{self.code}: {self.fields}"

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
    vi = "Lệnh không hợp lệ: {detail}"
    en = "Invalid command line: {detail}"


class ConfigError(SohoaError):
    code = "config"
    exit_code = 3
    vi = "Tệp cấu hình {path} không hợp lệ: {detail}"
    en = "Configuration {path} is invalid: {detail}"


class MissingDependency(SohoaError):
    code = "missing_dependency"
    exit_code = 4
    vi = "Thiếu thành phần {what}: {detail}. Cài đặt bằng lệnh: {fix}"
    en = "Missing dependency {what}: {detail}. Install it with: {fix}"


# --- bad input (10-29) ----------------------------------------------------------------------


class InputError(SohoaError):
    """A problem with one input file: the job is refused, the daemon quarantines the file."""

    default_stage = "ingest"
    code = "input"
    exit_code = 10


class InputMissing(InputError):
    code = "input_missing"
    exit_code = 10
    vi = "{path}: không tìm thấy tệp."
    en = "{path}: file not found."


class InputEmpty(InputError):
    code = "input_empty"
    exit_code = 11
    vi = "{path}: tệp rỗng (0 byte), có thể máy quét chưa ghi xong."
    en = "{path}: the file is empty (0 bytes); the scanner may not have finished writing it."


class InputCorrupt(InputError):
    code = "input_corrupt"
    exit_code = 12
    vi = "{path}: tệp bị hỏng hoặc bị cắt cụt ({detail})."
    en = "{path}: the file is damaged or truncated ({detail})."


class InputWrongType(InputError):
    code = "input_wrong_type"
    exit_code = 13
    vi = "{path}: không phải ảnh quét hoặc PDF được hỗ trợ ({detail})."
    en = "{path}: not a supported scan image or PDF ({detail})."


class InputEncrypted(InputError):
    code = "input_encrypted"
    exit_code = 14
    vi = "{path}: PDF được mã hóa/đặt mật khẩu, không thể xử lý."
    en = "{path}: the PDF is encrypted or password-protected and cannot be processed."


class InputTooLarge(InputError):
    code = "input_too_large"
    exit_code = 15
    vi = "{path}: trang quá lớn ({detail}), vượt giới hạn {limit} megapixel."
    en = "{path}: page too large ({detail}), over the {limit} megapixel limit."


class InputHasText(InputError):
    code = "input_has_text"
    exit_code = 16
    vi = (
        "{path}: PDF đã có lớp văn bản ở trang {pages}; không nhận dạng lại. "
        "Dùng --redo-ocr để thay lớp văn bản cũ."
    )
    en = "{path}: the PDF already has text on page(s) {pages}; use --redo-ocr to replace the old text layer."


class InputAllBlank(InputError):
    code = "input_all_blank"
    exit_code = 17
    vi = "{path}: mọi trang đều trắng và đã bị loại bỏ; không có gì để lưu."
    en = "{path}: every page is blank and was dropped; nothing to write."


class InputTooSmall(InputError):
    code = "input_too_small"
    exit_code = 18
    vi = "{path}: {detail} quá nhỏ để là một trang được quét (tối thiểu {limit} mỗi cạnh)."
    en = "{path}: {detail} is too small to be a scanned page (at least {limit} a side)."


# --- output and processing (30-49) ----------------------------------------------------------


class OutputError(SohoaError):
    default_stage = "write"
    code = "output_unwritable"
    exit_code = 30
    transient = True
    vi = "Không ghi được tệp kết quả {path}: {detail}"
    en = "Cannot write output {path}: {detail}"


class ConformanceError(SohoaError):
    default_stage = "assemble"
    code = "pdfa_nonconforming"
    exit_code = 31
    vi = "Tệp kết quả {path} không đạt PDF/A-2B: {detail}"
    en = "Output {path} does not conform to PDF/A-2B: {detail}"


class ProcessingError(SohoaError):
    default_stage = "process"
    code = "processing"
    exit_code = 32
    vi = "Lỗi khi xử lý {path} ở bước {stage}: {detail}"
    en = "Processing {path} failed at stage {stage}: {detail}"


# --- signing (50-69), records (70-89): subclasses live with their packages -------------------


class SigningError(SohoaError):
    default_stage = "sign"
    code = "signing"
    exit_code = 50
    vi = "Lỗi ký số: {detail}"
    en = "Signing failed: {detail}"


class RecordsError(SohoaError):
    default_stage = "attach"
    code = "records"
    exit_code = 70
    vi = "Lỗi cơ sở dữ liệu hồ sơ: {detail}"
    en = "Dossier records error: {detail}"


class InternalError(SohoaError):
    code = "internal"
    exit_code = 1
    vi = "Lỗi nội bộ không mong đợi: {detail}"
    en = "Unexpected internal error: {detail}"
