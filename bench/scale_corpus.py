"""Synthetic records at scale for bench_search_scale: dossiers over ten years, documents, page text.

Why not ``Records.attach``: 1,000,000 documents at ~100 attaches/s would take three hours; the search
benchmark needs the rows and the index, not the store files. Rows are written as the schema of
migration 0006 holds them (folded document text in the search index), by COPY on PostgreSQL and
executemany on SQLite. Page text: 8-16 administrative sentences (bench.corpus), a person's name and
address, a decision number, and one line of words drawn from a Zipf-distributed vocabulary of
generated Vietnamese syllable pairs, so there are common words, rare words and everything between.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from bench.corpus import SENTENCES

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quang", "Ngọc", "Xuân", "Thu", "Hồng", "Công"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đạo", "Giang", "Hà", "Hải", "Hạnh", "Hưởng", "Khánh", "Lan", "Linh", "Lụa",
         "Mai", "Nam", "Nhung", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Thảo", "Trang", "Trường", "Tú", "Vân", "Yến"]
PLACES = ["Đông Hà", "Quảng Trị", "Hải Lăng", "Triệu Phong", "Gio Linh", "Vĩnh Linh", "Cam Lộ", "Đakrông",
          "Hướng Hóa", "Cồn Cỏ", "Đông Lương", "Đông Thanh", "Đông Giang", "Phường Một", "Phường Năm"]
UNITS = ["000.00.31.H50", "000.00.32.H50", "000.00.33.H50", "H50.22"]
KINDS = ["component", "component", "result", "copy"]
_ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gi", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "r", "s", "t",
           "th", "tr", "v", "x"]
_RIMES = ["a", "ai", "am", "an", "ang", "anh", "ao", "ay", "âm", "ân", "âng", "âu", "ăm", "ăn", "ăng", "e", "em",
          "en", "eo", "ê", "êm", "ên", "i", "im", "in", "inh", "o", "oi", "om", "on", "ong", "ô", "ôi", "ôm", "ông",
          "ơ", "ơi", "ơn", "u", "ui", "um", "un", "ung", "ư", "ưa", "ưng", "ươi", "ương", "y", "yên"]
_TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # huyền, sắc, ngã, hỏi, nặng
VOCABULARY = 40_000
START = date(2016, 1, 1)
DAYS = 3650  # ten years of reception days


def _syllable(rng: random.Random) -> str:
    import unicodedata

    rime = rng.choice(_RIMES)
    tone = rng.choice(_TONES)
    if tone:  # the mark goes on the rime's first vowel letter
        rime = unicodedata.normalize("NFC", rime[0] + tone + rime[1:])
    return rng.choice(_ONSETS) + rime


def syllables(seed: int = 11) -> list[str]:
    """Every generated syllable once, in a fixed shuffled order: index = frequency rank."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    for _ in range(200_000):
        found.setdefault(_syllable(rng), None)
    return list(found)


def vocabulary(seed: int = 11) -> list[str]:
    """VOCABULARY distinct two-syllable words; index = Zipf rank (0 the most frequent).

    Word ``i`` starts with the syllable of the same relative rank. Search folds accents, which merges
    most syllables (ma, má, mà, mã, mả, mạ), so the less frequent half is written as one token ("tàriêng",
    like Đakrông or a business name): the rare words of a real archive are names and loanwords.
    """
    rng = random.Random(seed)
    syl = syllables(seed)
    words: dict[str, None] = {}
    i = 0
    while len(words) < VOCABULARY:
        head = syl[min(len(syl) - 1, i * len(syl) // VOCABULARY)]
        sep = " " if i < VOCABULARY // 2 else ""
        words.setdefault(f"{head}{sep}{syl[rng.randrange(max(100, i * len(syl) // VOCABULARY) + 1)]}", None)
        i = len(words)
    return list(words)



def rare_words(seed: int = 11) -> list[str]:
    """The least frequent fifth of the vocabulary (one token each, see ``vocabulary``)."""
    return vocabulary(seed)[int(VOCABULARY * 0.8):]


@dataclass
class Doc:
    id: int
    dossier_id: int
    seq: int
    kind: str
    title: str
    supersedes_id: int | None
    pages: list[str]


@dataclass
class Dossier:
    id: int
    code: str
    unit: str
    received: date


class Generator:
    """Deterministic stream of dossiers (about 4 documents each) in reception order, ten years long."""

    def __init__(self, docs: int, seed: int = 7, pages_mean: float = 5.0) -> None:
        self.docs = docs
        self.rng = random.Random(seed)
        self.vocab = vocabulary()
        weights = [1.0 / (r + 1) ** 1.05 for r in range(len(self.vocab))]
        total = 0.0
        self.cum: list[float] = []
        for w in weights:
            total += w
            self.cum.append(total)
        self.pages_mean = pages_mean

    def page(self) -> str:
        rng = self.rng
        lines = rng.sample(SENTENCES, rng.randint(8, 16))
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        lines.insert(rng.randint(0, len(lines)), f"Ông/bà {name}, trú tại {rng.choice(PLACES)}")
        lines.append(" ".join(rng.choices(self.vocab, cum_weights=self.cum, k=rng.randint(4, 10))))
        lines.append(f"Số: {rng.randint(1, 9999)}/QĐ-UBND ngày {rng.randint(1, 28)}/{rng.randint(1, 12)}")
        return "\n".join(lines)

    def stream(self) -> Iterator[tuple[Dossier, list[Doc]]]:
        rng = self.rng
        per_day = self.docs / 4 / DAYS
        seqs: dict[tuple[str, int], int] = {}
        doc_id = dossier_id = 0
        while doc_id < self.docs:
            dossier_id += 1
            day = min(DAYS - 1, int(dossier_id / per_day)) if per_day else 0
            received = START + timedelta(days=day)
            unit = rng.choice(UNITS)
            n = seqs[(unit, day)] = seqs.get((unit, day), 0) + 1
            dossier = Dossier(dossier_id, f"{unit}-{received:%y%m%d}-{n:04d}", unit, received)
            docs: list[Doc] = []
            for seq in range(1, rng.randint(2, 6) + 1):
                if doc_id >= self.docs:
                    break
                doc_id += 1
                pages = [self.page() for _ in range(max(1, min(12, round(rng.expovariate(1 / self.pages_mean)))))]
                supersedes = doc_id - 1 if docs and rng.random() < 0.02 and docs[-1].supersedes_id is None else None
                docs.append(Doc(doc_id, dossier_id, seq, rng.choice(KINDS), pages[0].splitlines()[0][:80],
                                supersedes, pages))
            yield dossier, docs
