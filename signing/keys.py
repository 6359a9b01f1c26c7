"""Key sources: a PKCS#12 file or a PKCS#11 token/HSM, opened into a pyHanko ``Signer`` and checked.

Why the checks here and not in pyHanko: a clerk must hear "the certificate expired on 2025-03-01" or
"this key does not belong to this certificate" *before* a document is touched, not an opaque CMS
error afterwards. Every opened key is probed with one real signature over a fixed message, verified
with the certificate's public key: this proves the key matches on every kind of source (a token's
key and certificate are separate objects that can be mislabelled).

Secrets are read from an environment variable or a private file, used once, and never logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

from sohoa.common.errors import ConfigError
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.signing import Pkcs11Key, Pkcs12Key
from sohoa.signing.errors import (
    CertificateInvalid,
    KeyMismatch,
    KeySourceInvalid,
    KeyUnavailable,
    SecretMissing,
    WrongSecret,
)
from sohoa.signing.pyhanko_compat import InMemoryKeySigner

ALLOWED_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_PROBE = b"sohoa key/certificate match probe"


@dataclass
class OpenedKey:
    """A ready signer plus what the audit and the stamp need to know about it (no secrets)."""

    name: str
    kind: str  # "pkcs12" | "pkcs11"
    source: str  # file path or "module / token / label", for messages and the audit
    signer: Signer
    cert: asn1_x509.Certificate
    chain: list[asn1_x509.Certificate] = field(default_factory=list)
    verified: bool = False  # key/certificate match already proven (cached PKCS#12)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.cert.dump()).hexdigest()

    @property
    def subject(self) -> str:
        return self.cert.subject.human_friendly

    @property
    def common_name(self) -> str:
        return str(self.cert.subject.native.get("common_name", self.subject))

    @property
    def organization(self) -> str:
        return str(self.cert.subject.native.get("organization_name", self.common_name))


def read_secret(key_name: str, env: str | None, file: Path | None) -> str:
    """The password/PIN from ``env`` (variable name) or ``file`` (first line; must not be group/world-readable)."""
    if env:
        value = os.environ.get(env)
        if value is None:
            raise SecretMissing(key=key_name, where=_("environment variable {name}", name=env), detail=_("not set"))
        return value
    if file is not None:
        try:
            info = file.stat()
            if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise SecretMissing(key=key_name, where=str(file), path=file,
                                    detail=_("readable by other users (mode {mode:o}); run chmod 600 on it",
                                             mode=stat.S_IMODE(info.st_mode)))
            return file.read_text(encoding="utf-8").splitlines()[0] if info.st_size else ""
        except OSError as exc:
            raise SecretMissing(key=key_name, where=str(file), path=file, detail=foreign(exc)) from None
    raise SecretMissing(key=key_name, where=_("the configuration"), detail=_("no password/PIN source configured"))


def load_certs(paths: list[Path]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (possibly several per file) or DER files."""
    certs: list[asn1_x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        if pem.detect(data):
            certs.extend(asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))
        else:
            certs.append(asn1_x509.Certificate.load(data))
    return certs


def load_crls(paths: list[Path]) -> list[asn1_crl.CertificateList]:
    """CRLs from PEM or DER files (``[signing.revocation] crl_files``)."""
    crls: list[asn1_crl.CertificateList] = []
    for path in paths:
        try:
            data = path.read_bytes()
            if pem.detect(data):
                crls.extend(asn1_crl.CertificateList.load(der) for _, _, der in pem.unarmor(data, multiple=True))
            else:
                crls.append(asn1_crl.CertificateList.load(data))
            for crl in crls:
                crl.native  # noqa: B018 - parse now, so a damaged file is named here and not deep in pyHanko
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(path=path, detail=_("unreadable CRL: {reason}", reason=foreign(exc))) from None
    return crls


def _crypto_to_asn1(cert: object) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))  # type: ignore[attr-defined]


