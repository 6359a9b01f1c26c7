"""PAdES signing of one PDF: B-B, B-T, B-LT, B-LTA, as an incremental update, written atomically.

Why this shape: the pipeline and the CLI call one function with a *profile name*; everything a center
decides (key, level, appearance, TSA, trust) comes from ``SigningSettings``. The function reads the
input once into memory, signs into memory, checks which PAdES level the output really reached
(never a silent downgrade), writes a temporary file in the target folder, fsyncs it, records the
audit event, and only then renames it over ``dst`` — so a failure at any step leaves no output file
and no audit line for a document that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.signers.pdf_signer import (
    PdfSignatureMetadata,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from sohoa.common.atomic import atomic_writer
from sohoa.common.errors import ConfigError, InternalError
from sohoa.common.hashing import sha256_file
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.signing import Appearance, Level, Pkcs11Key, Pkcs12Key, Profile, SigningSettings
from sohoa.signing import rendering, reservation
from sohoa.signing.appearance import StampPlan, missing_glyphs, plan_stamp
from sohoa.signing.audit import AuditEvent, AuditSink
from sohoa.signing.errors import (
    AppearanceInvalid,
    CertificateRevoked,
    KeySourceInvalid,
    ProfileUnknown,
    RevocationUnavailable,
    SignFailed,
)
from sohoa.signing.keys import OpenedKey, load_certs, load_crls, open_key, read_secret
from sohoa.signing.pdfinput import open_pdf
from sohoa.signing.placement import ink_mask
from sohoa.signing.pyhanko_compat import require_tested_pyhanko
from sohoa.signing.revocation import LEVELS, NEEDS, revocation_policy
from sohoa.signing.signed_output import close_after, reached_level, sign_into
from sohoa.signing.timestamps import LocalTimeStamper, RetryingTimeStamper

log = logging.getLogger(__name__)
audit_log = logging.getLogger("sohoa.audit")



@dataclass(frozen=True)
class SignResult:
    src: Path
    dst: Path
    profile: str | None
    level: Level  # level the output reached (checked in the output, equals the requested one)
    field_name: str
    signer: str
    cert_sha256: str
    signing_time: str
    sha256_before: str
    sha256_after: str
    seconds: float
    stamp_ink: float | None = None  # ink under the visible stamp before signing (share of its area)
    stamp_scale: float | None = None  # < 1 when the stamp shrank to find free space


def _page_box(reader: PdfFileReader, index: int, src: Path) -> tuple[int, tuple[float, float, float, float]]:
    count = int(reader.root["/Pages"]["/Count"])
    if index < 0:
        index += count
    if not 0 <= index < count:
        raise AppearanceInvalid(path=src, detail=_("page {page} does not exist ({count} pages)", page=index + 1,
                                                   count=count))
    page, _ref = reader.find_page_for_modification(index)
    node = page.get_object()
    while node is not None:
        for key in ("/CropBox", "/MediaBox"):
            if key in node:
                x0, y0, x1, y1 = (float(v) for v in node[key])
                return index, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    raise AppearanceInvalid(path=src, detail=_("page {page} has no MediaBox", page=index + 1))


def _next_field_name(reader: PdfFileReader, prefix: str) -> str:
    taken = {name for name, _, _ in fields.enumerate_sig_fields(reader)}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _validation_context(settings: SigningSettings, key: OpenedKey,
                        backend: AIOHttpFetcherBackend) -> ValidationContext:
    roots = load_certs(settings.trust.roots)
    if not roots:
        raise ConfigError(path="[signing.trust]", detail=_("B-LT/B-LTA need trust roots (signing.trust.roots)"))
    return ValidationContext(
        trust_roots=roots, other_certs=[*load_certs(settings.trust.extra_certs), *key.chain], allow_fetching=True,
        crls=load_crls(settings.revocation.crl_files),
        revinfo_policy=revocation_policy(settings.revocation.source), fetcher_backend=backend)


# One client per TSA configuration and process: pyHanko's timestamper fetches one extra "dummy" token
# to size the signature container and caches it per instance, so reusing it halves the TSA round trips.
_TIMESTAMPERS: dict[tuple[object, ...], RetryingTimeStamper] = {}


def _timestamper(settings: SigningSettings, url: str | None) -> RetryingTimeStamper | LocalTimeStamper:
    url = url or settings.tsa.url
    tsa = settings.tsa
    if not url and tsa.key:
        return _local_timestamper(settings)
    if not url:
        raise ConfigError(path="[signing.tsa]", detail=_("B-T and above need a timestamp server (signing.tsa.url)"))
    password = read_secret("tsa", tsa.password_env, None) if tsa.password_env else None
    key = (url, tsa.timeout_s, tsa.retries, tsa.retry_delay_s, tsa.username,
           hashlib.sha256((password or "").encode("utf-8")).hexdigest())
    client = _TIMESTAMPERS.get(key)
    if client is None:
        client = RetryingTimeStamper(url, timeout_s=tsa.timeout_s, retries=tsa.retries,
                                     delay_s=tsa.retry_delay_s, username=tsa.username or None, password=password)
        _TIMESTAMPERS[key] = client
    return client


def _local_timestamper(settings: SigningSettings) -> LocalTimeStamper:
    """The ``[signing.tsa] key`` authority (demo/tests): a PKCS#12 key that stamps in this process."""
    name = settings.tsa.key
    source = settings.keys.get(name)
    if not isinstance(source, Pkcs12Key):
        raise ConfigError(path="[signing.tsa] key",
                          detail=_("{name!r} must name a PKCS#12 entry of [signing.keys]", name=name))
    with open_key(name, source, min_rsa_bits=settings.min_rsa_bits, digest=settings.digest) as opened:
        signing_key = getattr(opened.signer, "signing_key", None)
        if signing_key is None:
            raise ConfigError(path="[signing.tsa] key", detail=_("{name!r} holds no usable key", name=name))
        return LocalTimeStamper(opened.cert, signing_key, opened.chain)


