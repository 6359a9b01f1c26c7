"""The workspace every producer signs in: key files in a private folder, NSS databases, tool runs.

Why one place: each foreign signer wants the test identity in its own form (PEM for OpenSSL and
endesive, PKCS#12 for pdfsignerpy and @signpdf, an NSS database for ``pdfsig``); exporting them here
keeps every key file in one 0700 folder made with ``tempfile`` and keeps passwords off argv: they go
through files (``pk12util -w``) or environment variables (``SIGNPDF_P12_PASSWORD``). The throwaway
PKCS#12 password below protects a throwaway test key; it is not a secret of anything.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.pki import Identity, TestPki

# A throwaway password for throwaway test keys (several tools insist on a password-protected PKCS#12).
THROWAWAY_PASSWORD = "test-only-throwaway"


class ToolFailed(RuntimeError):
    """A producer's tool failed; the message carries its name and stderr (never a password: none is on argv)."""


def run_tool(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
             stdin: bytes | None = None, timeout: float = 60) -> bytes:
    proc = subprocess.run(args, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, cwd=cwd,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()[-800:]
        raise ToolFailed(f"{Path(args[0]).name} failed ({proc.returncode}): {detail}")
    return proc.stdout


@dataclass
class KeyFiles:
    """One identity exported for foreign tools: PEM key/cert/chain and a PKCS#12 with the throwaway password."""

    key_pem: Path
    cert_pem: Path
    chain_pem: Path  # issuing CA (nearest first), root excluded
    p12: Path
    p12_legacy: Path  # PBE-SHA1-3DES, for node-forge which reads no PBES2/AES PKCS#12
    password: str = THROWAWAY_PASSWORD


@dataclass
class Workspace:
    """A private folder (mode 0700) for key files and NSS databases, removed by ``close``."""

    pki: TestPki
    _tmp: tempfile.TemporaryDirectory[str] = field(default_factory=lambda: tempfile.TemporaryDirectory(
        prefix="sohoa-producers-"))
    _keys: dict[str, KeyFiles] = field(default_factory=dict)
    _nss: dict[str, Path] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        path = Path(self._tmp.name)
        path.chmod(0o700)  # mkdtemp already makes it 0700; said again so no umask can widen it
        return path

    def close(self) -> None:
        self._tmp.cleanup()

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def keys(self, name: str) -> KeyFiles:
        """The PKI identity ``name`` in the forms the foreign signers read (cached)."""
        if name not in self._keys:
            self._keys[name] = _export(self.pki.signer(name), self.folder(f"keys-{name}"))
        return self._keys[name]

    def nss_db(self, name: str) -> tuple[Path, str]:
        """An NSS database (empty db password) holding identity ``name``'s key and chain; returns (db, nickname)."""
        if name not in self._nss:
            db = self.folder(f"nss-{name}")
            files = self.keys(name)
            empty = db / "empty.pw"
            empty.write_text("")
            secret = db / "p12.pw"
            secret.write_text(files.password)
            for path in (empty, secret):
                path.chmod(0o600)
            run_tool(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"])
            run_tool(["certutil", "-A", "-d", f"sql:{db}", "-n", "sohoa-test-root", "-t", "CT,C,C",
                      "-i", str(self.pki.root.cert_pem)])
            run_tool(["pk12util", "-i", str(files.p12_legacy), "-d", f"sql:{db}", "-w", str(secret), "-k", str(empty)])
            self._nss[name] = db
        return self._nss[name], name


def _export(ident: Identity, folder: Path) -> KeyFiles:
    def private(path: Path, data: bytes) -> Path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path

    pem = serialization.Encoding.PEM
    key_pem = private(folder / "key.pem", ident.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                                  serialization.NoEncryption()))
    cert_pem = private(folder / "cert.pem", ident.cert.public_bytes(pem))
    chain_pem = private(folder / "chain.pem", b"".join(c.public_bytes(pem) for c in ident.chain))
    password = THROWAWAY_PASSWORD.encode()
    p12 = private(folder / "key.p12", pkcs12.serialize_key_and_certificates(
        ident.name.encode(), ident.key, ident.cert, ident.chain or None,
        serialization.BestAvailableEncryption(password)))
    legacy = (serialization.PrivateFormat.PKCS12.encryption_builder()
              .kdf_rounds(2048)
              .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
              .hmac_hash(hashes.SHA1())
              .build(password))
    p12_legacy = private(folder / "key-legacy.p12", pkcs12.serialize_key_and_certificates(
        ident.name.encode(), ident.key, ident.cert, ident.chain or None, legacy))
    return KeyFiles(key_pem, cert_pem, chain_pem, p12, p12_legacy)
