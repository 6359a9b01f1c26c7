"""The test PKI, described in ``pki.yml`` and built by certomancer; on disk in the forms a center gets.

Why certomancer: it is made for exactly this — a declarative architecture (CAs, signers, validity,
revocation, extensions) and real OCSP/CRL/TSA services (its ``Animator`` WSGI app, served by
``tests.pki.servers``) — so this module only does what certomancer cannot express:

- **keys**: certomancer reads pre-generated key files; we generate them per session (``key-types`` in
  the YAML names the algorithm) so no private key is committed and every session has its own;
- **relative times**: certomancer wants absolute ISO 8601 times, but "expired 35 days ago" must stay
  true next year; ``now±N<d|h>`` strings in the YAML are replaced with times relative to the build;
- **the served address**: the URLs certomancer embeds (CRL distribution points, OCSP) take the HTTP
  server's real port, known only after it bound port 0 — passed as ``external_url_prefix``;
- **files**: each certificate is written as PEM, its key as unencrypted PKCS#8 PEM (what SoftHSM2
  imports), and a PKCS#12 file with its own non-ASCII password; the chain in the PKCS#12 stops below
  the root, as CA-issued files do;
- **speed**: certomancer's crypto backend parses (and, for RSA, fully validates) the private key again
  for every signature it makes — about 45 ms per certificate, CRL, OCSP response or timestamp token
  here, which made the session's PKI cost seconds. ``_ParsedKeysBackend`` (certomancer's own
  ``CryptoBackend`` extension point) parses each key once; its ``package_pkcs12`` does the same
  re-parsing, so the PKCS#12 files are written with ``cryptography`` directly, as it would.

Tokens and the NSS database are not PKI architecture and stay hand-written (``tests.pki.tokens``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from asn1crypto import algos, keys
from certomancer import crypto_utils
from certomancer.registry import CertLabel, CertomancerConfig, PKIArchitecture, ServiceLabel
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

CONFIG = Path(__file__).with_name("pki.yml")
CA_LABELS = ("root", "intermediate", "tsa")
FAKE_TIME_HEADER = "X-Certomancer-Fake-Time"  # the Animator answers "as of" this time (TSA at a past moment)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_RELATIVE = re.compile(r"now([+-]\d+)([dh])")


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
    """One certomancer architecture: paths, identities, and the URLs its services answer on."""

    __test__ = False  # not a pytest test class despite the name

    directory: Path
    arch: PKIArchitecture
    base_url: str
    root: Identity
    intermediate: Identity
    tsa: Identity | None
    signers: dict[str, Identity]

    @property
    def root_pem(self) -> Path:
        return self.root.cert_pem

    @property
    def ocsp_url(self) -> str:
        return self.arch.service_registry.get_ocsp_info(ServiceLabel("intermediate")).url

    @property
    def tsa_url(self) -> str:
        return self.arch.service_registry.get_tsa_info(ServiceLabel("tsa")).url

    def crl_url(self, issuer: str) -> str:
        return self.arch.service_registry.get_crl_repo_info(ServiceLabel(issuer)).latest_external_url

    def crl(self, issuer: str, at: dt.datetime | None = None) -> bytes:
        """The DER CRL the distribution point of ``issuer`` ("root"/"intermediate") serves now (or at ``at``)."""
        return self.arch.service_registry.get_crl(ServiceLabel(issuer), at_time=at).dump()

    @property
    def crls(self) -> dict[str, bytes]:
        return {name: self.crl(name) for name in ("root", "intermediate")}

    @property
    def revoked_serials(self) -> set[int]:
        return {ident.cert.serial_number for name, ident in self.signers.items()
                if self.arch.get_cert_spec(CertLabel(name)).revocation is not None}

    def signer(self, name: str) -> Identity:
        return self.signers[name]


class _ParsedKeysBackend(crypto_utils.PycaCryptographyBackend):
    """certomancer's pyca backend with each private key parsed once (see "speed" in the module docstring)."""

    def __init__(self) -> None:
        self._parsed: dict[bytes, PrivateKey] = {}

    def parsed(self, der: bytes) -> PrivateKey:
        if der not in self._parsed:  # keys generated by this module: no need to re-validate them
            key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
            assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey), type(key)
            self._parsed[der] = key
        return self._parsed[der]

    def load_private_key(self, key_bytes: bytes,
                         password: bytes | None) -> tuple[keys.PrivateKeyInfo, keys.PublicKeyInfo]:
        key = serialization.load_pem_private_key(key_bytes, password, unsafe_skip_rsa_key_validation=True)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        return keys.PrivateKeyInfo.load(der), keys.PublicKeyInfo.load(public)

    def generic_sign(self, private_key: keys.PrivateKeyInfo, tbs_bytes: bytes,
                     sd_algo: algos.SignedDigestAlgorithm) -> bytes:
        key, kind = self.parsed(private_key.dump()), sd_algo.signature_algo
        digest = getattr(hashes, sd_algo.hash_algo.upper())()
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(tbs_bytes, padding.PKCS1v15(), digest)
        if kind == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(tbs_bytes, ec.ECDSA(digest))
        return super().generic_sign(private_key, tbs_bytes, sd_algo)  # PSS, EdDSA…: certomancer's own path


