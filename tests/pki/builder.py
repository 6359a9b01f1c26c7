"""Build a small test PKI with ``cryptography``: root → intermediate → signers, a TSA, CRLs.

Why our own builder (and not static files): the OCSP/CRL URLs inside the certificates must point at
the HTTP server the fixtures start on a random 127.0.0.1 port, and the "expired" / "not yet valid"
signers must be relative to *now*. Building a fresh PKI per test session takes about a second.

Every identity is written to disk as PEM (cert, unencrypted PKCS#8 key) and as a PKCS#12 file with
its own password, because those are the forms a center gets from a CA.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# Signers every session gets. The names are Vietnamese on purpose: stamps must render them.
SIGNER_SPECS: dict[str, dict] = {
    "digitizer": {"cn": "Nguyễn Văn Hưởng", "o": "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị"},
    "organization": {"cn": "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị",
                     "o": "Ủy ban nhân dân tỉnh Quảng Trị"},
    "ecdsa": {"cn": "Lê Thị Hồng Nhung", "o": "Sở Tư pháp tỉnh Quảng Trị", "key": "ec"},
    "expired": {"cn": "Trần Đức Ánh (hết hạn)", "o": "Test", "expired": True},
    "notyet": {"cn": "Phạm Minh Đạt (chưa hiệu lực)", "o": "Test", "notyet": True},
    "revoked": {"cn": "Võ Thị Sáu (thu hồi)", "o": "Test", "revoked": True},
    "badusage": {"cn": "Hoàng Văn Thụ (sai mục đích)", "o": "Test", "badusage": True},
    "weak": {"cn": "Đỗ Văn Yếu (RSA 1024)", "o": "Test", "key": "rsa1024"},
}


@dataclass
class Identity:
    """A certificate with its private key, on disk in the forms key sources read."""

    name: str
    cert: x509.Certificate
    key: PrivateKey
    cert_pem: Path
    key_pem: Path
    p12: Path
    p12_password: str
    chain: list[x509.Certificate] = field(default_factory=list)  # issuers, nearest first, root excluded

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


@dataclass
class TestPki:
    """Everything a test needs: paths, identities, and the base URL the HTTP services answer on."""

    __test__ = False  # not a pytest test class despite the name

    directory: Path
    base_url: str
    root: Identity
    intermediate: Identity
    tsa: Identity
    signers: dict[str, Identity]
    revoked_serials: set[int]
    crls: dict[str, bytes]  # "root" / "intermediate" → DER CRL

    @property
    def root_pem(self) -> Path:
        return self.root.cert_pem

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp/intermediate"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    def signer(self, name: str) -> Identity:
        return self.signers[name]


def _new_key(kind: str) -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    size = 1024 if kind == "rsa1024" else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def _name(cn: str, o: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _write(directory: Path, name: str, cert: x509.Certificate, key: PrivateKey,
           chain: list[x509.Certificate]) -> Identity:
    cert_pem = directory / f"{name}.cert.pem"
    key_pem = directory / f"{name}.key.pem"
    p12 = directory / f"{name}.p12"
    password = f"mật-khẩu-{name}"  # non-ASCII on purpose: password handling must be UTF-8 clean
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, chain or None,
        serialization.BestAvailableEncryption(password.encode("utf-8"))))
    return Identity(name, cert, key, cert_pem, key_pem, p12, password, chain)


class _Issuer:
    def __init__(self, name: x509.Name, key: PrivateKey, base_url: str, crl_name: str) -> None:
        self.name, self.key, self.base_url, self.crl_name = name, key, base_url, crl_name

    def issue(self, subject: x509.Name, public_key, *, not_before: dt.datetime, not_after: dt.datetime,
              ca: bool = False, key_usage: x509.KeyUsage, eku: list | None = None,
              ocsp: bool = True) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
                   .add_extension(key_usage, critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False)
                   .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                       [x509.UniformResourceIdentifier(f"{self.base_url}/crl/{self.crl_name}.crl")],
                       None, None, None)]), critical=False))
        if ocsp:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{self.base_url}/ocsp/{self.crl_name}"))]), critical=False)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
        return builder.sign(self.key, hashes.SHA256())


def _usage(*, sign: bool = False, ca: bool = False, encipher: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=sign, key_encipherment=encipher,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def build_pki(directory: Path, base_url: str) -> TestPki:
    """Create the PKI under ``directory``; certificates point at ``base_url`` for OCSP/CRL."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    long_ago, far = now - dt.timedelta(days=365), now + dt.timedelta(days=3650)

    root_key = _new_key("rsa")
    root_name = _name("sohoa Test Root CA", "sohoa test PKI")
    root_cert = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
                 .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(long_ago).not_valid_after(far)
                 .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                 .add_extension(_usage(ca=True), critical=True)
                 .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
                 .sign(root_key, hashes.SHA256()))
    root = _write(directory, "root", root_cert, root_key, [])
    root_issuer = _Issuer(root_name, root_key, base_url, "root")

    inter_key = _new_key("rsa")
    inter_name = _name("sohoa Test Issuing CA", "sohoa test PKI")
    inter_cert = root_issuer.issue(inter_name, inter_key.public_key(), not_before=long_ago, not_after=far,
                                   ca=True, key_usage=_usage(ca=True), ocsp=False)
    intermediate = _write(directory, "intermediate", inter_cert, inter_key, [])
    issuer = _Issuer(inter_name, inter_key, base_url, "intermediate")
    chain = [inter_cert]

    tsa_key = _new_key("rsa")
    tsa_cert = issuer.issue(_name("sohoa Test TSA", "sohoa test PKI"), tsa_key.public_key(),
                            not_before=long_ago, not_after=far, key_usage=_usage(sign=True),
                            eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    tsa = _write(directory, "tsa", tsa_cert, tsa_key, chain)

    signers: dict[str, Identity] = {}
    revoked: set[int] = set()
    for name, spec in SIGNER_SPECS.items():
        key = _new_key(spec.get("key", "rsa"))
        nb, na = now - dt.timedelta(days=30), now + dt.timedelta(days=730)
        if spec.get("expired"):
            nb, na = now - dt.timedelta(days=400), now - dt.timedelta(days=35)
        if spec.get("notyet"):
            nb, na = now + dt.timedelta(days=30), now + dt.timedelta(days=400)
        usage = _usage(encipher=True) if spec.get("badusage") else _usage(sign=True)
        cert = issuer.issue(_name(spec["cn"], spec["o"]), key.public_key(), not_before=nb, not_after=na,
                            key_usage=usage)
        signers[name] = _write(directory, name, cert, key, chain)
        if spec.get("revoked"):
            revoked.add(cert.serial_number)

    crls = {
        "root": _crl(root_name, root_key, set(), now),
        "intermediate": _crl(inter_name, inter_key, revoked, now),
    }
    for label, der in crls.items():
        (directory / f"{label}.crl").write_bytes(der)
    return TestPki(directory, base_url, root, intermediate, tsa, signers, revoked, crls)


def _crl(issuer: x509.Name, key: PrivateKey, revoked: set[int], now: dt.datetime) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
               .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7))
               .add_extension(x509.CRLNumber(1), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                              critical=False))
    for serial in sorted(revoked):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(now - dt.timedelta(days=1)).build())
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