# Opened PKCS#12 keys, per (path, size, mtime, password digest): a worker signing thousands of
# documents decrypts its key file once. A changed file or password opens the file again.
_PKCS12_CACHE: dict[tuple[str, int, int, str], OpenedKey] = {}


def _open_pkcs12(name: str, source: Pkcs12Key, password: str) -> OpenedKey:
    try:
        info = source.path.stat()
    except OSError as exc:
        raise KeyUnavailable(key=name, path=source.path, detail=foreign(exc)) from None
    cache_key = (str(source.path.resolve()), info.st_size, info.st_mtime_ns,
                 hashlib.sha256(password.encode("utf-8")).hexdigest())
    cached = _PKCS12_CACHE.get(cache_key)
    if cached is not None:
        return OpenedKey(name, cached.kind, cached.source, cached.signer, cached.cert, cached.chain, verified=True)
    opened = _load_pkcs12(name, source, password)
    _PKCS12_CACHE.clear()  # keep at most one decrypted key per process besides the current one
    _PKCS12_CACHE[cache_key] = opened
    return opened


def _load_pkcs12(name: str, source: Pkcs12Key, password: str) -> OpenedKey:
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        raise KeyUnavailable(key=name, path=source.path, detail=foreign(exc)) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
    except ValueError:
        raise WrongSecret(key=name, path=source.path,
                          detail=_("{path}: password rejected, or the PKCS#12 file is damaged",
                                   path=source.path)) from None
    if key is None or cert is None:
        raise KeySourceInvalid(key=name, path=source.path,
                               detail=_("{path} holds no key or no certificate", path=source.path))
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    chain = [_crypto_to_asn1(c) for c in extra] + load_certs(source.extra_certs)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeySourceInvalid(key=name, path=source.path,
                               detail=_("unsupported key type {type}", type=type(key).__name__))
    signer = InMemoryKeySigner(key, signing_cert=_crypto_to_asn1(cert),
                                signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                                cert_registry=SimpleCertificateStore.from_certs(chain))
    return OpenedKey(name, "pkcs12", str(source.path), signer, _crypto_to_asn1(cert), chain)


@contextmanager
def _open_pkcs11(name: str, source: Pkcs11Key, pin: str) -> Iterator[OpenedKey]:
    # imported lazily: python-pkcs11 is only needed by centers that use tokens
    from pkcs11 import exceptions as p11_exc
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    where = _("{module} / token {label}", module=source.module, label=source.token_label or _("(the first one)"))
    if not source.module.exists():
        raise KeyUnavailable(key=name, detail=_("PKCS#11 module {module} not found", module=source.module))
    criteria = TokenCriteria(label=source.token_label) if source.token_label else None
    try:
        session = open_pkcs11_session(str(source.module), slot_no=source.slot, token_criteria=criteria,
                                      user_pin=pin)
    except (p11_exc.PinIncorrect, p11_exc.PinInvalid, p11_exc.PinLenRange):
        raise WrongSecret(key=name, detail=_("PIN rejected by {where}", where=where)) from None
    except p11_exc.PinLocked:
        raise WrongSecret(key=name, detail=_("PIN locked on {where}; ask the security officer to unlock it",
                                             where=where)) from None
    except p11_exc.PKCS11Error as exc:
        raise KeyUnavailable(key=name, detail=_("{where}: {reason}", where=where, reason=foreign(exc))) from None
    try:
        key_id = bytes.fromhex(source.key_id) if source.key_id else None
        label_key = source.key_label or source.cert_label
        label_cert = source.cert_label or source.key_label
        extra = load_certs(source.extra_certs)

        def make_signer(raw: bool) -> PKCS11Signer:
            return PKCS11Signer(session, cert_label=label_cert, key_label=label_key, key_id=key_id, cert_id=key_id,
                                ca_chain=extra or None, bulk_fetch=False, use_raw_mechanism=raw)

        signer = make_signer(bool(source.raw_mechanism))
        try:
            cert = signer.signing_cert
        except (p11_exc.PKCS11Error, HankoSigningError) as exc:
            raise KeyUnavailable(key=name, detail=_("{where}: certificate not found ({reason})", where=where,
                                                         reason=foreign(exc))) from None
        if cert is None:
            raise KeyUnavailable(key=name, detail=_("{where}: certificate not found", where=where))
        if source.raw_mechanism is None and cert.public_key.algorithm == "ec":
            signer = make_signer(True)
        yield OpenedKey(name, "pkcs11", f"{where} / {label_key or source.key_id}", signer, cert, extra)
    finally:
        session.close()


