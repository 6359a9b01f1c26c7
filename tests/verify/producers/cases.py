"""The multi-producer case table: who signed, what happened after, the verdict DSS would give, the split.

Why a table: the verdicts are the specification (issue 11); the builders are only how to get the files.
Expected verdicts are DSS-style (ETSI EN 319 102-1) for the session test PKI: ``online`` with the test
root as the only trust anchor and its OCSP/CRL/TSA answering on 127.0.0.1, ``offline`` with only what
the file embeds (a B-B file offline cannot prove revocation status: INDETERMINATE/TRY_LATER).

``split``: "tuning" cases may guide the lead's work on the modification judgement; "held-out" ones
(@signpdf, pdfsignerpy and OpenSSL without signed attributes, and what is built on them) must not, so
they measure the result. ``bug`` marks a case where today's verifier is known to be wrong (the test is
``xfail(strict=True)`` with that reason, so it flips when fixed). ``needs`` names a tool the case
cannot be made without (the test skips with the reason when it is missing).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.verify import makers
from tests.verify.producers import (
    attacks,
    endesive_signer,
    hanko,
    openssl_cms,
    pdfsig_signer,
    pdfsignerpy_signer,
    post,
    signpdf,
)
from tests.verify.producers.base import Workspace

PASSED, INDET, FAILED = "TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED"
TRY_LATER = (INDET, "TRY_LATER")
MODIFIED = (FAILED, "FORMAT_FAILURE")
WHEN = dt.datetime(2026, 11, 30, 8, 0, 0, tzinfo=dt.UTC)  # fixed signing time where a tool takes one
Verdict = tuple[str, str | None]


class Corpus:
    """Builds and caches the signed files: ``signed(name)`` for a signer's output on the base document."""

    def __init__(self, ws: Workspace, src: Path, folder: Path) -> None:
        self.ws, self.pki, self.src, self.folder = ws, ws.pki, src, folder
        self._made: dict[str, bytes] = {}

    @property
    def base(self) -> bytes:
        return self.src.read_bytes()

    def file(self, name: str, data: bytes) -> Path:
        path = self.folder / f"{name}.pdf"
        path.write_bytes(data)
        return path

    def temp(self, name: str, data: bytes) -> Path:
        return self.file(f"_in-{name}", data)

    def cached(self, name: str, make: Callable[[], bytes]) -> bytes:
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    def signed(self, producer: str, data: bytes | None = None, tag: str = "") -> bytes:
        """``producer``'s signature over ``data`` (default: the base document); cached by name and tag."""
        return self.cached(f"{producer}/{tag}", lambda: SIGNERS[producer](self, self.base if data is None else data))

    def via_file(self, data: bytes, tool: Callable[[Path, Path], object], tag: str) -> bytes:
        src, dst = self.temp(f"{tag}-src", data), self.folder / f"_out-{tag}.pdf"
        tool(src, dst)
        return dst.read_bytes()


def _pdfsig_etsi(c: Corpus, d: bytes) -> bytes:
    """``-etsi`` is refused with ``-add-signature`` by poppler 22.12 ("not supported yet"), so the field is made
    first (pyHanko) and pdfsig signs it with ``-sign FIELD -etsi``: a CAdES CMS under /adbe.pkcs7.detached."""
    return c.via_file(hanko.add_visible_field(d, "PdfsigEtsi"), lambda s, o: pdfsig_signer.sign_field(
        s, o, c.ws, "PdfsigEtsi", etsi=True), "pdfsig-etsi")


