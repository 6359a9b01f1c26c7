"""Real-looking Vietnamese pages for the tone-mark benchmark, from two renderers, with ground truth.

Why two renderers: the OCR copy preparation and the lexicon correction are tuned on one renderer
and one font family (PIL/FreeType drawing Liberation fonts, seed 11) and judged on pages that never
took part in tuning: LibreOffice Writer (headless) laying out a flat ODT document in Noto, DejaVu and
FreeFont faces, exported to PDF and rasterised by poppler's ``pdftoppm`` (seed 23). Both get the
same kinds of damage: a grey 300 dpi scan, bitonal thresholding at 300 dpi, printer-like clustered
halftoning, mild blur + noise, and small text at 200 dpi.

Page types: ``heading`` (bold capital headings over body text, as on receipts and decisions),
``prose`` (running text with names and everyday words: lại, mấy, Hằng) and ``form`` (labels with
English words and codes inside Vietnamese text: Email, PDF, Street, Website).

The text is composed for this benchmark (no citizen's data); ``TOP_WORDS`` are the 200 most frequent
words of this composed text plus the corpus sentences of ``bench.corpus`` (counted, with marks).
"""

from __future__ import annotations

import html
import io
import random
import shutil
import subprocess
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.corpus import SENTENCES

_TT = Path("/usr/share/fonts/truetype")
TUNE_FONTS = {"Liberation Serif": (_TT / "liberation2/LiberationSerif-Regular.ttf",
                                   _TT / "liberation2/LiberationSerif-Bold.ttf"),
              "Liberation Sans": (_TT / "liberation2/LiberationSans-Regular.ttf",
                                  _TT / "liberation2/LiberationSans-Bold.ttf")}
HELD_OUT_FONTS = ["Noto Serif", "Noto Sans", "DejaVu Serif", "DejaVu Sans", "FreeSerif", "FreeSans"]
DEGRADATIONS = ["grey", "bitonal", "halftone", "blur_noise", "small200"]
PAGE_TYPES = ["heading", "prose", "form"]

HEADINGS = [
    "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "QUYẾT ĐỊNH VỀ VIỆC CẤP GIẤY PHÉP XÂY DỰNG",
    "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", "ĐƠN ĐỀ NGHỊ CẤP BẢN SAO TRÍCH LỤC",
    "THÔNG BÁO BỔ SUNG, HOÀN THIỆN HỒ SƠ", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ",
    "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "BIÊN NHẬN HỒ SƠ ĐĂNG KÝ KINH DOANH",
    "TỜ KHAI ĐĂNG KÝ KHAI SINH", "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
    "PHIẾU HƯỚNG DẪN HOÀN THIỆN HỒ SƠ", "QUYẾT ĐỊNH PHÊ DUYỆT KẾT QUẢ",
]
PROSE = [
    "Chị Hằng đến bộ phận một cửa lúc tám giờ sáng để nộp lại bộ hồ sơ đã được hướng dẫn bổ sung.",
    "Cán bộ tiếp nhận hỏi mấy câu về nơi ở hiện nay và số điện thoại để liên lạc khi có kết quả.",
    "Nếu hồ sơ còn thiếu giấy tờ, người nộp sẽ được thông báo bằng văn bản trong ngày làm việc.",
    "Ông Phạm Văn Lữ nhờ con gái viết giúp tờ khai vì mắt ông đã kém, chữ nhỏ đọc không rõ.",
    "Mấy hôm nay trời mưa to, nhiều người dân ở xã vùng sâu chưa thể lên huyện nhận kết quả.",
    "Bà Nguyễn Thị Thủy cảm ơn cán bộ đã giải thích kỹ từng bước của thủ tục chuyển nhượng đất.",
    "Người dân có thể theo dõi tình trạng giải quyết hồ sơ trên cổng dịch vụ công bằng mã số.",
    "Trường hợp ủy quyền, người được ủy quyền phải mang theo giấy tờ tùy thân bản chính.",
    "Kết quả được trả tại quầy số bốn hoặc gửi qua đường bưu điện đến địa chỉ đã đăng ký.",
    "Anh Lê Quốc Tuấn hỏi lại về lệ phí trước bạ và thời hạn nộp thuế sử dụng đất nông nghiệp.",
    "Việc số hóa hồ sơ giúp giảm thời gian chờ đợi, tránh thất lạc giấy tờ và dễ tra cứu về sau.",
    "Những trường hợp đặc biệt như người cao tuổi, người khuyết tật được ưu tiên giải quyết trước.",
    "Sau khi kiểm tra, cán bộ ghi rõ ngày hẹn trả kết quả và ký xác nhận vào phiếu tiếp nhận.",
    "Cô giáo Trần Ngọc Hạnh đề nghị được cấp lại bằng tốt nghiệp vì bản cũ bị hư hỏng do lũ lụt.",
    "Đến chiều, trung tâm đã tiếp nhận gần một trăm bộ hồ sơ, phần lớn là thủ tục về hộ tịch.",
    "Mỗi tuần, lãnh đạo ủy ban dành một buổi để trực tiếp lắng nghe ý kiến phản ánh của người dân.",
    "Ông Đỗ Xuân Quỳnh muốn biết vì sao hồ sơ của mình bị trả lại và cần sửa những chỗ nào.",
    "Thửa đất nằm ở ven sông, diện tích hơn ba trăm mét vuông, đã có tranh chấp từ nhiều năm trước.",
]
FORM = [
    ("Họ và tên người nộp", "Nguyễn Thị Hằng"), ("Địa chỉ Email", "hang.nguyen@quangtri.gov.vn"),
    ("Số nhà, Street", "12 Trần Hưng Đạo"), ("Website tra cứu", "dichvucong.quangtri.gov.vn"),
    ("Tệp đính kèm", "bản scan PDF, ảnh JPEG"), ("Số điện thoại", "0233 3852 147"),
    ("Mã hồ sơ", "000.00.31.H50-220906-0001"), ("Ngày sinh", "mười hai tháng năm năm một nghìn chín trăm tám mươi"),
    ("Nơi đăng ký thường trú", "phường Đông Lương, thành phố Đông Hà"), ("Nghề nghiệp", "giáo viên tiểu học"),
    ("Lý do", "bổ sung giấy tờ còn thiếu theo hướng dẫn"), ("Người nhận hồ sơ", "Lê Văn Mạnh"),
    ("Hình thức nhận kết quả", "trực tiếp hoặc qua Email"), ("Ghi chú", "Street address theo hộ chiếu"),
]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def top_words(count: int = 200) -> list[str]:
    """The ``count`` most frequent words (lower case, with marks) of the composed text pool."""
    words: Counter[str] = Counter()
    pool = HEADINGS + PROSE + SENTENCES + [f"{a} {b}" for a, b in FORM]
    for text in pool:
        for word in _nfc(text).lower().split():
            word = word.strip(".,:;()-")
            if word.isalpha():
                words[word] += 1
    return [w for w, _n in sorted(words.items(), key=lambda item: (-item[1], item[0]))[:count]]


