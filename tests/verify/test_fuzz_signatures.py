"""Seeded mutation fuzzing of signed PDFs: every damaged file gets a verdict or "cannot be read", never an
internal error, and none passes.

Mutations keep the file's length, so the cross-reference offsets stay right and the damage reaches the
signature itself: the signature dictionary's ``/ByteRange``, ``/SubFilter``, ``/Filter``, ``/M``, ``/Cert``
(written over the ``/M`` entry: a hex string, a reference, an array; or the hex of an existing ``/Cert``
changed), ``/Reference`` (the DocMDP/FieldMDP transform of certifying signatures: ``/P``, the transform
method, the digest method, the structure) and the signed part of the CMS inside ``/Contents`` (signed
attributes and signature value; see ``_signed_part``). Each case is (base file, field, seed), so a failure
replays. Bases are sohoa's own files and, in the second test, files of other producers (endesive, pdfsig,
pdfsignerpy, OpenSSL, @signpdf, pyHanko with other options: ``tests/verify/producers``).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from asn1crypto import cms

from sohoa.common.errors import InputError
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import verify
from tests.verify.producers.cases import BY_NAME, FUZZ_SEEDS, missing_tool

pytestmark = pytest.mark.slow
ROUNDS = 6
BASES = ["b-b", "b-lt", "b-lta", "two"]
FOREIGN_ROUNDS = 2
CERTS = [b"<3082", b"12 0 R", b"[(x) 1 0 R]", b"<>", b"/Name", b"[<30820000>]"]
TRANSFORMS = [b"/FieldMDP", b"/UR3", b"/Identity", b"/Nonsense", b"/DocMDP"]
SUBFILTERS = [b"/adbe.pkcs7.sha1", b"/ETSI.RFC3161", b"/adbe.x509.rsa_sha1", b"/ETSI.CAdES.detached",
              b"/adbe.pkcs7.detached", b"/Nonsense"]


def _same_length(new: bytes, old: bytes) -> bytes:
    """``new`` padded with spaces (PDF white space) or cut to ``old``'s length."""
    return new[:len(old)].ljust(len(old), b" ")


def _spans(data: bytes, pattern: bytes) -> list[tuple[int, int]]:
    return [(m.start(1), m.end(1)) for m in re.finditer(pattern, data, re.S)]


