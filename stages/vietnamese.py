"""Vietnamese syllables: which spellings are valid, and the word list of Debian's ``hunspell-vi``.

Why rules as well as a word list: Vietnamese writes one syllable per space-separated word, and every
syllable is an onset, a rhyme and one of six tones, under a handful of spelling rules (``k``/``gh``/
``ngh`` before i, e, ê; ``c``/``g``/``ng`` elsewhere; ``qu`` for the glide after q; a rhyme ending in
p, t, c or ch takes only the sắc or nặng tone). The rule-generated set accepts every syllable a
Vietnamese reader would accept, also rare names and loan syllables the dictionary lacks; the
dictionary (``/usr/share/hunspell/vi_VN.dic``, about 6,600 syllables and abbreviations) says which
of those are in common use. OCR correction prefers a dictionary syllable, then a rule-valid one.

Input may be NFC or NFD, any case (``NHẬN``, ``Nhận``, ``nhận``); every function normalises.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

HUNSPELL_VI = Path("/usr/share/hunspell/vi_VN.dic")

# Combining tone marks (NFD): huyền, sắc, hỏi, ngã, nặng. The other combining marks (circumflex
# U+0302, breve U+0306, horn U+031B) belong to the vowel letter, not the tone.
TONE_MARKS = {"\u0300": "huyen", "\u0301": "sac", "\u0309": "hoi", "\u0303": "nga", "\u0323": "nang"}
_STOP_TONES = {"sac", "nang"}  # a rhyme ending in p, t, c, ch: only these two tones

ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
          "p", "ph", "r", "s", "t", "th", "tr", "v", "x")

# Rhymes without a glide (toneless, as written after a consonant).
_PLAIN = """a ac ach ai am an ang anh ao ap at au ay
ă ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu
i ia ich iêc iêm iên iêng iêp iêt iêu im in inh ip it iu
o oc oi om on ong ooc oong op ot
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung uôc uôi uôm uôn uông uôt up ut
ư ưa ưc ưi ưm ưn ưng ươc ươi ươm ươn ương ươp ươt ươu ưt ưu
y""".split()
# Rhymes with the glide /w/, written o before a, ă, e and u before â, ê, ơ, y.
_GLIDE = """oa oac oach oai oam oan oang oanh oao oap oat oay
oăc oăm oăn oăng oăt
oe oen oeo oet
uân uâng uât uây
uê uêch uênh uêt
uơ
uy uya uych uyên uyêt uynh uyp uyt uyu""".split()
# Rhymes that stand with no onset only: y-spellings of the iê series.
_BARE = """yêm yên yêng yêt yêu""".split()

_FRONT = ("i", "e", "ê", "y")  # k, gh, ngh before these; c, g, ng never
_STOPS = ("p", "t", "c", "ch")


def _spell(onset: str, rhyme: str) -> str | None:
    """The written syllable for ``onset`` + ``rhyme``, or None where the spelling rules forbid it."""
    front = rhyme.startswith(_FRONT)
    if onset in ("k", "gh", "ngh") and not front:
        return None
    if onset in ("c", "g", "ng") and front:
        return None
    if onset == "gi" and rhyme.startswith("i"):
        return "g" + rhyme  # gi + in → gin (gìn), gi + iêng → giêng (giếng)
    if onset == "gi" and rhyme.startswith("y"):
        return None
    return onset + rhyme


@lru_cache(maxsize=1)
def base_syllables() -> frozenset[str]:
    """Every valid toneless syllable (lower case, NFC): onset × rhyme under the spelling rules."""
    out: set[str] = set(_BARE)
    for rhyme in _PLAIN + _GLIDE:
        for onset in ONSETS:
            spelled = _spell(onset, rhyme)
            if spelled:
                out.add(spelled)
        if rhyme.startswith(("o", "u")) and rhyme in _GLIDE:
            continue
        if rhyme.startswith(("a", "ă", "â", "e", "ê", "ơ", "ô", "i", "y")):
            out.add("qu" + rhyme)  # q takes the glide as u: qua, quân, quê, quơ, quốc, qui
    for rhyme in _GLIDE:
        if rhyme.startswith("u"):
            out.add("q" + rhyme)  # quy, quyên, quynh
        elif rhyme.startswith("o"):
            out.add("qu" + rhyme[1:])  # oa → qua, oăn → quăn, oe → que
    out.update("quyê" + coda for coda in ("n", "t"))
    out.discard("")
    return frozenset(out)


def split_tone(word: str) -> tuple[str, str]:
    """(toneless NFC lower-case letters, tone name or "") of one syllable; several tone marks → "?"."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [TONE_MARKS[ch] for ch in decomposed if ch in TONE_MARKS]
    bare = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    if len(tones) > 1:
        return unicodedata.normalize("NFC", bare), "?"
    return unicodedata.normalize("NFC", bare), tones[0] if tones else ""


def strip_marks(text: str) -> str:
    """Text without any diacritic (tone marks and vowel marks), đ → d: what a toneless reader sees."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def _case_ok(word: str) -> bool:
    """All lower, all upper, or a capital first letter (names, sentence starts): not ``nHận``."""
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        return False
    rest = letters[1:]
    return all(ch.islower() for ch in rest) or all(ch.isupper() for ch in letters)


def is_valid_syllable(word: str) -> bool:
    """Whether ``word`` (NFC or NFD, any usual case) is a well-formed Vietnamese syllable."""
    if not word or not _case_ok(word):
        return False
    bare, tone = split_tone(word)
    if tone == "?" or bare not in base_syllables():
        return False
    if bare.endswith(_STOPS) and tone not in _STOP_TONES:
        return False
    return True


@lru_cache(maxsize=4)
def dictionary(path: Path = HUNSPELL_VI) -> frozenset[str]:
    """The syllables of hunspell-vi (lower case, NFC, as spelled there); empty when not installed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    words = set()
    for line in text.splitlines()[1:]:  # first line: the entry count
        word = unicodedata.normalize("NFC", line.split("/", 1)[0].strip())
        if word:
            words.add(word.lower())
    return frozenset(words)


@lru_cache(maxsize=4)
def _dictionary_keys(path: Path) -> frozenset[tuple[str, str]]:
    return frozenset(split_tone(word) for word in dictionary(path))


def in_dictionary(word: str, path: Path = HUNSPELL_VI) -> bool:
    """Whether hunspell-vi lists ``word`` (case-insensitive, NFC or NFD, either tone placement: the
    dictionary writes the old "uỷ", "hoà", pages often the new "ủy", "hòa")."""
    return split_tone(word) in _dictionary_keys(path)


def known(word: str, path: Path = HUNSPELL_VI) -> int:
    """2 = a dictionary syllable of valid form, 1 = valid by the rules only, 0 = not Vietnamese."""
    if not is_valid_syllable(word):
        return 0
    return 2 if in_dictionary(word, path) else 1