@dataclass
class Block:
    text: str
    bold: bool = False
    heading: bool = False


@dataclass
class VietPage:
    image: Image.Image  # L or 1
    text: str  # ground truth, NFC, blocks joined by "\n"
    dpi: int
    renderer: str  # "pil" (tuning) or "libreoffice" (held out)
    font: str
    degradation: str
    page_type: str
    name: str


def blocks_for(page_type: str, rng: random.Random) -> list[Block]:
    if page_type == "heading":
        out = []
        for _ in range(3):
            out.append(Block(rng.choice(HEADINGS), bold=True, heading=True))
            out.extend(Block(s) for s in rng.sample(PROSE, 2))
        return out
    if page_type == "prose":
        return [Block(s) for s in rng.sample(PROSE, 8)]
    rows = rng.sample(FORM, 10)
    return [Block(rng.choice(HEADINGS), bold=True, heading=True)] + [Block(f"{a}: {b}") for a, b in rows]


# --- renderer 1 (tuning): PIL + FreeType -----------------------------------------------------------


def render_pil(blocks: list[Block], font: str, *, dpi: int, pt: float) -> tuple[Image.Image, str]:
    regular, bold = TUNE_FONTS[font]
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    margin = round(0.9 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    kept: list[str] = []
    y = margin
    for block in blocks:
        size = pt * (1.15 if block.heading else 1.0)
        face = ImageFont.truetype(str(bold if block.bold else regular), size=round(size / 72 * dpi))
        words, line, lines = _nfc(block.text).split(), "", []
        for word in words:  # wrap at the right margin
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=face) > width - 2 * margin and line:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        for text in lines:
            if y + size / 72 * dpi * 1.5 > height - margin:
                break
            draw.text((margin, y), text, font=face, fill=0)
            kept.append(text)
            y += round(size / 72 * dpi * 1.5)
        y += round(pt / 72 * dpi * 0.6)
    return image, "\n".join(kept)


# --- renderer 2 (held out): LibreOffice Writer → PDF → pdftoppm ------------------------------------


_FODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls><style:font-face style:name="F" svg:font-family="'{font}'"/></office:font-face-decls>
<office:styles>
<style:style style:name="Body" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.2cm"/>
<style:text-properties style:font-name="F" fo:font-size="{pt}pt"/></style:style>
<style:style style:name="Head" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.2cm"/>
<style:text-properties style:font-name="F" fo:font-size="{hpt}pt" fo:font-weight="bold"/></style:style>
</office:styles>
<office:automatic-styles><style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm"
 fo:page-height="29.7cm" fo:margin-top="2.2cm" fo:margin-bottom="2.2cm" fo:margin-left="2.2cm"
 fo:margin-right="2.2cm"/></style:page-layout></office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1"/></office:master-styles>
