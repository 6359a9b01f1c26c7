"""Blank back pages as scanners really make them, and near-blank pages that must NOT be called blank.

Why: duplex scanning puts a back page behind nearly every sheet, and none of them is white. Each blank
page here combines the defects of real paper and real scanners, chosen by a seeded ``random.Random``:
paper texture and tint, recycled-paper flecks, show-through of the printed other side (mirrored, faint),
a fold line, a staple and its shadow, scanner edge lines, uneven light, JPEG at counter quality. The
controls are the pages a careless detector drops: one short line, a lone signature, a red seal, a
page number with a one-line note, a few handwritten words.

Two splits, never mixed: ``TUNING`` seeds were looked at while setting the thresholds in
``stages/blank.py``; ``HELD_OUT`` seeds use other fonts, resolutions and defect strengths and were only
run after the thresholds were fixed (bench/bench_blank.py reports both).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.corpus import CORPUS_FONTS, SENTENCES, font_paths

TUNING = range(0, 12)
HELD_OUT = range(1000, 1024)
A4_MM = (210.0, 297.0)


@dataclass(frozen=True)
class Sample:
    name: str
    image: Image.Image  # RGB
    dpi: int
    blank: bool  # the truth
    defects: tuple[str, ...]


def _fonts(held_out: bool) -> list[Path]:
    fonts = font_paths(CORPUS_FONTS)
    half = max(1, len(fonts) // 2)
    return fonts[half:] if held_out and len(fonts) > 1 else fonts[:half]


def _paper(rng: random.Random, dpi: int, held_out: bool) -> tuple[np.ndarray, list[str]]:
    w, h = (round(v / 25.4 * dpi) for v in A4_MM)
    nrng = np.random.default_rng(rng.randrange(2**32))
    base = np.array([rng.randint(225, 250), rng.randint(222, 248), rng.randint(205, 245)], np.float32)
    defects = ["tint"] if base.min() < 235 else []
    # paper texture: low-frequency cloudiness plus fine grain
    cloud = nrng.normal(0, 1, (h // 40 + 2, w // 40 + 2)).astype(np.float32)
    cloud = np.asarray(Image.fromarray(cloud).resize((w, h), Image.BICUBIC))
    grain = nrng.normal(0, rng.uniform(2, 6 if held_out else 5), (h, w)).astype(np.float32)
    img = base[None, None, :] + (cloud * rng.uniform(2, 6) + grain)[..., None]
    defects.append("texture")
    return img, defects


def _darken(img: np.ndarray, mask: np.ndarray, amount: float) -> None:
    img *= (1.0 - amount * mask)[..., None]


def _text_layer(lines: list[str], font: Path, size: tuple[int, int], dpi: int, pt: float) -> np.ndarray:
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    face = ImageFont.truetype(str(font), round(pt / 72 * dpi))
    y = round(25 / 25.4 * dpi)
    for line in lines:
        draw.text((round(22 / 25.4 * dpi), y), line, font=face, fill=255)
        y += round(pt * 1.7 / 72 * dpi)
    return np.asarray(layer, np.float32) / 255.0


def _blank(seed: int, held_out: bool) -> Sample:
    rng = random.Random(seed)
    dpi = rng.choice([200, 300] if held_out else [300])
    img, defects = _paper(rng, dpi, held_out)
    h, w = img.shape[:2]
    mm = dpi / 25.4
    fonts = _fonts(held_out)
    if rng.random() < 0.7:  # show-through of the printed front, mirrored and faint
        lines = rng.sample(SENTENCES, 14)
        through = _text_layer(lines, rng.choice(fonts), (w, h), dpi, rng.choice([11, 12, 13]))[:, ::-1]
        through = np.asarray(Image.fromarray((through * 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(rng.uniform(1.0, 2.5) * dpi / 300)), np.float32) / 255
        _darken(img, through, rng.uniform(0.08, 0.3 if held_out else 0.25))
        defects.append("show-through")
    if rng.random() < 0.6:  # recycled-paper flecks
        nrng = np.random.default_rng(seed + 7)
        count = rng.randint(40, 400)
        for _ in range(count):
            x, y = int(nrng.integers(0, w)), int(nrng.integers(0, h))
            r = max(1, round(nrng.uniform(0.05, 0.4) * mm))
            img[max(0, y - r):y + r, max(0, x - r):x + r] *= nrng.uniform(0.4, 0.8)
        defects.append("flecks")
    if rng.random() < 0.5:  # a fold line across the sheet, slightly curved, with its shadow
        y0 = rng.uniform(0.3, 0.7) * h
        ys = (y0 + rng.uniform(-3, 3) * mm * np.sin(np.linspace(0, math.pi, w))).astype(int)
        width = max(1, round(rng.uniform(0.3, 1.2) * mm))
        for x in range(0, w):
            img[ys[x]:ys[x] + width, x] *= rng.uniform(0.55, 0.8)
        defects.append("fold")
    if rng.random() < 0.5:  # a staple in the top-left corner and its shadow
        x, y = round(rng.uniform(8, 14) * mm), round(rng.uniform(8, 14) * mm)
        length, thick = round(12 * mm), max(2, round(0.9 * mm))
        img[y:y + thick, x:x + length] *= 0.35
        img[y + thick:y + 2 * thick, x:x + length] *= 0.75
        defects.append("staple")
    if rng.random() < 0.5:  # scanner edge lines (a dirty glass strip), full height
        for _ in range(rng.randint(1, 2)):
            x = rng.randrange(round(5 * mm), w - round(5 * mm))
            img[:, x:x + max(1, round(0.2 * mm))] *= rng.uniform(0.45, 0.75)
        defects.append("scanner-line")
    if rng.random() < 0.4:  # uneven light towards one side
        ramp = np.linspace(0, rng.uniform(0.1, 0.25), w, dtype=np.float32)[None, :]
        img *= (1 - ramp)[..., None]
        defects.append("uneven-light")
    return Sample(f"blank-{seed}", _finish(img, rng), dpi, True, tuple(defects))


def _control(seed: int, held_out: bool) -> Sample:
    rng = random.Random(seed + 50_000)
    dpi = rng.choice([200, 300] if held_out else [300])
    img, defects = _paper(rng, dpi, held_out)
    h, w = img.shape[:2]
    mm = dpi / 25.4
    font = rng.choice(_fonts(held_out))
    kind = ["one-line", "signature", "seal", "page-number+note", "handwriting"][seed % 5]
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    if kind == "one-line":
        face = ImageFont.truetype(str(font), round(rng.choice([10, 11, 12]) / 72 * dpi))
        draw.text((round(25 * mm), round(rng.uniform(30, 200) * mm)), rng.choice(SENTENCES), font=face,
                  fill=(20, 20, 25))
    elif kind == "page-number+note":
        face = ImageFont.truetype(str(font), round(11 / 72 * dpi))
        draw.text((round(100 * mm), round(280 * mm)), f"- {rng.randint(2, 40)} -", font=face, fill=(30, 30, 30))
        draw.text((round(25 * mm), round(40 * mm)), "Trang này được để trống có chủ ý.", font=face, fill=(30, 30, 30))
    elif kind == "signature":
        _scribble(draw, rng, (round(rng.uniform(110, 150) * mm), round(rng.uniform(60, 220) * mm)), mm,
                  colour=(25, 40, 140))
    elif kind == "seal":
        cx, cy, r = round(rng.uniform(60, 150) * mm), round(rng.uniform(60, 230) * mm), round(18 * mm)
        red = (200, 35, 40)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(2, round(1.2 * mm)))
        draw.ellipse((cx - r + round(4 * mm), cy - r + round(4 * mm), cx + r - round(4 * mm),
                      cy + r - round(4 * mm)), outline=red, width=max(1, round(0.5 * mm)))
        face = ImageFont.truetype(str(font), round(9 / 72 * dpi))
        draw.text((cx - round(11 * mm), cy - round(2 * mm)), "ỦY BAN NHÂN DÂN", font=face, fill=red)
    else:
        for n in range(rng.randint(2, 4)):
            _scribble(draw, rng, (round((30 + 30 * n) * mm), round(rng.uniform(40, 60) * mm)), mm * 0.6,
                      colour=(30, 30, 90))
    return Sample(f"control-{kind}-{seed}", _finish(np.asarray(canvas, np.float32), rng), dpi, False,
                  (*defects, kind))


def _scribble(draw: ImageDraw.ImageDraw, rng: random.Random, origin: tuple[int, int], mm: float,
              colour: tuple[int, int, int]) -> None:
    """A pen signature: a smooth random walk of loops, about 40 x 15 mm."""
    x, y = origin
    points = []
    for t in range(160):
        a = t / 160 * 2 * math.pi * rng.uniform(3, 5)
        points.append((x + t * 0.25 * mm + math.cos(a) * 4 * mm * rng.uniform(0.6, 1.0),
                       y + math.sin(a * 1.3) * 6 * mm * rng.uniform(0.7, 1.0)))
    draw.line(points, fill=colour, width=max(2, round(0.45 * mm)), joint="curve")


def _finish(img: np.ndarray, rng: random.Random) -> Image.Image:
    image = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=rng.choice([70, 80, 90]))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def samples(split: str) -> list[Sample]:
    """Every blank page and every control of one split ("tuning" or "held-out")."""
    held_out = split == "held-out"
    seeds = HELD_OUT if held_out else TUNING
    return [_blank(s, held_out) for s in seeds] + [_control(s, held_out) for s in seeds]