def check_certificate(key: OpenedKey, *, min_rsa_bits: int, now: dt.datetime | None = None) -> None:
    """Refuse a certificate that is outside its validity, not meant for signing, or too weak."""
    now = now or dt.datetime.now(dt.UTC)
    validity = key.cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    subject = key.subject
    if now < not_before:
        raise CertificateInvalid(key=key.name, subject=subject,
                                 reason=_("not valid before {date:%Y-%m-%d}", date=not_before))
    if now > not_after:
        raise CertificateInvalid(key=key.name, subject=subject, reason=_("expired on {date:%Y-%m-%d}", date=not_after))
    usage = key.cert.key_usage_value
    if usage is not None and not ({"digital_signature", "non_repudiation"} & set(usage.native)):
        raise CertificateInvalid(key=key.name, subject=subject,
                                 reason=_("key usage {usage} does not allow signing", usage=sorted(usage.native)))
    public = key.cert.public_key
    if public.algorithm == "rsa" and public.bit_size < min_rsa_bits:
        raise CertificateInvalid(key=key.name, subject=subject,
                                 reason=_("RSA key of {bits} bits, at least {needed} required", bits=public.bit_size,
                                          needed=min_rsa_bits))
    if public.algorithm == "ec" and public.curve[1] not in ALLOWED_CURVES:
        raise CertificateInvalid(key=key.name, subject=subject,
                                 reason=_("curve {curve} is not supported", curve=public.curve[1]))
    if public.algorithm not in ("rsa", "ec"):
        raise CertificateInvalid(key=key.name, subject=subject,
                                 reason=_("unsupported key algorithm {algorithm}", algorithm=public.algorithm))


def check_key_matches(key: OpenedKey, digest: str = "sha256") -> None:
    """Sign a fixed probe and verify it with the certificate: a mismatched key fails here, not later."""
    signer = key.signer
    mechanism = signer.get_signature_mechanism_for_digest(digest)
    try:
        signature = asyncio.run(signer.async_sign_raw(_PROBE, digest))
    except (HankoSigningError, RuntimeError) as exc:  # PKCS11Error is a RuntimeError
        raise KeyUnavailable(key=key.name, detail=_("the key cannot sign ({reason})", reason=foreign(exc))) from None
    try:
        DefaultSignatureValidator().validate_signature(signature, _PROBE, key.cert.public_key, mechanism)
    except InvalidSignature:
        raise KeyMismatch(key=key.name, subject=key.subject) from None


@contextmanager
def open_key(name: str, source: Pkcs12Key | Pkcs11Key, *, min_rsa_bits: int = 2048,
             digest: str = "sha256") -> Iterator[OpenedKey]:
    """Open the key ``name`` (a ``[signing.keys]`` entry), check its certificate, prove the key matches."""
    if isinstance(source, Pkcs12Key):
        password = read_secret(name, source.password_env, source.password_file)
        opened = _open_pkcs12(name, source, password)
        del password
        check_certificate(opened, min_rsa_bits=min_rsa_bits)
        if not opened.verified:
            check_key_matches(opened, digest)
        yield opened
        return
    pin = read_secret(name, source.pin_env, source.pin_file)
    with _open_pkcs11(name, source, pin) as opened:
        del pin
        check_certificate(opened, min_rsa_bits=min_rsa_bits)
        check_key_matches(opened, digest)
        yield opened
