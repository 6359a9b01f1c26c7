"""Deterministic synthetic scans of Vietnamese administrative text, with ground truth.

Why our own generator: we cannot ship real citizens' dossiers, and benchmarks need ground truth. Pages
are rendered from a fixed pool of administrative sentences in fonts that have the Vietnamese glyphs,
then degraded the way counter scanners degrade paper (skew, quarter turns, noise, blur, low JPEG
quality, dark borders, uneven light, tinted paper, low DPI, bitonal). Every choice comes from a seeded
``random.Random`` so a (seed, index) pair always gives the same page.
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from sohoa.common.fonts import vietnamese_fonts

_FONTS = Path("/usr/share/fonts/truetype")
CORPUS_FONTS = [_FONTS / "liberation2/LiberationSerif-Regular.ttf", _FONTS / "liberation2/LiberationSans-Regular.ttf",
                _FONTS / "noto/NotoSerif-Regular.ttf", _FONTS / "noto/NotoSans-Regular.ttf",
                _FONTS / "dejavu/DejaVuSerif.ttf", _FONTS / "dejavu/DejaVuSans.ttf"]

SENTENCES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "Bộ phận tiếp nhận và trả kết quả tỉnh Quảng Trị",
    "Tiếp nhận hồ sơ của ông Nguyễn Văn Hưởng",
    "Địa chỉ thường trú tại phường Đông Lương, thành phố Đông Hà",
    "Số điện thoại liên hệ và thư điện tử của người nộp hồ sơ",
    "Nội dung yêu cầu giải quyết thủ tục cấp giấy phép xây dựng",
    "Thành phần hồ sơ gồm đơn đề nghị và bản sao giấy tờ về quyền sử dụng đất",
    "Số lượng hồ sơ một bộ, thời gian giải quyết mười lăm ngày làm việc",
    "Thời gian nhận hồ sơ lúc chín giờ ba mươi phút ngày hai mươi tháng sáu",
    "Thời gian trả kết quả giải quyết hồ sơ theo quy định của pháp luật",
    "Vào sổ theo dõi hồ sơ tại Trung tâm Phục vụ hành chính công",
    "Người nộp hồ sơ ký và ghi rõ họ tên, người tiếp nhận hồ sơ ký tên",
    "QUYẾT ĐỊNH về việc phê duyệt kết quả giải quyết thủ tục hành chính",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày mười chín tháng sáu",
    "Căn cứ Nghị định số sáu mươi mốt năm hai nghìn mười tám của Chính phủ",
    "Xét đề nghị của Giám đốc Sở Tài nguyên và Môi trường tỉnh",
    "Điều một. Cấp giấy chứng nhận quyền sử dụng đất cho hộ gia đình",
    "Điều hai. Quyết định này có hiệu lực kể từ ngày ký ban hành",
    "Chánh Văn phòng Ủy ban nhân dân tỉnh và Thủ trưởng các sở, ngành",
    "Chủ tịch Ủy ban nhân dân các huyện, thị xã chịu trách nhiệm thi hành",
    "Nơi nhận: như Điều hai, lưu văn thư và hồ sơ lưu trữ điện tử",
    "Bản sao điện tử có giá trị pháp lý như bản chính theo quy định",
    "Giấy khai sinh của trẻ em được đăng ký tại Ủy ban nhân dân xã",
    "Họ và tên cha mẹ, quốc tịch, dân tộc, nơi cư trú hiện nay",
    "Chứng thực chữ ký người dịch và sao y bản chính giấy tờ",
    "Đề nghị hoàn thiện hồ sơ trong thời hạn năm ngày làm việc",
    "Phí, lệ phí đã nộp theo biên lai thu tiền số không không một hai",
    "Mã hồ sơ dùng để tra cứu tình trạng giải quyết trên cổng dịch vụ công",
    "Đăng ký kinh doanh hộ cá thể tại phòng Tài chính - Kế hoạch huyện",
    "Trích lục bản đồ địa chính thửa đất số mười hai, tờ bản đồ số ba",
    "Giấy xác nhận tình trạng hôn nhân để sử dụng vào mục đích kết hôn",
    "Người đại diện theo pháp luật của doanh nghiệp ký tên, đóng dấu",
    "Ủy quyền cho bà Trần Thị Hồng Nhung thực hiện thủ tục thay",
    "Ghi chú: mang theo bản chính để đối chiếu khi nhận kết quả",
]


def font_paths(candidates: list[Path] | None = None) -> list[Path]:
    """Installed corpus fonts that really draw Vietnamese (checked through their cmap)."""
    return vietnamese_fonts(candidates or CORPUS_FONTS)


@dataclass
class Degradation:
    rotation: int = 0  # clockwise quarter turns applied to the scan (the pipeline must undo them)
    skew: float = 0.0  # degrees counter-clockwise
    noise: float = 0.0  # gaussian sigma in grey levels
    blur: float = 0.0  # gaussian radius in px
    jpeg_quality: int | None = None
    border: int = 0  # dark border width in px at 300 dpi
    uneven_light: float = 0.0  # 0..1 darkening towards one corner
    tint: tuple[int, int, int] | None = None  # paper colour
    bitonal: bool = False

    def tags(self) -> list[str]:
        tags = []
        if self.rotation:
            tags.append(f"rot{self.rotation}")
        if abs(self.skew) >= 0.5:
            tags.append("skew")
        if self.noise or self.blur:
            tags.append("noise")
        if self.jpeg_quality and self.jpeg_quality < 50:
            tags.append("lowjpeg")
        if self.border:
            tags.append("border")
        if self.uneven_light or self.tint:
            tags.append("light")
        if self.bitonal:
            tags.append("bitonal")
        return tags


@dataclass
class SyntheticPage:
    image: Image.Image
    text: str  # ground truth, NFC, lines joined by "\n"
    dpi: int
    font: Path
    degradation: Degradation = field(default_factory=Degradation)
    line_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # before degradation

    def encode(self) -> tuple[bytes, str]:
        """The page as a scanner would write it: (bytes, suffix)."""
        buf = io.BytesIO()
        if self.degradation.bitonal:
            self.image.save(buf, format="TIFF", compression="group4", dpi=(self.dpi, self.dpi))
            return buf.getvalue(), ".tif"
        if self.degradation.jpeg_quality:
            quality = self.degradation.jpeg_quality
            self.image.save(buf, format="JPEG", quality=quality, dpi=(self.dpi, self.dpi))
            return buf.getvalue(), ".jpg"
        self.image.save(buf, format="PNG", dpi=(self.dpi, self.dpi))
        return buf.getvalue(), ".png"


def render_page(lines: list[str], *, font: Path, dpi: int = 300, font_pt: float = 12.0,
                size_mm: tuple[float, float] = (210.0, 297.0), margin_mm: float = 20.0,
                line_spacing: float = 1.6) -> SyntheticPage:
    """Render clean black text on white paper. Lines that would overflow are dropped from the truth."""
    width = round(size_mm[0] / 25.4 * dpi)
    height = round(size_mm[1] / 25.4 * dpi)
    margin = round(margin_mm / 25.4 * dpi)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(font), size=max(6, round(font_pt / 72 * dpi)))
    step = round(font_pt / 72 * dpi * line_spacing)
    y = margin
    kept: list[str] = []
    boxes: list[tuple[int, int, int, int]] = []
    for line in lines:
        line = unicodedata.normalize("NFC", line)
        box = draw.textbbox((margin, y), line, font=face)
        if box[2] > width - margin or box[3] > height - margin:
            continue
        draw.text((margin, y), line, font=face, fill="black")
        kept.append(line)
        boxes.append(box)
        y += step
    return SyntheticPage(image=image, text="\n".join(kept), dpi=dpi, font=font, line_boxes=boxes)


def degrade(page: SyntheticPage, d: Degradation, *, seed: int = 0) -> SyntheticPage:
    """Apply scanner-like damage in a fixed order; returns a new page with the same ground truth."""
    rng = np.random.default_rng(seed)
    img = page.image.convert("RGB")
    scale = page.dpi / 300
    if d.tint:
        arr = np.asarray(img).astype(np.float32)
        arr = arr * (np.array(d.tint, dtype=np.float32) / 255.0)
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if d.uneven_light:
        arr = np.asarray(img).astype(np.float32)
        h, w = arr.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        shade = 1.0 - d.uneven_light * ((xx / w + yy / h) / 2.0)
        arr = arr * shade[..., None]
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if d.skew:
        img = img.rotate(d.skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    if d.border:
        b = max(1, round(d.border * scale))
        draw = ImageDraw.Draw(img)
        w, h = img.size
        dark = (28, 28, 30)
        draw.rectangle([0, 0, w, b], fill=dark)
        draw.rectangle([0, h - b, w, h], fill=dark)
        draw.rectangle([0, 0, b // 2, h], fill=dark)
        draw.rectangle([w - b, 0, w, h], fill=dark)
    if d.blur:
        img = img.filter(ImageFilter.GaussianBlur(d.blur))
    if d.noise:
        arr = np.asarray(img).astype(np.float32)
        arr = arr + rng.normal(0, d.noise, arr.shape[:2])[..., None]
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if d.rotation:
        img = img.rotate(-d.rotation, expand=True)  # PIL rotates counter-clockwise
    if d.bitonal:
        img = img.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1")
    return SyntheticPage(image=img, text=page.text, dpi=page.dpi, font=page.font, degradation=d,
                         line_boxes=page.line_boxes)


def sample_lines(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(SENTENCES) for _ in range(count)]


def corpus(count: int, *, seed: int = 2026, dpis: tuple[int, ...] = (300, 300, 200)) -> list[SyntheticPage]:
    """A varied benchmark corpus: each page gets a font, DPI, text and a mix of degradations."""
    rng = random.Random(seed)
    fonts = font_paths()
    if not fonts:
        raise RuntimeError("no font with Vietnamese glyphs found; install fonts-liberation2 fonts-noto-core")
    pages: list[SyntheticPage] = []
    for index in range(count):
        dpi = dpis[index % len(dpis)]
        clean = render_page(sample_lines(rng, rng.randint(14, 24)), font=fonts[index % len(fonts)], dpi=dpi,
                            font_pt=rng.choice([11.0, 12.0, 13.0]))
        d = Degradation(
            rotation=rng.choice([0, 0, 0, 0, 90, 180, 270]),
            skew=rng.uniform(-4.0, 4.0) if rng.random() < 0.6 else 0.0,
            noise=rng.choice([0.0, 0.0, 6.0, 12.0]),
            blur=rng.choice([0.0, 0.0, 0.6]),
            jpeg_quality=rng.choice([None, 85, 85, 40]),
            border=rng.choice([0, 0, 60]),
            uneven_light=rng.choice([0.0, 0.0, 0.35]),
            tint=rng.choice([None, None, (250, 240, 215)]),
            bitonal=rng.random() < 0.12,
        )
        if d.bitonal:
            d.jpeg_quality, d.tint, d.uneven_light = None, None, 0.0
        pages.append(degrade(clean, d, seed=seed * 1000 + index))
    return pages
