"""endesive (PyPI): its own PDF writer (pypdf underneath) and its own CMS builder, independent of pyHanko.

Why: endesive is the other Python signer in wide use; it writes the signature dictionary, the AcroForm
and the widget its own way (``/SigFlags``, widget flags 132, its own ``/Prop_Build``), builds the CMS by
hand with asn1crypto, and can sign without signed attributes. Its signing date is taken from the
``signingdate`` field, so the output is deterministic but for the RSA-PKCS#1 v1.5 signature (which is
deterministic too) and a random ``/ID``.

Import note: ``endesive.pdf``'s package ``__init__`` imports its verifier, which needs the old
``certvalidator``/``oscrypto`` pair; oscrypto 1.3 cannot parse OpenSSL 3.0.1x's version string
("Error detecting the version of libcrypto") on this Debian. The signer does not need the verifier, so
``_cms_module`` loads ``endesive/pdf/cms.py`` by file when the package import fails that way.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.pki import Identity


def _cms_module() -> Any:
    try:
        from endesive.pdf import cms  # noqa: PLC0415

        return cms
    except Exception as exc:  # noqa: BLE001 - oscrypto's LibraryNotFoundError, see the module docstring
        if "libcrypto" not in str(exc):
            raise
    import endesive  # noqa: PLC0415

    folder = Path(endesive.__file__).parent / "pdf"
    package = types.ModuleType("endesive.pdf")
    package.__path__ = [str(folder)]  # a namespace without the verifier-importing __init__
    sys.modules["endesive.pdf"] = package
    spec = importlib.util.spec_from_file_location("endesive.pdf.cms", folder / "cms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["endesive.pdf.cms"] = module
    spec.loader.exec_module(module)
    return module


def sign(data: bytes, ident: Identity, *, md: str = "sha256", attrs: bool = True, certify: bool = False,
         when: dt.datetime | None = None, field: str = "EndesiveSig") -> bytes:
    """``data`` plus endesive's incremental signature (approval, or certification with P=2 when ``certify``)."""
    cms = _cms_module()
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    udct: dict[str, Any] = {
        "sigflags": 3, "sigfield": field, "auto_sigfield": True, "sigandcertify": certify, "sigflagsft": 132,
        "contact": "test@example.invalid", "location": "Quang Tri", "reason": "endesive test",
        "signingdate": moment.strftime("D:%Y%m%d%H%M%S+00'00'").encode(), "attrs": attrs,
        "application": "endesive", "id": b"sohoa-producer-endesive", "aligned": 8192,
    }
    key = serialization.load_der_private_key(
        ident.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()), password=None)
    cert = x509.load_der_x509_certificate(ident.cert_der)
    appended = cms.sign(data, udct, key, cert, list(ident.chain), md)
    return data + appended
