"""The held-out counter corpus (issue 14): dossier components of 1–4 pages as a counter scans them.

Why: a counter files small documents, one call or one daemon job each, many with a blank back page,
in whatever format the scanner was set to. Every document here is drawn by ``bench.counter_pages``
(layouts and faces no tuning saw) with seed ``SEED`` (the tuning corpora use 2026, 11, and the blank
detector's 0–11), then damaged like a counter scanner damages paper:
- scanner: skew, noise, blur, low JPEG quality, uneven light, tinted paper, a quarter or half turn on
  a few pages, 200 or 300 dpi;
- formats: one JPEG or PNG per page, a multi-page TIFF (bitonal CCITT G4, as mono scanners write it),
  or an image-only PDF of JPEG pages (what a scanner's "scan to PDF" writes);
- blank backs (about a quarter of the pages): textured paper with fibres and grain, the front page
  showing through mirrored, sometimes two punch holes — a back page defect set of its own, not
  ``bench.blank_corpus``'s.
Ground truth: one NFC string per page ('' for a blank back), in the order the pages are filed.
"""

from __future__ import annotations

import io
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, ImageDraw, ImageFilter

from bench.counter_pages import FACE_SETS, LAYOUTS, Canvas, office_html, receipt, render_office

SEED = 1414
FAMILIES = [*LAYOUTS, "receipt", "office"]
FORMATS = ["jpeg", "png", "tiff", "pdf"]
BACK_PAGE_CHANCE = 1 / 3  # a back after a third of the fronts: a quarter of all pages


@dataclass
class CounterPage:
    image: Image.Image  # RGB, or mode "1" for bitonal TIFF documents
    text: str  # ground truth, NFC, lines joined by "\n"; '' on a blank back
    dpi: int
    family: str  # a key of FAMILIES, or "blank"
    face: str
    tags: list[str] = field(default_factory=list)  # the damage done, for CER by degradation
    jpeg_quality: int = 85

    def encode(self, fmt: str) -> tuple[bytes, str]:
        """This page alone as the document's format writes it (what raw Tesseract reads)."""
        buf = io.BytesIO()
        if fmt == "tiff":
            self.image.save(buf, format="TIFF", compression="group4", dpi=(self.dpi, self.dpi))
            return buf.getvalue(), ".tif"
        if fmt == "png":
            self.image.save(buf, format="PNG", dpi=(self.dpi, self.dpi))
            return buf.getvalue(), ".png"
        self.image.save(buf, format="JPEG", quality=self.jpeg_quality, dpi=(self.dpi, self.dpi))
        return buf.getvalue(), ".jpg"


@dataclass
class CounterDoc:
    name: str  # a dossier code, used as folder name and dossier
    fmt: str
    pages: list[CounterPage]

    def write(self, folder: Path) -> list[Path]:
        """The document's files as the scanner leaves them in ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.fmt in ("jpeg", "png"):
            paths = []
            for n, page in enumerate(self.pages, start=1):
                data, suffix = page.encode(self.fmt)
                paths.append(folder / f"scan-{n:02d}{suffix}")
                paths[-1].write_bytes(data)
            return paths
        path = folder / ("scan.tif" if self.fmt == "tiff" else "scan.pdf")
        if self.fmt == "tiff":
            first, *rest = [p.image for p in self.pages]
            first.save(path, format="TIFF", compression="group4", save_all=True, append_images=rest,
                       dpi=(self.pages[0].dpi, self.pages[0].dpi))
        else:
            path.write_bytes(_image_pdf([p.encode("jpeg")[0] for p in self.pages], [p.dpi for p in self.pages],
                                        [p.image.size for p in self.pages]))
        return [path]

    def page_files(self, folder: Path) -> list[Path]:
        """One file per page with the same pixels the document carries (for raw Tesseract)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for n, page in enumerate(self.pages, start=1):
            data, suffix = page.encode("jpeg" if self.fmt == "pdf" else self.fmt)
            paths.append(folder / f"{self.name}-p{n}{suffix}")
            paths[-1].write_bytes(data)
        return paths


