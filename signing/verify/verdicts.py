"""ETSI/DSS indications, sub-indications and the clerk's sentences in Vietnamese and English.

Why our own vocabulary module: pyHanko reports separate facts (intact, valid, trusted, coverage,
modification level, an AdES sub-indication for trust problems); a clerk needs *one* verdict and *one*
sentence per signature. The names follow ETSI EN 319 102-1 clause 5.1.3 (as DSS prints them) so the
JSON means the same thing to an auditor who knows DSS. Two sohoa extensions are documented in
docs/verify-json-schema.md: ``NO_SIGNATURE`` (a PDF that carries no signature) and the reason codes.

Every sentence is a template over named fields only (dates, names, counts) — never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sohoa.common.errors import Lang

Indication = Literal["TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED"]
PASSED: Indication = "TOTAL-PASSED"
INDETERMINATE: Indication = "INDETERMINATE"
FAILED: Indication = "TOTAL-FAILED"

_RANK: dict[str, int] = {PASSED: 0, INDETERMINATE: 1, FAILED: 2}

# Sub-indications that make a signature TOTAL-FAILED (ETSI EN 319 102-1 table 5); the others are INDETERMINATE.
FAILED_SUBS = frozenset({"FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "NOT_YET_VALID",
                         "SIG_CONSTRAINTS_FAILURE"})
NO_SIGNATURE = "NO_SIGNATURE"  # sohoa extension: the PDF carries no signature at all


def worst(indications: list[Indication]) -> Indication:
    """The document verdict: the worst of its signatures' verdicts (an empty list is INDETERMINATE)."""
    if not indications:
        return INDETERMINATE
    return max(indications, key=lambda i: _RANK[i])


def indication_for(sub: str | None) -> Indication:
    if sub is None:
        return PASSED
    return FAILED if sub in FAILED_SUBS else INDETERMINATE


# code → (Vietnamese template, English template). Codes are stable (documented in the JSON schema).
SENTENCES: dict[str, tuple[str, str]] = {
    # --- the verdict sentences (one per sub-indication, plus the passing one) ---
    "ok": ("Chữ ký hợp lệ, chứng thư tin cậy; nội dung không bị thay đổi sau khi ký.",
           "Valid signature from a trusted certificate; the content has not changed since signing."),
    "ok_timestamp": ("Dấu thời gian hợp lệ, do tổ chức cấp dấu thời gian tin cậy cấp.",
                     "Valid document timestamp from a trusted timestamp authority."),
    "NO_SIGNATURE": ("Tệp PDF không có chữ ký số nào; không thể xác nhận tính xác thực.",
                     "The PDF carries no digital signature; its authenticity cannot be confirmed."),
    "HASH_FAILURE": ("Nội dung đã ký bị sửa đổi (mã băm không khớp): tài liệu không còn nguyên vẹn.",
                     "The signed content was altered (digest mismatch): the document is not intact."),
    "SIG_CRYPTO_FAILURE": ("Giá trị chữ ký số không đúng với chứng thư của người ký.",
                           "The signature value does not verify with the signer's certificate."),
    "FORMAT_FAILURE": ("Chữ ký hoặc tệp PDF không đúng định dạng: {detail}",
                       "The signature or the PDF is malformed: {detail}"),
    "MODIFIED": ("Tài liệu đã bị thay đổi sau khi ký, không được phép: {changes_vi}.",
                 "The document was changed after signing in a way that is not allowed: {changes_en}."),
    "NO_CERTIFICATE_CHAIN_FOUND": (
        "Không xây dựng được chuỗi chứng thư tới một chứng thư gốc tin cậy (chưa cài chứng thư gốc "
        "hoặc thiếu chứng thư trung gian) — người ký: {issuer}.",
        "No certificate chain to a trusted root could be built (root not installed or intermediate "
        "missing) — issued by: {issuer}."),
    "REVOKED": ("Chứng thư số của người ký đã bị thu hồi ngày {revoked_at}, trước thời điểm ký đã được "
                "chứng minh ({proven_time}).",
                "The signer's certificate was revoked on {revoked_at}, before the proven signing time "
                "({proven_time})."),
    "REVOKED_NO_POE": ("Chứng thư số đã bị thu hồi ngày {revoked_at}; không có dấu thời gian chứng minh "
                       "chữ ký được tạo trước đó.",
                       "The certificate was revoked on {revoked_at}; no timestamp proves the signature "
                       "existed before that."),
    "REVOKED_CA_NO_POE": ("Chứng thư của tổ chức cấp phát trong chuỗi đã bị thu hồi ngày {revoked_at}.",
                          "A CA certificate in the chain was revoked on {revoked_at}."),
    "OUT_OF_BOUNDS_NO_POE": ("Chứng thư số đã hết hạn ngày {not_after}; không có dấu thời gian chứng minh "
                             "chữ ký được tạo khi chứng thư còn hiệu lực.",
                             "The certificate expired on {not_after}; no timestamp proves the signature "
                             "was made while it was valid."),
    "OUT_OF_BOUNDS_NOT_REVOKED": ("Chứng thư số đã hết hạn ngày {not_after}; không còn dữ liệu thu hồi để "
                                  "xác nhận tại thời điểm ký.",
                                  "The certificate expired on {not_after}; no revocation data proves its "
                                  "status at signing time."),
    "NOT_YET_VALID": ("Chứng thư số chưa có hiệu lực tại thời điểm ký (hiệu lực từ {not_before}).",
                      "The certificate was not yet valid at signing time (valid from {not_before})."),
    "TRY_LATER": ("Chưa xác minh được tình trạng thu hồi của chứng thư (không có dữ liệu nhúng{online_vi}); "
                  "hãy kiểm tra lại khi có kết nối mạng.",
                  "The certificate's revocation status could not be checked (no embedded data{online_en}); "
                  "try again when online."),
    "CHAIN_CONSTRAINTS_FAILURE": ("Chứng thư số không được phép dùng để ký (mục đích sử dụng khóa hoặc "
                                  "ràng buộc của chuỗi chứng thư).",
                                  "The certificate may not be used for signing (key usage or chain "
                                  "constraints)."),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": ("Chuỗi chứng thư không hợp lệ: {detail}",
                                          "The certificate chain is not valid: {detail}"),
    "CRYPTO_CONSTRAINTS_FAILURE": ("Thuật toán hoặc độ dài khóa không còn an toàn.",
                                   "The algorithm or key size is no longer considered secure."),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": ("Thuật toán không còn an toàn và không có bằng chứng chữ ký có "
                                          "trước thời điểm đó.",
                                          "The algorithm is no longer secure and nothing proves the "
                                          "signature predates that."),
    "NO_SIGNING_CERTIFICATE_FOUND": ("Không tìm thấy chứng thư của người ký trong chữ ký.",
                                     "The signer's certificate is not in the signature."),
    "NO_POE": ("Thiếu bằng chứng về thời điểm tồn tại của chữ ký.",
               "No proof of existence for the signature."),
    "GENERIC": ("Không xác định được hiệu lực của chữ ký: {detail}",
                "The signature's validity could not be determined: {detail}"),
    # --- further reasons (details, warnings) ---
    "expired_after_proven_time": (
        "Chứng thư đã hết hạn ngày {not_after}, nhưng dấu thời gian chứng minh chữ ký được tạo lúc "
        "{proven_time}, khi chứng thư còn hiệu lực.",
        "The certificate expired on {not_after}, but a timestamp proves the signature was made at "
        "{proven_time}, while it was valid."),
    "revoked_after_proven_time": (
        "Chứng thư bị thu hồi ngày {revoked_at}, sau thời điểm ký đã được chứng minh ({proven_time}).",
        "The certificate was revoked on {revoked_at}, after the proven signing time ({proven_time})."),
    "validated_at_proven_time": ("Chuỗi chứng thư được kiểm tra tại thời điểm {proven_time}.",
                                 "The chain was validated at the proven time {proven_time}."),
    "timestamp_untrusted": ("Dấu thời gian đi kèm không hợp lệ hoặc không tin cậy; không dùng làm bằng chứng "
                            "thời điểm ký.",
                            "The attached timestamp is invalid or untrusted; it is not used as proof of time."),
    "claimed_time_only": ("Thời điểm ký {claimed_time} chỉ do người ký tự khai (không có dấu thời gian).",
                          "The signing time {claimed_time} is only claimed by the signer (no timestamp)."),
    "later_revisions_allowed": ("Sau khi ký có {count} lần cập nhật được phép: {changes_vi}.",
                                "{count} allowed update(s) after signing: {changes_en}."),
    "annotations_allowed": ("Có ghi chú (annotation) được thêm sau khi ký; quyền của tài liệu cho phép.",
                            "Annotations were added after signing; the document's permissions allow this."),
    "revocation_online": ("Tình trạng thu hồi được tra cứu trực tuyến (OCSP/CRL).",
                          "Revocation status was fetched online (OCSP/CRL)."),
    "revocation_embedded": ("Tình trạng thu hồi lấy từ dữ liệu nhúng trong tệp.",
                            "Revocation status came from data embedded in the file."),
    "certified": ("Chữ ký chứng nhận (DocMDP): {permission_vi}.", "Certifying signature (DocMDP): {permission_en}."),
}

