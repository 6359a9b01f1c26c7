"""SoftHSM2 token and NSS database set-up for the test PKI (real tools, in a temporary folder).

Why hand-written and not certomancer: certomancer describes a PKI's architecture and serves its
services; where keys live afterwards is outside it. A PKCS#11 token (including the ``mismatch`` label
whose key belongs to another certificate — a mislabelled token, which no PKI would issue and
``cryptography`` refuses to write as PKCS#12) and the NSS database pdfsig trusts are made here with the
tools a center uses (``softhsm2-util``, ``pkcs11-tool``, ``certutil``) from the files the builder wrote.

SoftHSM2 reads its configuration from the file named by ``SOFTHSM2_CONF`` when the module is
initialised, so ``init_softhsm`` sets that variable in ``os.environ`` before anything loads the module;
the token directory lives under the test's temporary folder and disappears with it.
``make_nss_db`` builds the database ``pdfsig -nssdir`` reads, trusting only the test root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.pki.builder import Identity, TestPki

SOFTHSM_MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"]


@dataclass
class SoftToken:
    module: Path
    label: str
    pin: str
    so_pin: str
    conf: Path
    keys: dict[str, str]  # identity name → key/cert label on the token


def find_softhsm_module() -> Path | None:
    return next((Path(p) for p in SOFTHSM_MODULES if Path(p).exists()), None)


def tools_missing(*names: str) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def _run(args: list[str], secret_env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(secret_env or {})},
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")


def init_softhsm(directory: Path, identities: list[Identity], *, label: str = "sohoa-test",
                 pin: str = "246810", so_pin: str = "135791",
                 mismatch: tuple[Identity, Identity] | None = None) -> SoftToken:
    """Initialise a SoftHSM2 token under ``directory`` and import each identity's key and certificate.

    Keys and certificates share the identity's name as label and a per-identity CKA_ID, the way a
    CA-issued USB token lays them out. ``mismatch=(key_of, cert_of)`` adds label ``mismatch`` holding
    the key of one identity and the certificate of another.
    """
    module = find_softhsm_module()
    if module is None:
        raise RuntimeError("SoftHSM2 module not found (apt-get install softhsm2)")
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    _run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin])
    keys: dict[str, str] = {}
    pairs = [(ident.name, ident, ident) for ident in identities]
    if mismatch is not None:
        pairs.append(("mismatch", mismatch[0], mismatch[1]))
    for number, (obj_label, key_of, cert_of) in enumerate(pairs, start=1):
        key_id = f"{number:02x}"
        _run(["softhsm2-util", "--import", str(key_of.key_pem), "--token", label, "--label", obj_label,
              "--id", key_id, "--pin", pin])
        der = directory / f"{obj_label}.cert.der"
        der.write_bytes(cert_of.cert_der)
        _run(["pkcs11-tool", "--module", str(module), "--token-label", label, "--login", "--pin", pin,
              "--write-object", str(der), "--type", "cert", "--id", key_id, "--label", obj_label])
        keys[obj_label] = obj_label
    return SoftToken(module, label, pin, so_pin, conf, keys)


def make_nss_db(directory: Path, pki: TestPki) -> Path:
    """An NSS database for ``pdfsig -nssdir`` that trusts the test root (and knows the issuing CA)."""
    directory.mkdir(parents=True, exist_ok=True)
    _run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"])
    _run(["certutil", "-A", "-d", f"sql:{directory}", "-n", "sohoa-test-root", "-t", "CT,C,C",
          "-i", str(pki.root.cert_pem)])
    _run(["certutil", "-A", "-d", f"sql:{directory}", "-n", "sohoa-test-issuing", "-t", ",,",
          "-i", str(pki.intermediate.cert_pem)])
    return directory


@dataclass
class PdfsigResult:
    returncode: int
    output: str

    @property
    def signatures(self) -> list[str]:
        """Text block of each signature (pdfsig prints ``Signature #N:`` headers)."""
        blocks = self.output.split("Signature #")[1:]
        return [f"Signature #{b}" for b in blocks]

    def all_valid_and_trusted(self) -> bool:
        sigs = self.signatures
        return bool(sigs) and all("Signature is Valid" in s and "Certificate is Trusted" in s for s in sigs)


def run_pdfsig(pdf: Path, nss_db: Path) -> PdfsigResult:
    """pdfsig exits 0 even for untrusted signatures, so callers must read ``output``."""
    proc = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss_db}", str(pdf)], capture_output=True, text=True,
                          check=False)
    return PdfsigResult(proc.returncode, proc.stdout + proc.stderr)