def _now(settings: SigningSettings) -> dt.datetime:
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path="[signing]", detail=_("unknown time zone {zone!r}", zone=settings.timezone)) from None
    return dt.datetime.now(zone).replace(microsecond=0)


def _format_time(settings: SigningSettings, moment: dt.datetime) -> str:
    if settings.time_format == "iso":
        return moment.isoformat(timespec="seconds")
    return moment.strftime(settings.time_format)


def _plan(appearance: Appearance, profile: Profile, key: OpenedKey, reader: PdfFileReader, src: Path,
          time_text: str) -> StampPlan | None:
    if not appearance.visible:
        return None
    if not appearance.font.is_file():
        raise AppearanceInvalid(path=src, detail=_("font {font} not found", font=appearance.font))
    if appearance.seal_image is not None and not appearance.seal_image.is_file():
        raise AppearanceInvalid(path=src, detail=_("seal image {image} not found", image=appearance.seal_image))
    values = {"name": profile.signer_name or key.common_name,
              "organization": profile.organization or key.organization, "time": time_text,
              "copy_form": appearance.copy_form, "reason": profile.reason or "", "location": profile.location or ""}
    try:
        text = appearance.text.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise AppearanceInvalid(path=src, detail=_("stamp text template: {reason}", reason=foreign(exc))) from None
    lacking = missing_glyphs(appearance.font, text)
    if lacking:
        raise AppearanceInvalid(path=src, detail=_("font {font} has no glyph for {chars!r}", font=appearance.font.name,
                                                               chars=lacking))
    index, box = _page_box(reader, appearance.page - 1 if appearance.page > 0 else appearance.page, src)
    return plan_stamp(appearance, index, box, text, ink=_page_ink(src, reader, index, appearance))


def _page_ink(src: Path, reader: PdfFileReader, index: int, appearance: Appearance) -> np.ndarray | None:
    """The page's ink as it is before this signature (earlier stamps included), for free-space placement;
    None for fixed placement, a rotated page, or a page poppler cannot draw (the box then goes to the corner)."""
    if appearance.placement != "free-space":
        return None
    page, _ref = reader.find_page_for_modification(index)
    if int(page.get_object().get("/Rotate", 0) or 0) % 360:
        return None
    grey = rendering.render(src, index)
    return ink_mask(grey) if grey is not None else None


def _translate_hanko_error(exc: HankoSigningError, key: OpenedKey, level: str, src: Path) -> Exception:
    cause = exc.__cause__
    if isinstance(cause, RevokedError):
        return CertificateRevoked(subject=key.subject, detail=str(cause))
    if isinstance(cause, InsufficientRevinfoError):
        return RevocationUnavailable(subject=key.subject, level=level, detail=str(cause))
    if isinstance(cause, PathBuildingError):
        return CertificateRevoked(subject=key.subject,
                                  detail=_("no trusted chain: {reason}", reason=foreign(str(cause))))
    return SignFailed(path=src, detail=f"{exc}{f': {cause}' if cause else ''}")