SIGNERS: dict[str, Callable[[Corpus, bytes], bytes]] = {
    **{name: (lambda c, d, name=name: hanko.variants(c.pki)[name](d)) for name in hanko.NAMES},  # type: ignore[misc]
    "endesive": lambda c, d: endesive_signer.sign(d, c.pki.signer("organization"), when=WHEN),
    "endesive-sha512-certify": lambda c, d: endesive_signer.sign(d, c.pki.signer("digitizer"), md="sha512",
                                                                 certify=True, when=WHEN),
    "pdfsig": lambda c, d: c.via_file(d, lambda s, o: pdfsig_signer.sign(s, o, c.ws), "pdfsig"),
    "pdfsig-etsi": _pdfsig_etsi,
    "pdfsignerpy": lambda c, d: c.via_file(d, lambda s, o: pdfsignerpy_signer.sign(
        s, o, c.ws.keys("organization")), "pdfsignerpy"),
    "pdfsignerpy-visible": lambda c, d: c.via_file(d, lambda s, o: pdfsignerpy_signer.sign(
        s, o, c.ws.keys("digitizer"), visible=True), "pdfsignerpy-visible"),
    "signpdf": lambda c, d: c.via_file(d, lambda s, o: signpdf.sign(s, o, c.ws.keys("organization"), when=WHEN),
                                       "signpdf"),
    "openssl": lambda c, d: openssl_cms.sign_detached(d, c.ws.keys("organization")),
    "openssl-noattr": lambda c, d: openssl_cms.sign_detached(d, c.ws.keys("digitizer"), attrs=False),
    "openssl-pkcs7-sha1": lambda c, d: openssl_cms.sign_pkcs7_sha1(d, c.ws.keys("organization")),
    "openssl-x509-rsa-sha1": lambda c, d: openssl_cms.sign_x509_rsa_sha1(d, c.pki.signer("organization")),
}


@dataclass(frozen=True)
class Case:
    name: str
    producer: str
    post: str  # what was done after signing, by which tool ("-" for nothing)
    online: Verdict
    split: str  # "tuning" | "held-out"
    build: Callable[[Corpus], bytes]
    offline: Verdict | None = None  # None: TRY_LATER when online passes, else the online verdict
    bug: str | None = None  # today's verifier is wrong here, online and offline (xfail strict)
    offline_bug: str | None = None  # wrong offline only
    online_bug: str | None = None  # wrong online only (offline, TRY_LATER hides the difference)
    needs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def expected_offline(self) -> Verdict:
        if self.offline is not None:
            return self.offline
        return TRY_LATER if self.online[0] == PASSED else self.online


def _plain(producer: str, online: Verdict = (PASSED, None), split: str = "tuning", **kw: object) -> Case:
    return Case(producer, producer, "-", online, split, lambda c: c.signed(producer), **kw)  # type: ignore[arg-type]


