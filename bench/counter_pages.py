"""Clean page layouts for the counter benchmark (issue 14), drawn in fonts and layouts no OCR tuning saw.

Why a new generator: ``bench.corpus`` (PIL, Liberation/Noto/DejaVu regular faces, one flat column of
``SENTENCES``, seed 2026) tuned the orientation and clean thresholds, and ``bench.vietnamese_corpus``'s
PIL + Liberation split (seed 11) tuned the OCR copy and the lexicon. The pages here are laid out as a
counter sees them — two columns, ruled tables, forms with boxes, Decree-30 documents with a red seal
and a signature over the text, receipts with a QR code, handwriting-like strokes in the margin — in
FreeFont, DejaVu Condensed and Noto Display faces, from text composed for this benchmark only. A second
producer (LibreOffice Writer from HTML, rasterised by pdftoppm) sets the ``office`` pages.

Every layout returns the clean RGB page and its ground truth (NFC, one line per printed line, in
reading order: a two-column page is its left column then its right one, a table row by row).
Marks that are not text (seal ring, signature, margin strokes, QR) are not in the truth.
"""

from __future__ import annotations

import html
import io
import math
import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont

_TT = Path("/usr/share/fonts/truetype")
# (regular, bold) per held-out face; none of them is in bench/corpus.py's CORPUS_FONTS or TUNE_FONTS.
HELD_OUT_FACES = {
    "FreeSerif": (_TT / "freefont/FreeSerif.ttf", _TT / "freefont/FreeSerifBold.ttf"),
    "FreeSans": (_TT / "freefont/FreeSans.ttf", _TT / "freefont/FreeSansBold.ttf"),
    "DejaVu Serif Condensed": (_TT / "dejavu/DejaVuSerifCondensed.ttf", _TT / "dejavu/DejaVuSerifCondensed-Bold.ttf"),
    "DejaVu Sans Condensed": (_TT / "dejavu/DejaVuSansCondensed.ttf", _TT / "dejavu/DejaVuSansCondensed-Bold.ttf"),
    "Noto Serif Display": (_TT / "noto/NotoSerifDisplay-Regular.ttf", _TT / "noto/NotoSerifDisplay-Bold.ttf"),
    "Noto Sans Display": (_TT / "noto/NotoSansDisplay-Regular.ttf", _TT / "noto/NotoSansDisplay-Bold.ttf"),
}
OFFICE_FACES = ["FreeSans", "DejaVu Serif Condensed"]
# A second held-out set, added after the first one had been looked at (issue 14, second round): the
# Times New Roman and Arial metric twins the real Decree-30 documents are typed in, plus Charis SIL and
# Roboto. No sohoa setting was tuned on them; use them with a seed no tuning run used.
FRESH_FACES = {
    "Tinos": (_TT / "croscore/Tinos-Regular.ttf", _TT / "croscore/Tinos-Bold.ttf"),
    "Arimo": (_TT / "croscore/Arimo-Regular.ttf", _TT / "croscore/Arimo-Bold.ttf"),
    "Charis SIL": (_TT / "charis/CharisSIL-Regular.ttf", _TT / "charis/CharisSIL-Bold.ttf"),
    "Roboto": (_TT / "roboto/unhinted/RobotoTTF/Roboto-Regular.ttf", _TT / "roboto/unhinted/RobotoTTF/Roboto-Bold.ttf"),
}
FRESH_OFFICE_FACES = ["Tinos", "Arimo"]
FACE_SETS = {"seen": (HELD_OUT_FACES, OFFICE_FACES), "fresh": (FRESH_FACES, FRESH_OFFICE_FACES)}
ALL_FACES = {**HELD_OUT_FACES, **FRESH_FACES}
INK = (24, 24, 28)