CHANGE_WORDS: dict[str, tuple[str, str]] = {
    "signature": ("thêm chữ ký", "signature added"),
    "document-timestamp": ("thêm dấu thời gian tài liệu", "document timestamp added"),
    "dss": ("thêm dữ liệu xác minh (DSS)", "validation data (DSS) added"),
    "form-filling": ("điền biểu mẫu", "form filled"),
    "annotations": ("thêm/sửa ghi chú", "annotations added or changed"),
    "content": ("sửa nội dung trang", "page content changed"),
    "pages-added": ("thêm trang", "pages added"),
    "pages-removed": ("xóa trang", "pages removed"),
    "objects-replaced": ("thay thế đối tượng", "objects replaced"),
    "metadata": ("cập nhật siêu dữ liệu", "metadata updated"),
}

PERMISSIONS: dict[int, tuple[str, str]] = {
    1: ("không cho phép thay đổi", "no changes allowed"),
    2: ("chỉ cho phép điền biểu mẫu và ký", "form filling and signing allowed"),
    3: ("cho phép điền biểu mẫu, ký và ghi chú", "form filling, signing and annotations allowed"),
}


def change_words(codes: list[str], lang: Lang) -> str:
    index = 0 if lang == "vi" else 1
    seen: list[str] = []
    for code in codes:
        word = CHANGE_WORDS.get(code, (code, code))[index]
        if word not in seen:
            seen.append(word)
    return ", ".join(seen)


@dataclass(frozen=True)
class Reason:
    """One explained fact: a stable ``code`` and the sentence in both languages."""

    code: str
    vi: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.vi if lang == "vi" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "vi": self.vi, "en": self.en}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def reason(code: str, **fields: Any) -> Reason:
    """The sentence for ``code`` with ``fields`` filled in (missing fields print as '?')."""
    vi, en = SENTENCES.get(code, SENTENCES["GENERIC"])
    values = _Blank({k: "" if v is None else str(v) for k, v in fields.items()})
    values.setdefault("detail", code)
    return Reason(code, vi.format_map(values), en.format_map(values))