<office:body><office:text>
"""


def _fodt(blocks: list[Block], font: str, pt: float) -> str:
    """A flat ODT document: one paragraph per block, headings bold and 15 % larger."""
    body = [f'<text:p text:style-name="{"Head" if b.heading else "Body"}">{html.escape(_nfc(b.text))}</text:p>'
            for b in blocks]
    return (_FODT_HEAD.format(font=font, pt=f"{pt:g}", hpt=f"{pt * 1.15:.1f}") + "\n".join(body)
            + "\n</office:text></office:body></office:document>\n")


def render_libreoffice(docs: list[tuple[list[Block], str, float]], work: Path,
                       dpis: list[int]) -> list[tuple[Image.Image, str]]:
    """Each (blocks, font, pt) → (page 1 image at its dpi, the text of what fits on page 1)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("LibreOffice is missing: apt-get install libreoffice-writer-nogui")
    sources = []
    for i, (blocks, font, pt) in enumerate(docs):
        path = work / f"doc{i:03d}.fodt"
        path.write_text(_fodt(blocks, font, pt), encoding="utf-8")
        sources.append(path)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{work}/lo-profile",
                    "--convert-to", "pdf", "--outdir", str(work), *map(str, sources)],
                   check=True, capture_output=True, timeout=600)
    out = []
    for i, ((blocks, _font, _pt), dpi) in enumerate(zip(docs, dpis, strict=True)):
        pdf = work / f"doc{i:03d}.pdf"
        png = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", "-png", str(pdf)],
                             check=True, capture_output=True).stdout
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
                              check=True, capture_output=True).stdout.decode("utf-8")
        out.append((Image.open(io.BytesIO(png)).convert("L"), _truth_from_pdf(blocks, text)))
    return out


def _truth_from_pdf(blocks: list[Block], page_text: str) -> str:
    """The blocks' own text (not pdftotext's, which may break words), cut at what page 1 shows."""
    shown = " ".join(_nfc(page_text).split())
    kept = [_nfc(b.text) for b in blocks if " ".join(_nfc(b.text).split()[:3]) in shown]
    return "\n".join(kept)


# --- damage ------------------------------------------------------------------------------------------


def degrade(image: Image.Image, kind: str, rng: np.random.Generator) -> Image.Image:
    if kind == "grey":
        arr = np.asarray(image, dtype=np.float32) * 0.9 + 20 + rng.normal(0, 3, image.size[::-1])
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if kind == "bitonal":
        soft = image.filter(ImageFilter.GaussianBlur(0.7))
        return soft.point(lambda v: 255 if v > 140 else 0).convert("1")
    if kind == "halftone":  # a laser printer's clustered dots on grey strokes, then a bitonal scan
        arr = np.asarray(image.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
        h, w = arr.shape
        cell = np.array([[12, 5, 6, 13], [4, 0, 1, 7], [11, 3, 2, 8], [15, 10, 9, 14]], np.float32)
        screen = (np.tile(cell, (h // 4 + 1, w // 4 + 1))[:h, :w] + 0.5) * 16
        return Image.fromarray(np.where(arr > screen, 255, 0).astype(np.uint8)).convert("1")
    if kind == "blur_noise":
        arr = np.asarray(image.filter(ImageFilter.GaussianBlur(1.1)), dtype=np.float32)
        arr = arr * 0.85 + 25 + rng.normal(0, 9, arr.shape)
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if kind == "small200":
        arr = np.asarray(image, dtype=np.float32) * 0.9 + 15 + rng.normal(0, 4, image.size[::-1])
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    raise ValueError(kind)


def vietnamese_corpus(count: int, *, held_out: bool, work: Path | None = None) -> list[VietPage]:
    """``count`` pages: tuning = PIL + Liberation, seed 11; held out = LibreOffice + other fonts, seed 23."""
    seed = 23 if held_out else 11
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    specs = []
    for i in range(count):
        page_type = PAGE_TYPES[i % len(PAGE_TYPES)]
        kind = DEGRADATIONS[(i // len(PAGE_TYPES)) % len(DEGRADATIONS)]
        fonts = HELD_OUT_FONTS if held_out else list(TUNE_FONTS)
        font = fonts[(i * 7 + i // 5) % len(fonts)]
        dpi = 200 if kind == "small200" else 300
        pt = rng.choice([9.0, 10.0]) if kind == "small200" else rng.choice([10.5, 11.0, 12.0])
        specs.append((page_type, kind, font, dpi, pt, blocks_for(page_type, rng)))
    if held_out:
        with tempfile.TemporaryDirectory(prefix="sohoa-vi-corpus-", dir=work) as tmp:
            rendered = render_libreoffice([(b, f, pt) for _t, _k, f, _d, pt, b in specs], Path(tmp),
                                          [d for _t, _k, _f, d, _pt, _b in specs])
        renderer = "libreoffice"
    else:
        rendered = [render_pil(b, f, dpi=d, pt=pt) for _t, _k, f, d, pt, b in specs]
        renderer = "pil"
    pages = []
    for i, ((page_type, kind, font, dpi, _pt, _b), (image, text)) in enumerate(zip(specs, rendered, strict=True)):
        pages.append(VietPage(image=degrade(image, kind, nprng), text=text, dpi=dpi, renderer=renderer,
                              font=font, degradation=kind, page_type=page_type,
                              name=f"{renderer}-{i:03d}-{page_type}-{kind}"))
    return pages