PROSE = [
    "Ngày mười bốn tháng ba, ông Vũ Đình Khải đến quầy số hai nộp hồ sơ đề nghị tách thửa đất.",
    "Cán bộ một cửa kiểm tra từng giấy tờ, đối chiếu bản chụp với bản gốc rồi trả lại bản gốc.",
    "Hồ sơ gồm tờ khai, sơ đồ thửa đất, giấy chứng nhận đã cấp và chứng từ nộp nghĩa vụ tài chính.",
    "Người nộp được hướng dẫn quét mã trên phiếu hẹn để theo dõi tiến độ giải quyết qua điện thoại.",
    "Trường hợp cần xác minh thực địa, thời hạn giải quyết được kéo dài thêm không quá mười ngày.",
    "Bà Lương Thị Ngọc Diệp xin cấp bản sao trích lục khai tử của mẹ để làm thủ tục thừa kế.",
    "Phòng Tư pháp đã chuyển hồ sơ sang Ủy ban nhân dân xã để lấy ý kiến về nơi cư trú cuối cùng.",
    "Kết quả giải quyết được gửi về hộp thư điện tử của người dân và lưu trong kho dữ liệu số.",
    "Doanh nghiệp tư nhân Thành Đạt đề nghị điều chỉnh ngành nghề kinh doanh và địa chỉ trụ sở.",
    "Mọi khoản phí đều được thu qua tài khoản của kho bạc, có biên lai điện tử gửi kèm tin nhắn.",
    "Anh Hồ Quang Hiếu phản ánh việc chậm trả kết quả và đã được lãnh đạo trung tâm trả lời ngay.",
    "Bản chụp các giấy tờ phải rõ nét, đủ trang, đúng thứ tự và không bị che khuất nội dung.",
    "Những hồ sơ nộp sau mười sáu giờ được tính là nộp vào ngày làm việc kế tiếp theo quy định.",
    "Chị Khúc Thị Yến được hướng dẫn bổ sung giấy xác nhận của trường nơi con đang theo học.",
    "Sau khi số hóa, bản giấy được trả lại cho công dân, bản điện tử được ký số và lưu trữ lâu dài.",
    "Ủy ban nhân dân huyện Triệu Phong giao phòng chuyên môn thẩm định và trình ký đúng thời hạn.",
    "Người cao tuổi, phụ nữ mang thai và người khuyết tật được bố trí ghế chờ gần quầy tiếp nhận.",
    "Thư ký trung tâm tổng hợp số liệu hồ sơ trễ hạn gửi văn phòng ủy ban vào thứ sáu hằng tuần.",
]
HEADINGS = ["ĐƠN ĐỀ NGHỊ TÁCH THỬA ĐẤT", "TỜ KHAI ĐĂNG KÝ THƯỜNG TRÚ", "BẢN KÊ KHAI THÀNH PHẦN HỒ SƠ",
            "PHIẾU YÊU CẦU CUNG CẤP THÔNG TIN", "BÁO CÁO TÌNH HÌNH TIẾP NHẬN HỒ SƠ", "ĐƠN XIN XÁC NHẬN NƠI CƯ TRÚ"]
TABLE_HEAD = ["STT", "Tên giấy tờ", "Số bản", "Ghi chú"]
TABLE_ROWS = [("Tờ khai theo mẫu", "01", "bản chính"), ("Giấy chứng nhận quyền sử dụng đất", "01", "bản gốc"),
              ("Sơ đồ vị trí thửa đất", "02", "có xác nhận"), ("Căn cước công dân", "01", "bản chụp"),
              ("Biên lai nộp lệ phí", "01", "điện tử"), ("Văn bản ủy quyền", "01", "có công chứng"),
              ("Giấy khai sinh của con", "01", "bản sao"), ("Hợp đồng chuyển nhượng", "03", "bản chính")]
FORM_FIELDS = [("Họ, chữ đệm và tên", "Đặng Thị Thu Trang"), ("Ngày, tháng, năm sinh", "07/11/1986"),
               ("Số định danh cá nhân", "045186003217"), ("Nơi thường trú", "khu phố 3, phường Đông Giang"),
               ("Số điện thoại", "0914 226 083"), ("Nghề nghiệp", "kế toán viên"),
               ("Quan hệ với chủ hộ", "vợ"), ("Lý do đề nghị", "chuyển nơi ở theo gia đình")]
AGENCIES = [("UBND TỈNH QUẢNG TRỊ", "SỞ NỘI VỤ"), ("UBND HUYỆN TRIỆU PHONG", "PHÒNG TƯ PHÁP"),
            ("UBND THÀNH PHỐ ĐÔNG HÀ", "UBND PHƯỜNG ĐÔNG GIANG")]