_BACKEND = _ParsedKeysBackend()
crypto_utils.CRYPTO_BACKEND = _BACKEND


def _new_key(kind: str) -> PrivateKey:
    if kind == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    sizes = {"rsa-2048": 2048, "rsa-1024": 1024}
    if kind not in sizes:
        raise ValueError(f"pki.yml: unknown key type {kind!r} (known: ec-p256, {', '.join(sizes)})")
    return rsa.generate_private_key(public_exponent=65537, key_size=sizes[kind])


def _relative_times(node: Any, now: dt.datetime) -> Any:
    """Every ``now±N<d|h>`` string becomes an ISO 8601 time (certomancer parses them with dateutil)."""
    if isinstance(node, dict):
        return {k: _relative_times(v, now) for k, v in node.items()}
    if isinstance(node, list):
        return [_relative_times(v, now) for v in node]
    if isinstance(node, str) and (match := _RELATIVE.fullmatch(node)):
        amount, unit = int(match.group(1)), match.group(2)
        return (now + dt.timedelta(**{"days" if unit == "d" else "hours": amount})).isoformat()
    return node


def _generate_keys(raw: dict[str, Any], directory: Path) -> None:
    """Write every key the key sets list, as unencrypted PKCS#8 PEM where the key set says."""
    kinds: dict[str, str] = raw.pop("key-types", {})
    for keyset in raw["keysets"].values():
        folder = directory / keyset.get("path-prefix", "")
        folder.mkdir(parents=True, exist_ok=True)
        for label, spec in keyset["keys"].items():
            key = _new_key(kinds.get(label, "rsa-2048"))
            (folder / spec["path"]).write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def load_config(directory: Path, base_url: str, *, now: dt.datetime | None = None,
                config: Path = CONFIG) -> CertomancerConfig:
    """certomancer's view of ``pki.yml`` with fresh keys under ``directory`` and URLs under ``base_url``."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    _generate_keys(raw, directory)
    raw = _relative_times(raw, now)
    return CertomancerConfig(raw, key_search_dir=str(directory), external_url_prefix=base_url)


def _cert(arch: PKIArchitecture, label: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(arch.get_cert(CertLabel(label)).dump())


def _export(arch: PKIArchitecture, label: str, folder: Path) -> Identity:
    cert = _cert(arch, label)
    key = _BACKEND.parsed(arch.key_set.get_private_key(arch.get_cert_spec(CertLabel(label)).subject_key).dump())
    chain = [_cert(arch, c.value) for c in arch.get_chain(CertLabel(label)) if c.value != "root"]  # nearest first
    cert_pem, key_pem, p12 = (folder / f"{label}{suffix}" for suffix in (".cert.pem", ".key.pem", ".p12"))
    password = f"mật-khẩu-{label}"  # non-ASCII on purpose: password handling must be UTF-8 clean
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        label.encode(), key, cert, chain or None, serialization.BestAvailableEncryption(password.encode("utf-8"))))
    return Identity(label, cert, key, cert_pem, key_pem, p12, password, chain)


def export_arch(arch: PKIArchitecture, directory: Path, base_url: str) -> TestPki:
    """Write every certificate of ``arch`` to ``directory`` (see the module docstring for the forms)."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = [spec.label.value for _issuer, specs in arch.enumerate_certs_by_issuer() for spec in specs]
    made = {label: _export(arch, label, directory) for label in labels}
    signers = {label: ident for label, ident in made.items() if label not in CA_LABELS}
    return TestPki(directory, arch, base_url, made["root"], made["intermediate"], made.get("tsa"), signers)


def build_pkis(directory: Path, base_url: str) -> tuple[CertomancerConfig, dict[str, TestPki]]:
    """Every architecture of ``pki.yml``, exported under ``directory/<arch>``; services expected at ``base_url``."""
    config = load_config(directory, base_url)
    pkis = {label.value: export_arch(arch, directory / label.value, base_url)
            for label, arch in config.pki_archs.items()}
    return config, pkis