def _image_pdf(jpegs: list[bytes], dpis: list[int], sizes: list[tuple[int, int]]) -> bytes:
    """An image-only PDF, one JPEG per page at its size (DCT passthrough, a fixed /ID: reproducible bytes)."""
    pdf = pikepdf.new()
    for data, dpi, (w, h) in zip(jpegs, dpis, sizes, strict=True):
        image = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w, Height=h,
                               ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
        pw, ph = w * 72 / dpi, h * 72 / dpi
        page = pdf.add_blank_page(page_size=(pw, ph))
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.Contents = pdf.make_stream(f"q {pw:.3f} 0 0 {ph:.3f} 0 0 cm /Im0 Do Q".encode())
    buf = io.BytesIO()
    pdf.save(buf, static_id=True)
    return buf.getvalue()


def _paper_back(front: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """A blank back: fibrous tinted paper, the front showing through mirrored, sometimes punch holes."""
    nrng = np.random.default_rng(rng.randrange(2**32))
    w, h = front.size
    tint = np.array([rng.randint(232, 250), rng.randint(228, 246), rng.randint(212, 238)], np.float32)
    fibres = nrng.normal(0, 1, (h // 24 + 1, w // 6 + 1)).astype(np.float32)  # long in x: paper grain
    fibres = np.asarray(Image.fromarray(fibres).resize((w, h), Image.Resampling.BILINEAR), np.float32)
    grain = nrng.normal(0, rng.uniform(1.5, 4.0), (h, w)).astype(np.float32)
    img = tint[None, None, :] + (fibres * rng.uniform(2.0, 5.0) + grain)[..., None]
    through = np.asarray(front.convert("L").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                         .filter(ImageFilter.GaussianBlur(2.0 * dpi / 300)), np.float32) / 255.0
    img *= (1.0 - rng.uniform(0.04, 0.14) * (1.0 - through))[..., None]
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.4:  # two punch holes: the scanner lid shows grey through them
        draw, mm = ImageDraw.Draw(out), dpi / 25.4
        for y in (h / 2 - 40 * mm, h / 2 + 40 * mm):
            draw.ellipse((8 * mm, y - 3 * mm, 14 * mm, y + 3 * mm), fill=(150, 150, 152))
    return out


def _damage(page: Image.Image, rng: random.Random, dpi: int, turn: int) -> tuple[Image.Image, list[str], int]:
    """Scanner damage in a fixed order; returns the image, its tags and the JPEG quality to write it at."""
    nrng = np.random.default_rng(rng.randrange(2**32))
    tags = []
    img = page
    if rng.random() < 0.35:
        arr = np.asarray(img, np.float32)
        h, w = arr.shape[:2]
        ramp = 1.0 - rng.uniform(0.15, 0.3) * np.linspace(0, 1, w, dtype=np.float32)[None, :]
        tint = np.array([rng.randint(238, 252), rng.randint(232, 248), rng.randint(210, 235)], np.float32) / 255
        img = Image.fromarray(np.clip(arr * ramp[..., None] * tint, 0, 255).astype(np.uint8))
        tags.append("light")
    skew = rng.uniform(-3.0, 3.0) if rng.random() < 0.55 else 0.0
    if abs(skew) >= 0.5:
        img = img.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=(250, 250, 250))
        tags.append("skew")
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.1) * dpi / 300))
        tags.append("blur")
    if rng.random() < 0.4:
        arr = np.asarray(img, np.float32) + nrng.normal(0, rng.uniform(5, 12), (img.size[1], img.size[0]))[..., None]
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        tags.append("noise")
    if turn:
        img = img.rotate(-turn, expand=True)  # clockwise: the pipeline must undo it
        tags.append(f"rot{turn}")
    quality = rng.choice([85, 85, 75, 92, 35])
    if quality < 50:
        tags.append("lowjpeg")
    if dpi < 300:
        tags.append("200dpi")
    return img, tags, quality


def _front(family: str, rng: random.Random, face: str, dpi: int, code: str) -> tuple[Image.Image, str]:
    c = Canvas(rng, face, dpi)
    if family == "receipt":
        receipt(c, code)
    else:
        LAYOUTS[family](c)
    return c.image, "\n".join(c.truth)