def sign_with(src: Path, dst: Path, *, profile_name: str | None, profile: Profile, key_name: str,
              key_source: Pkcs12Key | Pkcs11Key, settings: SigningSettings, level: Level | None = None,
              audit: AuditSink | None = None, timestamp_url: str | None = None, step_file: bool = False) -> SignResult:
    """Sign with an explicit profile and key (``sign_pdf`` and ``sign_pdf_adhoc`` both end here).

    ``step_file``: ``dst`` is a file the caller renames elsewhere or deletes; its data is fsynced, its
    folder is not (``common.atomic``'s note on durability)."""
    require_tested_pyhanko()
    started = time.perf_counter()
    level = level or profile.level
    if level not in LEVELS:
        raise ConfigError(path="[signing]", detail=_("unknown PAdES level {level!r} (use {levels})", level=level,
                                                                  levels=", ".join(LEVELS)))
    event: AuditEvent | None = None

    def publish_audit() -> None:
        if event is None:
            raise InternalError(detail="signed output published without its audit event")
        audit_log.info("signed %s → %s", src, dst, extra={"fields": event.to_dict()})
        if audit is not None:
            try:
                audit.record(event)
            except OSError as exc:
                raise SignFailed(path=src, detail=_("audit log not writable: {reason}", reason=foreign(exc))) from None

    with contextlib.ExitStack() as files:
        source, reader = open_pdf(src)
        files.callback(source.close)
        # signed straight into the output's temp file, published (audit line first) when the block ends
        out, temp = files.enter_context(atomic_writer(dst, before_publish=publish_audit, make_parents=True,
                                                      sync_dir=not step_file))
        needs = NEEDS[level]
        timestamper = _timestamper(settings, timestamp_url) if needs.timestamp else None
        moment = _now(settings)
        time_text = _format_time(settings, moment)
        with open_key(key_name, key_source, min_rsa_bits=settings.min_rsa_bits, digest=settings.digest) as key:
            plan = _plan(profile.appearance, profile, key, reader, src, time_text)
            field_name = _next_field_name(reader, profile.field_prefix)
            backend = (AIOHttpFetcherBackend(per_request_timeout=settings.revocation.timeout_s) if needs.revocation
                       else None)
            vc = _validation_context(settings, key, backend) if backend is not None else None
            meta = PdfSignatureMetadata(
                field_name=field_name, md_algorithm=settings.digest, subfilter=fields.SigSeedSubFilter.PADES,
                reason=profile.reason, location=profile.location, contact_info=profile.contact_info,
                signer_key_usage={"digital_signature", "non_repudiation"})
            spec = (fields.SigFieldSpec(field_name, on_page=plan.page_index, box=plan.box) if plan
                    else fields.SigFieldSpec(field_name))
            pdf_signer = signers.PdfSigner(meta, signer=key.signer, timestamper=timestamper,
                                           stamp_style=plan.style if plan else None, new_field_spec=spec)
            room = reservation.reserve_key(key, settings.digest, level, timestamper)
            bytes_reserved = None if backend is not None else reservation.reserved(room)
            try:
                try:
                    asyncio.run(close_after(
                        sign_into(reader, pdf_signer, out, scratch=dst.parent, needs=needs, vc=vc,
                                   timestamper=timestamper, digest=settings.digest, bytes_reserved=bytes_reserved),
                        backend))
                except HankoSigningError as exc:
                    if bytes_reserved is None or not reservation.too_small(exc):
                        raise
                    reservation.forget(room)  # the container outgrew the remembered room: pyHanko sizes it again
                    bytes_reserved = None
                    again, reader = open_pdf(src)  # the first attempt's writer changed the reader's objects
                    files.callback(again.close)
                    asyncio.run(sign_into(reader, pdf_signer, out, scratch=dst.parent, needs=needs, vc=vc,
                                           timestamper=timestamper, digest=settings.digest, bytes_reserved=None))
            except RevokedError as exc:
                raise CertificateRevoked(subject=key.subject, detail=str(exc)) from None
            except InsufficientRevinfoError as exc:
                raise RevocationUnavailable(subject=key.subject, level=level, detail=str(exc)) from None
            except (PathValidationError, PathBuildingError) as exc:
                raise CertificateRevoked(subject=key.subject,
                                         detail=_("no trusted chain: {reason}", reason=foreign(exc))) from None
            except HankoSigningError as exc:
                raise _translate_hanko_error(exc, key, level, src) from None
            except PdfError as exc:
                raise SignFailed(path=src, detail=_("PDF: {reason}", reason=foreign(exc))) from None
            out.flush()
            reached, byte_range = reached_level(out)
            if backend is None and bytes_reserved is None:
                reservation.remember(room, byte_range)
            if reached != level:
                raise SignFailed(path=src, detail=_("output reached {reached}, not the requested {level}",
                                                          reached=reached, level=level))
            result = SignResult(
                src=src, dst=dst, profile=profile_name, level=reached, field_name=field_name,
                signer=key.subject, cert_sha256=key.fingerprint, signing_time=time_text,
                sha256_before=sha256_file(src)[0], sha256_after=sha256_file(temp)[0],
                seconds=0.0, stamp_ink=plan.ink_ratio if plan else None, stamp_scale=plan.scale if plan else None)
            event = AuditEvent(
                time=time_text, profile=profile_name, key_name=key.name, key_kind=key.kind, key_source=key.source,
                cert_subject=key.subject, cert_serial=format(key.cert.serial_number, "x"),
                cert_sha256=key.fingerprint, src=str(src), dst=str(dst), sha256_before=result.sha256_before,
                sha256_after=result.sha256_after, field_name=field_name, level_requested=level,
                level_reached=reached, appearance=profile.appearance.kind,
                tsa_url=timestamper.url if timestamper else None,
                seconds=round(time.perf_counter() - started, 3))

    seconds = time.perf_counter() - started
    return SignResult(**{**result.__dict__, "seconds": round(seconds, 3)})


