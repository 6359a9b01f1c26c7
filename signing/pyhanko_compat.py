"""Every place sohoa leans on pyHanko's internals or works around its quirks, and the version it is tested with.

Why one module: a pyHanko upgrade can change a private method or fix a quirk; both show up here and in
``tests/signing/test_pyhanko_compat.py`` (which fails when a seam moved or a workaround is no longer
needed), instead of as a broken PDF/A or a slow signer somewhere else. ``require_tested_pyhanko``
refuses, with the pip command, a pyHanko outside the tested range before anything is signed.

The seams:

- ``PdfaIncrementalWriter`` overrides the private ``IncrementalPdfFileWriter._update_meta`` and reads
  ``self._info``: pyHanko 0.38 appends "; pyHanko x.y" to Info ``/Producer`` but writes only
  "pyHanko x.y" into XMP ``pdf:Producer``, and takes Info ``/ModDate`` and XMP ``xmp:ModifyDate`` from two
  clock readings. PDF/A-2 (6.6.3) requires them to agree, so after pyHanko updated both we copy XMP's
  producer and date into Info (the XMP stream stays as pyHanko wrote it, so its diff analysis stays
  clean). ``sign`` also writes the DSS and document-timestamp revisions itself, because pyHanko's own
  B-LT/B-LTA path opens plain writers that would undo this.
- ``pdf_ready_font``: pyHanko 0.38 writes a CID font's ``/W`` widths in the font's own units, which
  PDF reads as thousandths of an em; for 2048-unit fonts (Liberation, DejaVu) glyphs are spaced twice
  too wide and the widths disagree with the embedded program (PDF/A 6.2.11.5). A copy of the font
  rescaled to 1000 units per em makes both right.
- ``LayoutFreeAccumulatorFactory``: pyHanko 0.38 subsets the stamp font with GSUB, GPOS and GDEF in
  its drop list, but fontTools' subsetter first decompiles those tables (``_compact_layout_tables``):
  ~60 ms of every signature for tables that never reach the PDF. Shaping has already happened in
  HarfBuzz, from the font file's bytes, so the accumulator's parsed copy can go without them; the
  embedded subset is byte-for-byte the same (issue 14, ``tests/pipeline/test_document_reuse.py``).
- ``SubsetCachingAccumulator``: the subset font program pyHanko embeds for a glyph set is kept per process
  and glyph set, and handed to pyHanko's ``CIDFontType2.set_font_file`` through its private ``_tt``
  (it calls only ``save`` on it); ``tests/signing/test_stamp_font.py`` fails if that seam moves.
- ``InMemoryKeySigner``: ``SimpleSigner.sign_raw`` re-parses the DER private key on every signature
  (three per document: key check, size estimate, the real one; ~40 ms each for RSA).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import io
import re
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream
from pyhanko.sign.signers.pdf_cms import SimpleSigner

from sohoa.common.atomic import atomic_writer
from sohoa.common.cachedir import private_cache_dir
from sohoa.common.errors import MissingDependency
from sohoa.common.messages import _

# --- the tested versions (pyproject.toml pins the same ranges; a test checks they agree) -----------


@dataclass(frozen=True)
class TestedRange:
    package: str
    low: str  # lowest tested version (inclusive)
    high: str  # first untested version (exclusive)

    @property
    def spec(self) -> str:
        return f"{self.package}>={self.low},<{self.high}"


TESTED = (TestedRange("pyhanko", "0.38", "0.39"), TestedRange("pyhanko-certvalidator", "0.33", "0.34"))


def _numbers(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(n) for n in match.group(0).split(".")) if match else ()


def untested_versions() -> list[tuple[TestedRange, str]]:
    """(range, installed version) of every package installed outside its tested range."""
    found = []
    for tested in TESTED:
        try:
            installed = importlib.metadata.version(tested.package)
        except importlib.metadata.PackageNotFoundError:
            installed = "none"
        if not _numbers(tested.low) <= _numbers(installed) < _numbers(tested.high):
            found.append((tested, installed))
    return found


@functools.cache
def require_tested_pyhanko() -> None:
    """Refuse to sign or verify with a pyHanko this sohoa was not tested with (checked once per process)."""
    wrong = untested_versions()
    if wrong:
        installed = ", ".join(f"{r.package} {version}" for r, version in wrong)
        specs = " ".join(f"'{r.spec}'" for r in TESTED)
        detail = _("{installed} installed; sohoa is tested with {tested}", installed=installed,
                   tested=", ".join(r.spec for r in TESTED))
        raise MissingDependency(what="pyHanko", detail=detail, fix=f"{sys.executable} -m pip install {specs}")


# --- Info and XMP agree after every incremental update (PDF/A 6.6.3) ------------------------------


class PdfaIncrementalWriter(IncrementalPdfFileWriter):
    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is None or "/Metadata" not in self.root:
            return
        meta_obj = self.root["/Metadata"]
        if not isinstance(meta_obj, MetadataStream):
            return
        fields = {key: value for root in meta_obj.xmp for key, value in root}
        info = self._info.get_object()
        producer = fields.get(model.PDF_PRODUCER)
        if producer is not None and isinstance(producer.value, str):
            info["/Producer"] = generic.TextStringObject(producer.value)
        modified = fields.get(model.XMP_MODDATE)
        moment = _parse_iso(modified.value) if modified is not None else None
        if moment is not None:  # unparseable: Info stays as pyHanko wrote it; the PDF/A check will say so
            info["/ModDate"] = generic.pdf_date(moment)
        self.mark_update(self._info)


def _parse_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


# --- stamp fonts at 1000 units per em ---------------------------------------------------------------


_font_lock = threading.Lock()


def pdf_ready_font(path: Path) -> Path:
    """A copy of the font with 1000 units per em, cached on disk; the font itself when it already is.

    Two documents signed at once with a cold cache once raced here (a pid-named temp file that the
    threads of one daemon shared, and a remembered path deleted since). Now the cache folder is private
    (``common.cachedir``), the copy is written by the atomic writer (``mkstemp`` names), a lock guards
    the first fill, and a remembered path is checked before it is returned.
    """
    target = _font_target(file_identity(path))
    if target == path or target.is_file():
        return target
    with _font_lock:
        if not target.is_file():
            font = TTFont(str(path))
            scale_upem(font, 1000)
            with atomic_writer(target) as (stream, _):
                font.save(stream)
    return target


FileIdentity = tuple[Path, int, int]  # resolved path, size, mtime (ns)


def file_identity(path: Path) -> FileIdentity:
    """What a per-process cache of something read from ``path`` is keyed on: a font replaced at the same
    path (a centre's new font, a package upgrade) has another size or mtime, so it is read again."""
    resolved = path.resolve()
    info = resolved.stat()
    return resolved, info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _font_target(identity: FileIdentity) -> Path:
    path = identity[0]
    with TTFont(str(path), lazy=True) as font:
        if int(font["head"].unitsPerEm) == 1000:
            return path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return private_cache_dir("sohoa-fonts") / f"{path.stem}-{digest}-upem1000.ttf"


# --- the stamp font's subset without decompiling the layout tables it drops --------------------------

# what pyHanko 0.38's GlyphAccumulator._extract_subset drops with its default options
_DROPPED_LAYOUT = ("GPOS", "GDEF", "GSUB")


class LayoutFreeAccumulatorFactory(GlyphAccumulatorFactory):
    """``GlyphAccumulatorFactory`` whose accumulators' fontTools copy has no GSUB/GPOS/GDEF (see above)."""

    def create_font_engine(self, writer: object, obj_stream: object = None) -> GlyphAccumulator:
        engine = super().create_font_engine(writer, obj_stream)  # type: ignore[arg-type]
        if "GPOS" in engine.tt and "kern" in engine.tt:
            del engine.tt["kern"]  # the subsetter drops 'kern' where GPOS is (its legacy_kern = False)
        for tag in _DROPPED_LAYOUT:
            if tag in engine.tt:
                del engine.tt[tag]
        return engine


# --- the stamp font's subset made once per glyph set and process ------------------------------------

_SUBSETS: OrderedDict[tuple[FileIdentity, frozenset[int]], bytes] = OrderedDict()
_SUBSETS_MAX = 64  # a few signers × stamp texts; an entry is the subset font program (~20-60 KB)
_subsets_lock = threading.Lock()
_ALWAYS = "0123456789"  # the stamp time's digits: with all ten in every subset, a signer's set stays the same


class _SavedSubset:
    """Stands in for the accumulator's fontTools font once the subset's bytes are known: pyHanko 0.38's
    ``CIDFontType2.set_font_file`` only calls ``save`` on it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def save(self, stream: BinaryIO) -> None:
        stream.write(self.data)


class SubsetCachingAccumulator(GlyphAccumulator):
    """A ``GlyphAccumulator`` whose embedded TrueType subset comes from a per-process cache.

    Why: subsetting and saving the font program is ~15-30 ms of every signature, and a signer's stamp
    uses the same glyphs document after document (the same name and labels; the time's digits are all
    included, see ``_ALWAYS``). The key is the font file's identity (path, size, mtime: a replaced font
    is subset again) and the glyph ids; the value is what fontTools saved for that set, so the PDF gets
    the same font program as without the cache (the head table's timestamp excepted). Only TrueType
    (``/FontFile2``) fonts go through the cache; CFF fonts are embedded as pyHanko does.
    """

    font_identity: FileIdentity

    def _extract_subset(self, options: object = None) -> None:
        extra = {gid for ch in _ALWAYS if (gid := self.hb_font.get_nominal_glyph(ord(ch)))}
        key = (self.font_identity, frozenset(self._glyphs) | extra)
        with _subsets_lock:
            data = _SUBSETS.get(key)
            if data is not None:
                _SUBSETS.move_to_end(key)
        if data is None:
            used = self._glyphs
            self._glyphs = {**{gid: (gid, 0) for gid in extra}, **used}  # only the keys are read here
            try:
                super()._extract_subset(options)  # type: ignore[arg-type]
            finally:
                self._glyphs = used
            out = io.BytesIO()
            self.tt.save(out)
            data = out.getvalue()
            with _subsets_lock:
                _SUBSETS[key] = data
                while len(_SUBSETS) > _SUBSETS_MAX:
                    _SUBSETS.popitem(last=False)
        self.cidfont_obj._tt = _SavedSubset(data)  # type: ignore[assignment]


class SubsetCachingAccumulatorFactory(LayoutFreeAccumulatorFactory):
    """``LayoutFreeAccumulatorFactory`` whose TrueType accumulators reuse the subset (``SubsetCachingAccumulator``)."""

    def create_font_engine(self, writer: object, obj_stream: object = None) -> GlyphAccumulator:
        engine = super().create_font_engine(writer, obj_stream)
        if type(engine) is GlyphAccumulator and type(engine.cidfont_obj) is CIDFontType2:
            engine.__class__ = SubsetCachingAccumulator  # same state, one method more; pyHanko built it
            engine.font_identity = file_identity(Path(self.font_file))
        return engine


def clear_subset_cache() -> None:
    with _subsets_lock:
        _SUBSETS.clear()


# --- a signer that parses its key once ----------------------------------------------------------------


class InMemoryKeySigner(SimpleSigner):
    """``SimpleSigner`` with the parsed key kept: RSA PKCS#1 v1.5 and ECDSA (the mechanisms we allow) sign
    with it; anything else goes to pyHanko's implementation."""

    def __init__(self, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algo = mechanism["algorithm"].native
        hash_algo = getattr(hashes, digest_algorithm.upper())()
        key = self._private_key
        if isinstance(key, rsa.RSAPrivateKey) and algo.endswith("_rsa"):
            return key.sign(data, padding.PKCS1v15(), hash_algo)
        if isinstance(key, ec.EllipticCurvePrivateKey) and algo.endswith("_ecdsa"):
            return key.sign(data, ec.ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)
