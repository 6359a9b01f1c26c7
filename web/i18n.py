"""Words of the pages, Vietnamese first. The verdict labels and sentences come from ``signing.verify``.

Why a dictionary rather than gettext catalogues: two languages and a hundred short strings; a missing
key falls back to the Vietnamese text so a page never shows a raw key to a clerk.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request

Lang = Literal["vi", "en"]
LANG_COOKIE = "sohoa_lang"

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "app": "Số hóa hồ sơ", "verify": "Kiểm tra chữ ký", "dossiers": "Tra cứu hồ sơ", "status": "Tình trạng",
        "login": "Đăng nhập", "logout": "Đăng xuất", "token": "Mã truy cập", "login_help":
        "Nhập mã truy cập do quản trị viên cấp (lệnh sohoa token create).", "login_failed":
        "Mã truy cập không đúng hoặc đã bị thu hồi.", "signed_in_as": "Đang dùng",
        "choose_pdf": "Chọn hoặc kéo thả tệp PDF", "check": "Kiểm tra", "not_stored":
        "Tệp tải lên chỉ được kiểm tra, không được lưu lại.", "result": "Kết quả",
        "signer": "Người ký", "org": "Tổ chức", "proven_time": "Thời điểm (đã chứng minh)",
        "claimed_time": "Thời điểm (tự khai)", "why": "Lý do", "record": "Đối chiếu hồ sơ",
        "no_record": "Không khớp với tài liệu nào do trung tâm cấp.", "print": "In báo cáo",
        "report": "Báo cáo in được", "unreadable": "KHÔNG ĐỌC ĐƯỢC", "file": "Tệp", "no_signature":
        "Tệp không có chữ ký số.",
        "search": "Tìm", "search_help": "Mã hồ sơ hoặc nội dung (gõ có dấu hay không dấu đều được)",
        "code": "Mã hồ sơ", "received": "Ngày nhận", "applicant": "Người nộp", "procedure": "Thủ tục",
        "documents": "Văn bản", "no_results": "Không tìm thấy kết quả.", "hits": "Văn bản khớp nội dung",
        "dossier": "Hồ sơ", "kind": "Loại", "title": "Tiêu đề", "pages": "Số trang", "size": "Dung lượng",
        "signatures": "Chữ ký", "download": "Tải về", "open": "Mở", "preview": "Trang 1",
        "digitized_by": "Người số hóa", "digitized_at": "Thời điểm số hóa", "attach": "Đính kèm văn bản",
        "attach_ok": "Đã đính kèm văn bản.", "attach_same": "Văn bản này đã có trong hồ sơ.",
        "component": "Thành phần hồ sơ", "result_kind": "Kết quả", "copy": "Bản sao",
        "page_word": "trang", "status_daemon": "Dịch vụ theo dõi thư mục", "daemon_down":
        "Không liên lạc được với dịch vụ theo dõi thư mục", "folders": "Thư mục", "queue": "Hàng đợi",
        "in_flight": "Đang xử lý", "today_counts": "Hôm nay", "all_counts": "Tổng cộng",
        "failures": "Lỗi gần đây", "reason": "Lý do", "when": "Lúc", "rate": "Tỷ lệ số hóa",
        "rate_today": "Hôm nay", "rate_month": "Tháng này", "rate_dossiers": "Hồ sơ tiếp nhận",
        "rate_components": "Có thành phần hồ sơ số hóa", "rate_results": "Có kết quả số hóa",
        "state_done": "xong", "state_failed": "lỗi", "state_review": "cần xem lại", "state_claimed": "đã nhận",
        "state_processing": "đang xử lý", "state_released": "tạm dừng", "none": "không có",
        "error": "Lỗi", "back": "Quay lại", "switch": "English", "document": "Văn bản",
    },
    "en": {
        "app": "Dossier digitization", "verify": "Verify a signature", "dossiers": "Find a dossier",
        "status": "Status", "login": "Sign in", "logout": "Sign out", "token": "API token", "login_help":
        "Enter the token your administrator gave you (sohoa token create).", "login_failed":
        "The token is wrong or has been revoked.", "signed_in_as": "Signed in as",
        "choose_pdf": "Choose or drop a PDF file", "check": "Verify", "not_stored":
        "Uploaded files are only checked, never kept.", "result": "Result",
        "signer": "Signer", "org": "Organisation", "proven_time": "Time (proven)", "claimed_time": "Time (claimed)",
        "why": "Why", "record": "Records match", "no_record": "Does not match any document issued by the center.",
        "print": "Print report", "report": "Printable report", "unreadable": "UNREADABLE", "file": "File",
        "no_signature": "The file has no digital signature.",
        "search": "Search", "search_help": "Dossier code or text (with or without diacritics)",
        "code": "Dossier code", "received": "Received", "applicant": "Applicant", "procedure": "Procedure",
        "documents": "Documents", "no_results": "Nothing found.", "hits": "Documents matching the text",
        "dossier": "Dossier", "kind": "Kind", "title": "Title", "pages": "Pages", "size": "Size",
        "signatures": "Signatures", "download": "Download", "open": "Open", "preview": "Page 1",
        "digitized_by": "Digitized by", "digitized_at": "Digitized at", "attach": "Attach a document",
        "attach_ok": "The document was attached.", "attach_same": "This document is already in the dossier.",
        "component": "Dossier component", "result_kind": "Result", "copy": "Copy",
        "page_word": "pages", "status_daemon": "Watch-folder service", "daemon_down":
        "Cannot reach the watch-folder service", "folders": "Folders", "queue": "Queue",
        "in_flight": "Processing", "today_counts": "Today", "all_counts": "All time",
        "failures": "Recent failures", "reason": "Reason", "when": "When", "rate": "Digitization rate",
        "rate_today": "Today", "rate_month": "This month", "rate_dossiers": "Dossiers received",
        "rate_components": "With digitized components", "rate_results": "With digitized results",
        "state_done": "done", "state_failed": "failed", "state_review": "needs review", "state_claimed": "claimed",
        "state_processing": "processing", "state_released": "paused", "none": "none",
        "error": "Error", "back": "Back", "switch": "Tiếng Việt", "document": "Document",
    },
}


class Words:
    """``t.key`` or ``t["key"]`` in templates; unknown keys fall back to Vietnamese, then to the key."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self._words = WORDS[lang]

    def __getitem__(self, key: str) -> str:
        return self._words.get(key) or WORDS["vi"].get(key) or key

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]


def request_lang(request: Request, default: str = "vi") -> Lang:
    """``?lang=`` first (the switch link), then the cookie, then the configured default."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), default):
        if value in ("vi", "en"):
            return value  # type: ignore[return-value]
    return "vi"