SIGNERS = [("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Hữu Thắng"), ("TRƯỞNG PHÒNG", "", "Lê Thị Bích Ngân"),
           ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Phan Văn Quyết")]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class Canvas:
    """A page being drawn: the image, its dpi, the chosen face, and the truth lines in reading order."""

    def __init__(self, rng: random.Random, face: str, dpi: int, size_mm: tuple[float, float] = (210.0, 297.0)):
        self.rng, self.face, self.dpi = rng, face, dpi
        self.mm = dpi / 25.4
        self.image = Image.new("RGB", (round(size_mm[0] * self.mm), round(size_mm[1] * self.mm)), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.truth: list[str] = []

    def font(self, pt: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(ALL_FACES[self.face][1 if bold else 0]), round(pt / 72 * self.dpi))

    def text(self, x_mm: float, y_mm: float, line: str, pt: float, *, bold: bool = False, centre: bool = False,
             keep: bool = True) -> float:
        """Draw one line (x is its centre when ``centre``); returns the next line's y in mm."""
        face, line = self.font(pt, bold), nfc(line)
        x = x_mm * self.mm - (self.draw.textlength(line, font=face) / 2 if centre else 0)
        self.draw.text((x, y_mm * self.mm), line, font=face, fill=INK)
        if keep:
            self.truth.append(line)
        return y_mm + pt * 0.3528 * 1.55

    def wrap(self, text: str, width_mm: float, pt: float) -> list[str]:
        face, lines, line = self.font(pt), [], ""
        for word in nfc(text).split():
            trial = f"{line} {word}".strip()
            if line and self.draw.textlength(trial, font=face) > width_mm * self.mm:
                lines.append(line)
                line = word
            else:
                line = trial
        return [*lines, line] if line else lines

    def paragraphs(self, x_mm: float, y_mm: float, width_mm: float, texts: list[str], pt: float,
                   bottom_mm: float = 275.0) -> float:
        for text in texts:
            for line in self.wrap(text, width_mm, pt):
                if y_mm > bottom_mm:
                    return y_mm
                y_mm = self.text(x_mm, y_mm, line, pt)
            y_mm += pt * 0.3528 * 0.5
        return y_mm


def _stamp_layer(size: tuple[int, int], draw_on: object) -> Image.Image:
    layer = Image.new("RGB", size, "white")
    draw_on(ImageDraw.Draw(layer), layer)  # type: ignore[operator]
    return layer


def overprint(page: Image.Image, layer: Image.Image) -> Image.Image:
    """Ink over ink: a multiply blend, so the text under a seal or a signature stays visible through it."""
    return ImageChops.multiply(page, layer)


def red_seal(c: Canvas, cx_mm: float, cy_mm: float, agency: str) -> None:
    """A round red seal (two rings, a star, the agency's name around the ring), over whatever is there."""
    mm, r = c.mm, 19 * c.mm
    cx, cy = cx_mm * mm, cy_mm * mm
    red = (205, 40, 48)

    def paint(draw: ImageDraw.ImageDraw, layer: Image.Image) -> None:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(2, round(1.1 * mm)))
        draw.ellipse((cx - 0.72 * r, cy - 0.72 * r, cx + 0.72 * r, cy + 0.72 * r), outline=red,
                     width=max(1, round(0.45 * mm)))
        star = [(cx + 0.3 * r * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
                 cy - 0.3 * r * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
        draw.polygon(star, fill=red)
        face = c.font(7.5, bold=True)
        letters = nfc(agency)
        for k, ch in enumerate(letters):
            angle = -150 + 300 * k / max(1, len(letters) - 1)
            glyph = Image.new("L", (round(4 * mm), round(4 * mm)), 0)
            ImageDraw.Draw(glyph).text((mm, 0), ch, font=face, fill=255)
            glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
            a = math.radians(angle - 90)
            x, y = cx + 0.86 * r * math.cos(a) - 2 * mm, cy + 0.86 * r * math.sin(a) - 2 * mm
            layer.paste(Image.new("RGB", glyph.size, red), (round(x), round(y)), glyph)

    c.image = overprint(c.image, _stamp_layer(c.image.size, paint))
    c.draw = ImageDraw.Draw(c.image)


def pen_strokes(c: Canvas, x_mm: float, y_mm: float, width_mm: float, *, colour: tuple[int, int, int],
                height_mm: float = 5.0) -> None:
    """Cursive-like pen strokes (a trochoid with wandering loops): handwriting or a signature, not text."""
    rng, mm = c.rng, c.mm
    loops = max(3, round(width_mm / 3.2))
    points, phase = [], rng.uniform(0, math.tau)
    for step in range(loops * 24):
        t = step / 24
        amp = height_mm * (0.5 + 0.5 * math.sin(t * 0.9 + phase)) * rng.uniform(0.85, 1.0)
        points.append(((x_mm + t * width_mm / loops + 1.4 * math.sin(t * math.tau)) * mm,
                       (y_mm - amp * (0.5 + 0.5 * math.cos(t * math.tau))) * mm))

    def paint(draw: ImageDraw.ImageDraw, _layer: Image.Image) -> None:
        draw.line(points, fill=colour, width=max(2, round(0.4 * mm)), joint="curve")

    c.image = overprint(c.image, _stamp_layer(c.image.size, paint))
    c.draw = ImageDraw.Draw(c.image)


def two_column(c: Canvas) -> None:
    y = c.text(105, 20, c.rng.choice(HEADINGS), 14, bold=True, centre=True)
    texts = c.rng.sample(PROSE, 10)
    c.paragraphs(18, y + 6, 82, texts[:5], 10.5)
    c.paragraphs(110, y + 6, 82, texts[5:], 10.5)


def table(c: Canvas) -> None:
    y = c.text(105, 22, c.rng.choice(HEADINGS), 14, bold=True, centre=True) + 6
    cols = [18, 32, 122, 147, 192]
    rows = [TABLE_HEAD] + [[str(n + 1), *row] for n, row in enumerate(c.rng.sample(TABLE_ROWS, 6))]
    height = 11.0
    for n, row in enumerate(rows):
        for k, cell in enumerate(row):
            c.text(cols[k] + 2, y + 3, cell, 10.5, bold=n == 0, keep=False)
        c.truth.append(" ".join(nfc(cell) for cell in row))
        y += height
    top = y - height * len(rows)
    for k in range(len(rows) + 1):
        c.draw.line([(cols[0] * c.mm, (top + k * height) * c.mm), (cols[-1] * c.mm, (top + k * height) * c.mm)],
                    fill=INK, width=max(1, round(0.25 * c.mm)))
    for x in cols:
        c.draw.line([(x * c.mm, top * c.mm), (x * c.mm, y * c.mm)], fill=INK, width=max(1, round(0.25 * c.mm)))
    c.paragraphs(18, y + 8, 174, c.rng.sample(PROSE, 3), 11)


def form(c: Canvas) -> None:
    y = c.text(105, 22, c.rng.choice(HEADINGS), 14, bold=True, centre=True) + 6
    face = c.font(11)
    for label, value in c.rng.sample(FORM_FIELDS, 7):
        line = f"{label}: {value}"
        c.text(20, y, line, 11)
        start = 20 * c.mm + c.draw.textlength(nfc(line), font=face) + 2 * c.mm
        for x in np.arange(start, 190 * c.mm, 1.6 * c.mm):  # the form's dotted leader
            c.draw.point([(x, (y + 4.2) * c.mm)], fill=INK)
        y += 10
    for label in ("Nhận trực tiếp", "Qua bưu điện"):  # tick boxes
        c.draw.rectangle([20 * c.mm, y * c.mm, 24 * c.mm, (y + 4) * c.mm], outline=INK, width=max(1, round(0.3 * c.mm)))
        y = c.text(27, y, label, 11) + 2
    pen_strokes(c, 120, y + 12, 40, colour=(30, 45, 150))


def decree30(c: Canvas) -> None:
    parent, agency = c.rng.choice(AGENCIES)
    authority, title, name = c.rng.choice(SIGNERS)
    c.text(50, 15, parent, 12, centre=True)
    c.text(50, 21, agency, 12, bold=True, centre=True)
    number = f"Số: {c.rng.randint(12, 899)}/QĐ-{c.rng.choice(['UBND', 'SNV', 'PTP'])}"
    c.text(50, 29, number, 12, centre=True)
    c.text(138, 15, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, centre=True)
    c.text(138, 21, "Độc lập - Tự do - Hạnh phúc", 12, bold=True, centre=True)
    c.text(138, 29, f"Quảng Trị, ngày {c.rng.randint(1, 28)} tháng {c.rng.randint(1, 12)} năm 2025", 12,
           centre=True)
    y = c.text(105, 44, "QUYẾT ĐỊNH", 14, bold=True, centre=True)
    y = c.paragraphs(25, y + 2, 160, ["Về việc giải quyết hồ sơ của công dân theo cơ chế một cửa"], 12)
    y = c.paragraphs(25, y + 4, 160, c.rng.sample(PROSE, 4), 12, bottom_mm=215)
    y = max(y + 6, 222.0)
    c.text(145, y, authority, 12, bold=True, centre=True)
    if title:
        c.text(145, y + 6, title, 12, bold=True, centre=True)
    c.text(145, y + 34, name, 12, bold=True, centre=True)
    red_seal(c, 128, y + 16, agency)
    pen_strokes(c, 130, y + 28, 30, colour=(25, 40, 140), height_mm=8)


def receipt(c: Canvas, code: str) -> None:
    payload = f"maHoSo={code};thuTuc=1.004227;nguoiNop=045186003217;heThong=MCDT;ngayHen=2025-03-28"
    qr = np.array(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode),
                                                  scale=max(3, round(c.dpi / 55))))
    c.image.paste(Image.fromarray(qr).convert("RGB"), (round(12 * c.mm), round(12 * c.mm)))
    c.draw = ImageDraw.Draw(c.image)
    c.text(120, 16, "BỘ PHẬN MỘT CỬA HUYỆN TRIỆU PHONG", 11, bold=True, centre=True)
    y = c.text(120, 24, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", 13, bold=True, centre=True)
    y = c.text(20, max(y + 14, 62), f"Mã hồ sơ: {code}", 11)
    for label, value in c.rng.sample(FORM_FIELDS, 4):
        y = c.text(20, y + 1, f"{label}: {value}", 11)
    y = c.text(20, y + 1, f"Hẹn trả kết quả: {c.rng.randint(8, 16)} giờ, ngày {c.rng.randint(1, 28)}/04/2025", 11)
    c.paragraphs(20, y + 4, 170, c.rng.sample(PROSE, 2), 11)


def margin_notes(c: Canvas) -> None:
    """Running text with a reader's pen marks in the margins (strokes, not words: not in the truth)."""
    y = c.text(105, 22, c.rng.choice(HEADINGS), 14, bold=True, centre=True) + 6
    c.paragraphs(30, y, 150, c.rng.sample(PROSE, 7), 11.5)
    for n in range(c.rng.randint(2, 3)):
        pen_strokes(c, 3, 60 + 55 * n + c.rng.uniform(0, 20), 20, colour=(40, 40, 110), height_mm=4)
    pen_strokes(c, 186, 140 + c.rng.uniform(0, 60), 18, colour=(40, 40, 110), height_mm=4)


LAYOUTS = {"two_column": two_column, "table": table, "form": form, "decree30": decree30,
           "margin_notes": margin_notes}


# --- the second producer: LibreOffice Writer from HTML, rasterised by pdftoppm -------------------------------


def office_html(rng: random.Random, face: str) -> tuple[str, list[str]]:
    """A Word-like page: a heading, a two-column table of prose, and a ruled table; with its truth."""
    e = html.escape
    heading, left, right = rng.choice(HEADINGS), rng.sample(PROSE, 3), rng.sample(PROSE, 3)
    rows = [TABLE_HEAD] + [[str(n + 1), *row] for n, row in enumerate(rng.sample(TABLE_ROWS, 4))]
    cells = "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>" for row in rows)
    doc = (f'<html><head><meta charset="utf-8"><style>body{{font-family:"{face}";font-size:11pt}}'
           "td{vertical-align:top}</style></head><body>"
           f'<p align="center"><b>{e(heading)}</b></p><table width="100%"><tr>'
           f'<td width="50%">{"".join(f"<p>{e(t)}</p>" for t in left)}</td>'
           f'<td width="50%">{"".join(f"<p>{e(t)}</p>" for t in right)}</td></tr></table>'
           f'<table width="100%" border="1" cellspacing="0">{cells}</table></body></html>')
    truth = [heading, *left, *right, *(" ".join(row) for row in rows)]
    return doc, [nfc(t) for t in truth]


def render_office(docs: list[str], dpis: list[int], work: Path) -> list[Image.Image]:
    """Page 1 of each HTML document as LibreOffice sets it, at its dpi (RGB)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("LibreOffice is missing: apt-get install libreoffice-writer-nogui")
    sources = []
    for n, text in enumerate(docs):
        sources.append(work / f"office{n:03d}.html")
        sources[-1].write_text(text, encoding="utf-8")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{work}/lo-profile",
                    "--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work),
                    *map(str, sources)], check=True, capture_output=True, timeout=600)
    out = []
    for source, dpi in zip(sources, dpis, strict=True):
        pdf = source.with_suffix(".pdf")
        png = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(pdf)], check=True,
                             capture_output=True).stdout
        out.append(Image.open(io.BytesIO(png)).convert("RGB"))
    return out
