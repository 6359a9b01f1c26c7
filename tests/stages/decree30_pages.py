"""Decree 30/2020 documents drawn as scanned pages, with the fields they carry (the truth to extract).

Why two families: ``TUNING`` pages (Liberation Serif, a decision of a provincial committee's department)
are what the extraction rules were written against; ``HELD_OUT`` pages use other fonts (Noto Serif,
DejaVu Serif), other document kinds (an official letter with ``V/v``, a licence with a validity term, a
one-agency header on two lines), another resolution and a slight skew and noise — they are only
measured, never tuned on. Both are rendered with Pillow and read by real Tesseract in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = {
    "liberation": ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
                   "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
                   "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf"),
    "noto": ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
             "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf",
             "/usr/share/fonts/truetype/noto/NotoSerif-Italic.ttf"),
    "dejavu": ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf"),
}


@dataclass
class Decree30Doc:
    name: str
    font: str
    dpi: int
    header_left: list[str]  # lines, top to bottom, above the number
    number_line: str
    place_date: str
    title: str | None
    subject: list[str]
    body: list[str]
    recipients: list[str]
    signature: list[str]  # authority, title lines (upper case), then the name under the seal gap
    truth: dict[str, str] = field(default_factory=dict)
    skew_deg: float = 0.0
    noise: float = 0.0


BODY = ["Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
        "Xét đề nghị của Trưởng phòng Hành chính - Tư pháp tại Tờ trình số 45/TTr-HCTP,"]

TUNING = [
    Decree30Doc(
        "quyet-dinh-so-tu-phap", "liberation", 200,
        ["UBND TỈNH QUẢNG TRỊ", "SỞ TƯ PHÁP"], "Số: 123/QĐ-STP", "Quảng Trị, ngày 06 tháng 9 năm 2022",
        "QUYẾT ĐỊNH", ["Về việc cấp phiếu lý lịch tư pháp cho công dân"], BODY,
        ["Như Điều 3;", "Lưu: VT, HCTP."], ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn Hùng"],
        {"parent_agency": "UBND TỈNH QUẢNG TRỊ", "issuing_agency": "SỞ TƯ PHÁP", "doc_number": "123/QĐ-STP",
         "doc_type": "QUYẾT ĐỊNH", "issue_place": "Quảng Trị", "issue_date": "2022-09-06",
         "subject": "Về việc cấp phiếu lý lịch tư pháp cho công dân", "signer_authority": "KT. GIÁM ĐỐC",
         "signer_title": "PHÓ GIÁM ĐỐC", "signer_name": "Nguyễn Văn Hùng", "recipients": "Như Điều 3; Lưu: VT, HCTP"}),
]

HELD_OUT = [
    Decree30Doc(
        "giay-phep-ubnd-huyen", "noto", 300,
        ["ỦY BAN NHÂN DÂN", "HUYỆN GIO LINH"], "Số: 57/GP-UBND", "Gio Linh, ngày 14 tháng 11 năm 2023",
        "GIẤY PHÉP", ["Về việc xây dựng nhà ở riêng lẻ"],
        ["Giấy phép này có hiệu lực đến ngày 14 tháng 11 năm 2024.",
         "Chủ đầu tư phải thực hiện đúng nội dung được cấp phép."],
        ["Chủ đầu tư;", "Lưu: VT."], ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Thị Hồng Nhung"],
        {"issuing_agency": "ỦY BAN NHÂN DÂN HUYỆN GIO LINH", "doc_number": "57/GP-UBND", "doc_type": "GIẤY PHÉP",
         "issue_place": "Gio Linh", "issue_date": "2023-11-14", "subject": "Về việc xây dựng nhà ở riêng lẻ",
         "signer_authority": "TM. ỦY BAN NHÂN DÂN", "signer_title": "CHỦ TỊCH", "signer_name": "Lê Thị Hồng Nhung",
         "valid_until": "2024-11-14", "recipients": "Chủ đầu tư; Lưu: VT"}, skew_deg=0.4, noise=12.0),
    Decree30Doc(
        "cong-van-so-xay-dung", "dejavu", 200,
        ["UBND TỈNH QUẢNG TRỊ", "SỞ XÂY DỰNG"], "Số: 2045/SXD-QLN", "Quảng Trị, ngày 02 tháng 3 năm 2021",
        None, ["V/v hướng dẫn hồ sơ cấp giấy phép xây dựng"], ["Kính gửi: Ủy ban nhân dân các huyện, thị xã."],
        ["Như trên;", "Giám đốc Sở (b/c);", "Lưu: VT, QLN."], ["GIÁM ĐỐC", "Trần Quốc Bảo"],
        {"parent_agency": "UBND TỈNH QUẢNG TRỊ", "issuing_agency": "SỞ XÂY DỰNG", "doc_number": "2045/SXD-QLN",
         "doc_type": "CÔNG VĂN", "issue_place": "Quảng Trị", "issue_date": "2021-03-02",
         "subject": "hướng dẫn hồ sơ cấp giấy phép xây dựng", "signer_title": "GIÁM ĐỐC",
         "signer_name": "Trần Quốc Bảo", "recipients": "Như trên; Giám đốc Sở (b/c); Lưu: VT, QLN"}, noise=8.0),
]


def render(doc: Decree30Doc) -> np.ndarray:
    """The document's first page as an RGB scan (A4 at ``doc.dpi``)."""
    regular, bold, italic = (ImageFont.truetype(path, size=round(doc.dpi * 13 / 72)) for path in FONTS[doc.font])
    big = ImageFont.truetype(FONTS[doc.font][1], size=round(doc.dpi * 14 / 72))
    width, height = round(8.27 * doc.dpi), round(11.69 * doc.dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin, line = round(0.9 * doc.dpi), round(0.27 * doc.dpi)
    left_mid, right_mid = margin + round(1.5 * doc.dpi), width - margin - round(1.8 * doc.dpi)

    def centred(text: str, x: int, y: int, font: ImageFont.FreeTypeFont) -> None:
        draw.text((x - draw.textlength(text, font=font) / 2, y), text, font=font, fill=0)

    y = margin
    for i, text in enumerate(doc.header_left):
        centred(text, left_mid, y + i * line, bold if i == len(doc.header_left) - 1 else regular)
    centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_mid, y, bold)
    centred("Độc lập - Tự do - Hạnh phúc", right_mid, y + line, bold)
    y += len(doc.header_left) * line + line // 2
    centred(doc.number_line, left_mid, y, regular)
    if doc.title is None:
        for i, text in enumerate(doc.subject):
            centred(text, left_mid, y + (i + 1) * line, regular)
    centred(doc.place_date, right_mid, y, italic)
    y += 3 * line
    if doc.title is not None:
        centred(doc.title, width // 2, y, big)
        y += line
        for text in doc.subject:
            centred(text, width // 2, y, bold)
            y += line
    y += line
    for text in doc.body:
        draw.text((margin, y), text, font=regular, fill=0)
        y += line
    y += line
    block = y
    draw.text((margin, y), "Nơi nhận:", font=bold, fill=0)
    for text in doc.recipients:
        y += line
        draw.text((margin, y), f"- {text}", font=regular, fill=0)
    *titles, name = doc.signature
    for i, text in enumerate(titles):
        centred(text, right_mid, block + i * line, bold)
    centred(name, right_mid, block + (len(titles) + 3) * line, bold)
    image = page.rotate(doc.skew_deg, fillcolor=255, resample=Image.Resampling.BICUBIC) if doc.skew_deg else page
    pixels = np.asarray(image, dtype=np.float32)
    if doc.noise:
        pixels = pixels + np.random.default_rng(30).normal(0, doc.noise, pixels.shape)
    grey = np.clip(pixels, 0, 255).astype(np.uint8)
    return np.dstack([grey, grey, grey])


def fonts_present() -> bool:
    return all(Path(p).exists() for paths in FONTS.values() for p in paths)