CASES: list[Case] = [
    # --- signers, nothing done after ---
    _plain("hanko-sha384-bt"),
    _plain("hanko-sha512-nochain", (INDET, "NO_CERTIFICATE_CHAIN_FOUND")),
    _plain("hanko-pkcs7-detached"),
    _plain("hanko-certify-p1"),
    _plain("hanko-certify-p2"),
    _plain("hanko-certify-p3"),
    _plain("hanko-visible-field"),
    _plain("hanko-ecdsa"),
    _plain("endesive"),
    Case("endesive-shadow-base", "endesive", "- (the shadow attacks' signed revision, as signed)", (PASSED, None),
         "tuning", lambda c: c.signed("endesive", attacks.prepare_shadow(c.base), "shadow")),
    _plain("endesive-sha512-certify"),
    _plain("pdfsig", needs=("pdfsig",)),
    _plain("pdfsig-etsi", needs=("pdfsig",)),
    _plain("pdfsignerpy", split="held-out"),
    _plain("pdfsignerpy-visible", split="held-out"),
    _plain("signpdf", split="held-out", needs=("node",)),
    _plain("openssl"),
    _plain("openssl-noattr", split="held-out"),
    _plain("openssl-pkcs7-sha1", (INDET, "CRYPTO_CONSTRAINTS_FAILURE_NO_POE")),
    # not a PAdES/CAdES format (deprecated since PDF 2.0): ETSI EN 319 102-1 table 5 puts FORMAT_FAILURE under
    # TOTAL-FAILED; the signature value itself is good (pdfsig: "Signature has not yet been verified")
    _plain("openssl-x509-rsa-sha1", (FAILED, "FORMAT_FAILURE")),
    # --- legitimate later changes by another tool ---
    Case("endesive+ltvfix", "endesive", "pyHanko add_validation_info (ltvfix)", (PASSED, None), "tuning",
         lambda c: post.ltv_fix(c.signed("endesive"), c.pki), offline=(PASSED, None)),
    Case("pdfsig+ltvfix+doc-ts", "pdfsig", "pyHanko ltvfix, then a pyHanko document timestamp", (PASSED, None),
         "tuning", lambda c: post.doc_timestamp(post.ltv_fix(c.signed("pdfsig"), c.pki), c.pki.tsa_url),
         offline=TRY_LATER, needs=("pdfsig",)),
    Case("endesive+ltvfix+doc-ts+ltvfix", "endesive", "pyHanko ltvfix, document timestamp, ltvfix of the timestamp",
         (PASSED, None), "tuning", lambda c: post.ltv_fix(post.doc_timestamp(post.ltv_fix(
             c.signed("endesive"), c.pki), c.pki.tsa_url), c.pki, timestamp=True), offline=(PASSED, None)),
    Case("endesive+doc-ts", "endesive", "pyHanko document timestamp", (PASSED, None), "tuning",
         lambda c: post.doc_timestamp(c.signed("endesive"), c.pki.tsa_url)),
    Case("pdfsig+annotation", "pdfsig", "sticky note (pyHanko writer)", (PASSED, None), "tuning",
         lambda c: post.add_annotation(c.signed("pdfsig")), needs=("pdfsig",)),
    Case("endesive+form-fill", "endesive", "text field filled (hand-written update)", (PASSED, None), "tuning",
         lambda c: post.fill_text_field(c.signed("endesive", post.add_text_field(c.base), "field"))),
    Case("hanko-certify-p2+form-fill", "hanko-certify-p2", "text field filled within DocMDP P=2", (PASSED, None),
         "tuning", lambda c: post.fill_text_field(c.signed("hanko-certify-p2", post.add_text_field(c.base),
                                                           "field"))),
    Case("endesive+pdfsig", "endesive", "second signature by pdfsig", (PASSED, None), "tuning",
         lambda c: c.signed("pdfsig", c.signed("endesive"), "second"), needs=("pdfsig",)),
    Case("openssl+endesive", "openssl", "second signature by endesive", (PASSED, None), "tuning",
         lambda c: c.signed("endesive", c.signed("openssl"), "second")),
    Case("signpdf+hanko", "signpdf", "second signature by pyHanko (SHA-384, B-T)", (PASSED, None), "held-out",
         lambda c: c.signed("hanko-sha384-bt", c.signed("signpdf"), "second"), needs=("node",)),
    Case("pdfsignerpy+dss-twice", "pdfsignerpy", "DSS appended twice (pyHanko writer)", (PASSED, None), "held-out",
         lambda c: post.dss_twice(c.signed("pdfsignerpy"), c.pki), offline=(PASSED, None)),
    Case("openssl-noattr+doc-ts", "openssl-noattr", "pyHanko document timestamp", (PASSED, None), "held-out",
         lambda c: post.doc_timestamp(c.signed("openssl-noattr"), c.pki.tsa_url)),
    # --- changes that must fail ---
    Case("hanko-certify-p1+annotation", "hanko-certify-p1", "sticky note under DocMDP P=1", MODIFIED, "tuning",
         lambda c: post.add_annotation(c.signed("hanko-certify-p1"))),
    Case("hanko-certify-p2+annotation", "hanko-certify-p2", "sticky note under DocMDP P=2", MODIFIED, "tuning",
         lambda c: post.add_annotation(c.signed("hanko-certify-p2"))),
    Case("hanko-certify-p3+annotation", "hanko-certify-p3", "sticky note under DocMDP P=3", (PASSED, None), "tuning",
         lambda c: post.add_annotation(c.signed("hanko-certify-p3"))),
    Case("pdfsig+qpdf", "pdfsig", "full rewrite by qpdf (object streams)", (FAILED, "HASH_FAILURE"), "tuning",
         lambda c: post.qpdf_rewrite(c.signed("pdfsig")), needs=("pdfsig", "qpdf")),
    Case("pdfsignerpy+qpdf", "pdfsignerpy", "full rewrite by qpdf (object streams)", (FAILED, "HASH_FAILURE"),
         "held-out", lambda c: post.qpdf_rewrite(c.signed("pdfsignerpy")), needs=("qpdf",)),
    Case("endesive+hybrid-content", "endesive", "page content redefined via /XRefStm only (hybrid)", MODIFIED,
         "tuning", lambda c: attacks.hybrid_content(c.signed("endesive"))),
    Case("openssl+byterange-overlap", "openssl", "ByteRange [0 a 100 a-100], CMS valid over it",
         MODIFIED, "tuning", lambda c: attacks.byterange_overlap(c.base, c.ws.keys("organization"))),
    # the second signature covers the DSS that is then deleted: pyHanko finds that unexplained (level OTHER);
    # DSS's default policy has UndefinedChanges at WARN, so nothing fails; the lead's rule: INDETERMINATE
    Case("endesive+dss+endesive+dss-deleted", "endesive", "DSS, a second endesive signature, then the DSS removed",
         (INDET, "GENERIC"), "tuning",
         lambda c: attacks.delete_dss(c.signed("endesive", post.dss(c.signed("endesive"), c.pki), "over-dss")),
         offline=TRY_LATER),
    Case("endesive+page-added", "endesive", "page added (pyHanko writer)", MODIFIED, "tuning",
         lambda c: makers.add_page(c.signed("endesive"))),
    Case("pdfsig+page-removed", "pdfsig", "last page removed (hand-written update)", MODIFIED, "tuning",
         lambda c: attacks.remove_page(c.signed("pdfsig")), needs=("pdfsig",)),
    Case("pdfsig+content-replaced", "pdfsig", "page content stream redefined in an update", MODIFIED, "tuning",
         lambda c: attacks.replace_content(c.signed("pdfsig")), needs=("pdfsig",)),
    Case("signpdf+content-replaced", "signpdf", "page content stream redefined in an update", MODIFIED, "held-out",
         lambda c: attacks.replace_content(c.signed("signpdf")), needs=("node",)),
    Case("endesive+shadow-hide", "endesive", "shadow hide: overlay annotation removed", MODIFIED, "tuning",
         lambda c: attacks.after_hide(c.signed("endesive", attacks.prepare_shadow(c.base), "shadow"))),
    Case("endesive+shadow-replace", "endesive", "shadow replace: /Fm0 points at the signed shadow form",
         MODIFIED, "tuning",
         lambda c: attacks.after_replace(c.signed("endesive", attacks.prepare_shadow(c.base), "shadow"))),
    Case("endesive+shadow-hide-and-replace", "endesive", "shadow hide-and-replace: /Contents → shadow stream",
         MODIFIED, "tuning",
         lambda c: attacks.after_hide_and_replace(c.signed("endesive", attacks.prepare_shadow(c.base), "shadow"))),
    # @signpdf's string-level placeholder appends its own /AcroForm to the catalog text, leaving pdfsignerpy's
    # direct one in place: a catalog with two /AcroForm keys, which readers resolve differently (pyHanko keeps
    # the first, qpdf/pikepdf the last; pdfsig lists both signatures). A parser differential: malformed.
    Case("pdfsignerpy-visible+signpdf", "pdfsignerpy-visible", "second signature by @signpdf (duplicate /AcroForm)",
         MODIFIED, "held-out", lambda c: c.signed("signpdf", c.signed("pdfsignerpy-visible"), "second"),
         needs=("node",)),
    Case("pdfsignerpy+page-added", "pdfsignerpy", "page added (pyHanko writer)", MODIFIED, "held-out",
         lambda c: makers.add_page(c.signed("pdfsignerpy"))),
]
BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"


def missing_tool(tool: str) -> str | None:
    """Why ``tool`` ("node", "pdfsig", "qpdf") cannot run here, or None."""
    if tool == "node":
        return signpdf.missing()
    return None if shutil.which(tool) else f"{tool} is not installed"


def build(case: Case, corpus: Corpus) -> Path:
    return corpus.file(case.name, case.build(corpus))


# Foreign-producer cases the fuzz test starts from (intact, plain signatures of distinct writers).
FUZZ_SEEDS = ["endesive", "pdfsig", "pdfsignerpy", "openssl-noattr", "signpdf", "hanko-pkcs7-detached"]