def sign_pdf(src: Path, dst: Path, *, profile: str, settings: SigningSettings, level: Level | None = None,
             audit: AuditSink | None = None, step_file: bool = False) -> SignResult:
    """Sign ``src`` into ``dst`` with the configured profile ``profile`` (its key, level, appearance).

    ``level`` overrides the profile's PAdES level. ``audit`` receives one event per signature (the
    CLI and the pipeline pass ``JsonLinesAuditSink(settings.resolve(settings.signing.audit_file))``).
    """
    chosen = settings.profiles.get(profile)
    if chosen is None:
        raise ProfileUnknown(profile=profile, known=", ".join(sorted(settings.profiles)) or "-")
    source = settings.keys.get(chosen.key)
    if source is None:
        raise KeySourceInvalid(key=chosen.key, detail=_("profile '{profile}' names key '{key}', which is not in "
                                                        "[signing.keys]", profile=profile, key=chosen.key))
    return sign_with(src, dst, profile_name=profile, profile=chosen, key_name=chosen.key, key_source=source,
                     settings=settings, level=level, audit=audit, step_file=step_file)


def sign_pdf_adhoc(src: Path, dst: Path, *, pkcs12: Path, password_env: str, settings: SigningSettings,
                   appearance: str = "invisible", level: Level | None = None, timestamp_url: str | None = None,
                   audit: AuditSink | None = None) -> SignResult:
    """Sign with a PKCS#12 file given on the command line (IT staff), no profile needed.

    The appearance reuses the configured profile of the same name when there is one (its texts and
    seal), otherwise the built-in defaults of that appearance kind. Level defaults to B-T when a
    timestamp URL is given (here or in the config), else B-B.
    """
    base = settings.profiles.get(appearance)
    look = base.appearance if base is not None and appearance != "invisible" else Appearance(kind=appearance)
    profile = Profile(key="adhoc", level="B-B", appearance=look, reason=base.reason if base else None,
                      field_prefix=base.field_prefix if base else "Sig")
    if level is None:
        level = "B-T" if (timestamp_url or settings.tsa.url) else "B-B"
    source = Pkcs12Key(path=pkcs12, password_env=password_env)
    return sign_with(src, dst, profile_name=None, profile=profile, key_name=pkcs12.name, key_source=source,
                     settings=settings, level=level, audit=audit, timestamp_url=timestamp_url)