def _plan(count: int, rng: random.Random) -> list[tuple[str, str, list[tuple[str, bool]]]]:
    """(name, format, [(family, followed by a blank back)]) per document, before any drawing."""
    plans = []
    for n in range(count):
        fmt = FORMATS[n % len(FORMATS)] if n < len(FORMATS) else rng.choice(FORMATS)
        first = FAMILIES[n % len(FAMILIES)]
        fronts = [first] if first in ("receipt", "decree30") else [first] + rng.sample(
            [f for f in LAYOUTS if f not in ("decree30", first)], rng.choice([0, 1, 1, 2]))
        pages: list[tuple[str, bool]] = []
        for family in fronts:
            backs = sum(b for _f, b in pages)
            pages.append((family, rng.random() < BACK_PAGE_CHANCE and len(fronts) + backs + 1 <= 4))
        plans.append((f"000.00.31.H50-251201-{n + 1:04d}", fmt, pages))
    return plans


def counter_corpus(count: int = 36, *, seed: int = SEED, work: Path | None = None,
                   dpis: tuple[int, ...] = (200, 300, 300), faces: str = "seen") -> list[CounterDoc]:
    """``count`` documents; the same (count, seed, dpis) gives the same pages and truth, bit for bit.

    ``office`` pages need LibreOffice (one headless run for all of them); two pages are turned 90°/180°.
    ``dpis`` are the scanner settings drawn from (the tests use a low one to stay quick). ``faces`` picks
    a set of ``bench.counter_pages.FACE_SETS``: "seen" (the first held-out set, looked at since) or
    "fresh" (added later; held out from every tuning run).
    """
    face_files, office_faces = FACE_SETS[faces]
    missing = [str(path) for pair in face_files.values() for path in pair if not path.exists()]
    if missing:
        raise RuntimeError(f"held-out faces missing ({', '.join(missing)}): apt-get install fonts-freefont-ttf "
                           "fonts-dejavu-extra fonts-noto-core fonts-croscore fonts-sil-charis fonts-roboto-unhinted")
    rng = random.Random(seed)
    plans = _plan(count, rng)
    face_names = list(face_files)
    specs = []  # (doc index, family, face, dpi, back) per front page
    for d, (_name, _fmt, pages) in enumerate(plans):
        dpi = rng.choice(dpis)  # the scanner's setting, one per document
        for family, back in pages:
            face = rng.choice(office_faces if family == "office" else face_names)
            specs.append((d, family, face, dpi, back))
    office = [i for i, s in enumerate(specs) if s[1] == "office"]
    office_docs = [office_html(random.Random(seed * 7919 + i), specs[i][2]) for i in office]
    rendered: dict[int, Image.Image] = {}
    if office:
        with tempfile.TemporaryDirectory(prefix="sohoa-counter-office-", dir=work) as tmp:
            images = render_office([h for h, _t in office_docs], [specs[i][3] for i in office], Path(tmp))
        rendered = dict(zip(office, images, strict=True))
    turns = {len(specs) // 3: 90, (2 * len(specs)) // 3: 180}  # "a rotated page or two"
    docs = [CounterDoc(name, fmt, []) for name, fmt, _pages in plans]
    for i, (d, family, face, dpi, back) in enumerate(specs):
        page_rng = random.Random(seed * 100_003 + i)
        if family == "office":
            image, text = rendered[i], "\n".join(office_docs[office.index(i)][1])
        else:
            image, text = _front(family, page_rng, face, dpi, docs[d].name)
        damaged, tags, quality = _damage(image, page_rng, dpi, turns.get(i, 0))
        docs[d].pages.append(CounterPage(damaged, text, dpi, family, face, tags, quality))
        if back:
            blank, btags, bquality = _damage(_paper_back(image, page_rng, dpi), page_rng, dpi, 0)
            docs[d].pages.append(CounterPage(blank, "", dpi, "blank", "", ["texture", *btags], bquality))
    for doc in docs:
        if doc.fmt == "tiff":  # a mono scanner: bitonal at a fixed threshold
            for page in doc.pages:
                page.image = page.image.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1")
                page.tags = [t for t in page.tags if t != "lowjpeg"] + ["bitonal"]
        elif doc.fmt == "png":
            for page in doc.pages:
                page.tags = [t for t in page.tags if t != "lowjpeg"]
    return docs
