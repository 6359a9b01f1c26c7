"""A generated, TEST-ONLY signing PKI for the demo and first runs — never for real documents.

Why: the README's "run" command must show the whole chain (scan → PDF/A → signed → filed) on a fresh
machine without a real token or certificate. This makes a self-signed demo root and two signer keys
(a digitizer, an organisation) as PKCS#12 files whose random passwords sit in files of mode 0600 —
the same way a center stores real secrets. Every subject says "DEMO" so nobody mistakes it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# X.509 limits these names to 64 characters.
DEMO_ORGANIZATION = "Trung tâm Phục vụ hành chính công (DEMO)"
DEMO_SIGNERS = {
    "digitizer": "Nguyễn Thị Số Hóa (DEMO, không dùng thật)",
    "organization": "Trung tâm PVHCC (DEMO, không dùng thật)",
}
DEMO_TSA = ("demo-tsa", "Máy đóng dấu thời gian (DEMO, không dùng thật)")


@dataclass(frozen=True)
class DemoKey:
    name: str
    pkcs12: Path
    password_file: Path


@dataclass(frozen=True)
class DemoPki:
    """The demo root, its CRL (nothing revoked, valid as long as the root), the signer keys and a local
    timestamp authority key, so that demo documents reach PAdES B-LT offline and verify TOTAL-PASSED."""

    root_cert: Path
    root_crl: Path
    keys: dict[str, DemoKey]
    tsa: DemoKey


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANIZATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def make_demo_pki(folder: Path, *, years: int = 3) -> DemoPki:
    """Create (or reuse, if complete) the demo root and signer keys under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    root_path, crl_path = folder / "demo-root.pem", folder / "demo-root.crl"
    keys = {name: DemoKey(name, folder / f"{name}.p12", folder / f"{name}.pass") for name in DEMO_SIGNERS}
    tsa = DemoKey(DEMO_TSA[0], folder / f"{DEMO_TSA[0]}.p12", folder / f"{DEMO_TSA[0]}.pass")
    pki = DemoPki(root_path, crl_path, keys, tsa)
    if root_path.exists() and crl_path.exists() and all(
            k.pkcs12.exists() and k.password_file.exists() for k in [*keys.values(), tsa]):
        return pki
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365 * years)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = _name("sohoa DEMO Root CA (không dùng thật)")
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    for name, common in [*DEMO_SIGNERS.items(), DEMO_TSA]:
        usage = [ExtendedKeyUsageOID.TIME_STAMPING] if name == DEMO_TSA[0] else [ExtendedKeyUsageOID.EMAIL_PROTECTION]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(root_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(until)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=name != DEMO_TSA[0],
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=False, crl_sign=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage(usage), critical=name == DEMO_TSA[0])
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                               critical=False)
                .sign(root_key, hashes.SHA256()))
        password = secrets.token_urlsafe(24)
        blob = pkcs12.serialize_key_and_certificates(
            name.encode(), key, cert, [root],
            serialization.BestAvailableEncryption(password.encode()))
        target = tsa if name == DEMO_TSA[0] else keys[name]
        _write_private(target.password_file, (password + "\n").encode())
        _write_private(target.pkcs12, blob)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root_name).last_update(now).next_update(until)
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
           .sign(root_key, hashes.SHA256()))
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return pki