def mutations(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for start, end in _spans(data, rb"/ByteRange\s*\[([^\]]*)\]"):
        numbers = [rng.choice([-5, 0, 1, 7, 10**9, len(data), len(data) + 100, rng.randrange(len(data))])
                   for _ in range(4)]
        text = " ".join(str(n) for n in numbers).encode()
        yield "byterange", data[:start] + _same_length(text, data[start:end]) + data[end:]
        digits = bytearray(data[start:end])
        spot = rng.randrange(len(digits))
        if chr(digits[spot]).isdigit():
            digits[spot] = ord(str((int(chr(digits[spot])) + rng.randint(1, 9)) % 10))
        yield "byterange-digit", data[:start] + bytes(digits) + data[end:]
    for start, end in _spans(data, rb"/SubFilter\s*(/[A-Za-z0-9.#]+)"):
        new = rng.choice(SUBFILTERS)
        if len(new) <= end - start:
            yield "subfilter", data[:start] + _same_length(new, data[start:end]) + data[end:]
    for start, end in _spans(data, rb"/Filter\s*(/Adobe\.PPKLite)"):
        yield "filter", data[:start] + _same_length(b"/Foo.Bar", data[start:end]) + data[end:]
    for start, end in _spans(data, rb"/M\s*\((D[^)]*)\)"):
        yield "time", data[:start] + _same_length(b"D:99999999", data[start:end]) + data[end:]
    yield from _cert_and_reference(data, rng)
    for start, end in _spans(data, rb"/Contents\s*<([0-9A-Fa-f]+)>"):
        hex_digits = data[start:end]
        signed = _signed_part(hex_digits)
        if signed is None:
            continue
        low, high = signed
        for kind in ("flip", "not-hex", "cut"):
            body = bytearray(hex_digits)
            if kind == "flip":
                for _ in range(rng.randint(1, 6)):
                    spot = rng.randrange(2 * low, 2 * high)
                    body[spot] = ord(rng.choice([c for c in "0123456789abcdef" if ord(c) != body[spot]]))
            elif kind == "not-hex":
                body[rng.randrange(2 * low, 2 * high)] = ord("z")
            else:  # the DER cut short inside the signed part: the rest becomes padding
                cut = rng.randrange(2 * low, 2 * high)
                body[cut:] = b"0" * (len(body) - cut)
            yield f"contents-{kind}", data[:start] + bytes(body) + data[end:]


def _cert_and_reference(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """``/Cert`` written over the ``/M`` entry (or an existing ``/Cert``'s hex changed) and ``/Reference`` damaged."""
    for start, end in _spans(data, rb"(/M\s*\(D[^)]*\))"):
        value = rng.choice(CERTS)
        if value == b"<3082":
            value = b"<3082" + bytes(rng.choice(b"0123456789abcdef") for _ in range(end - start - 12)) + b">"
        yield "cert", data[:start] + _same_length(b"/Cert " + value, data[start:end]) + data[end:]
    for start, end in _spans(data, rb"/Cert\s*<([0-9A-Fa-f]+)>"):
        body = bytearray(data[start:end])
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = ord(rng.choice("0123456789abcdef"))
        yield "cert-hex", data[:start] + bytes(body) + data[end:]
    for start, end in _spans(data, rb"/TransformParams\s*<<.*?/P\s*(\d)"):
        yield "reference-p", data[:start] + rng.choice(b"0123459").to_bytes(1, "big") + data[end:]
    for start, end in _spans(data, rb"/TransformMethod\s*(/[A-Za-z0-9]+)"):
        new = rng.choice(TRANSFORMS)
        if len(new) <= end - start:
            yield "reference-method", data[:start] + _same_length(new, data[start:end]) + data[end:]
    for start, end in _spans(data, rb"(/Reference\s*\[)"):
        new = rng.choice([b"/Reference 0 ", b"/Reference (", b"/Reference <<", b"/Reference [["])
        yield "reference-structure", data[:start] + _same_length(new, data[start:end]) + data[end:]
    for start, end in _spans(data, rb"/DigestMethod\s*(/[A-Za-z0-9]+)"):
        yield "reference-digest", data[:start] + _same_length(rng.choice([b"/MD5", b"/SHA1", b"/X"]),
                                                             data[start:end]) + data[end:]


def _signed_part(hex_digits: bytes) -> tuple[int, int] | None:
    """Byte span of the CMS that decides the verdict: from the signer's certificate through the signed
    attributes and the signature value. Left out on purpose: the extra certificates of the CMS bag and the
    unsigned attributes (a signature timestamp's tail), which no signature covers; a flip there can leave
    a signature that still validates from the file's DSS, and that is not a false pass."""
    try:
        der = bytes.fromhex(hex_digits.decode().rstrip("0") + "0" * (len(hex_digits.decode().rstrip("0")) % 2))
        info = cms.ContentInfo.load(der)
        signer = info["content"]["signer_infos"][0]
        attrs, value = signer["signed_attrs"].dump(), signer["signature"].dump()
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    low, high = der.find(attrs), der.find(value) + len(value)
    return (low, high) if 0 <= low < high else None


def _fuzz(bases: list[tuple[str, bytes]], rounds: int, tmp_path: Path, settings: SigningSettings,
          record_property: pytest.RecordProperty) -> None:
    outcomes: Counter[str] = Counter()
    internal: list[str] = []
    passed: list[str] = []
    for base, data in bases:
        for seed in range(rounds):
            for number, (kind, damaged) in enumerate(mutations(data, random.Random(f"{base}/{seed}"))):
                if damaged == data:
                    continue  # the draw changed nothing (a digit replaced by itself, the same SubFilter)
                name = f"{base}-{kind}-{seed}-{number}"
                path = tmp_path / f"{name}.pdf"
                path.write_bytes(damaged)
                try:
                    report = verify(path, settings, offline=True, lang="en")
                except InputError as err:
                    outcomes[f"unreadable:{err.code}"] += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - the point of the test: report any untyped failure
                    internal.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                outcomes[f"{report.indication}/{report.sub_indication}"] += 1
                if report.indication == "TOTAL-PASSED":
                    passed.append(name)
                else:
                    path.unlink()
    record_property("outcomes", dict(outcomes))
    print(sum(outcomes.values()) + len(internal), "cases:", dict(outcomes))
    assert not internal, "\n".join(internal[:20])
    assert not passed, f"damaged signatures passed: {passed}"


def test_mutated_signatures_get_a_verdict_and_none_passes(case: Callable[[str], Path], tmp_path: Path,
                                                           signing_settings: SigningSettings,
                                                           record_property: pytest.RecordProperty) -> None:
    _fuzz([(base, case(base).read_bytes()) for base in BASES], ROUNDS, tmp_path, signing_settings, record_property)


def test_mutated_foreign_signatures_get_a_verdict_and_none_passes(producer_case: Callable[[str], Path],
                                                                   tmp_path: Path, signing_settings: SigningSettings,
                                                                   record_property: pytest.RecordProperty) -> None:
    """The same mutations, from files of other producers (and certifying ones, which carry ``/Reference``)."""
    bases = []
    for name in [*FUZZ_SEEDS, "hanko-certify-p1", "endesive-sha512-certify", "openssl-x509-rsa-sha1"]:
        if all(missing_tool(tool) is None for tool in BY_NAME[name].needs):
            bases.append((name, producer_case(name).read_bytes()))
    _fuzz(bases, FOREIGN_ROUNDS, tmp_path, signing_settings, record_property)
