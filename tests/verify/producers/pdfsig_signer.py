"""poppler's ``pdfsig -add-signature``: NSS builds the CMS, poppler's writer adds field and widget.

Why: it is what a Linux desktop user has at hand, and NSS writes its CMS differently from every
Python signer (attribute order, certificate bag). Both kinds it knows are made: the default
``adbe.pkcs7.detached`` and ``-etsi``. Poppler 22.12 refuses ``-etsi`` with ``-add-signature`` ("not
supported yet"), so that one signs a pre-made empty field (``sign_field``); it then writes a CAdES CMS
(signing-certificate-v2, no signing-time attribute) but still labels it ``/SubFilter
/adbe.pkcs7.detached`` — a mislabelled file as this poppler makes it, kept as such.
The key sits in an NSS database with an empty database password (``base.Workspace.nss_db``), so
neither ``-nss-pwd`` nor ``-kpw`` — which take passwords only on argv — is ever used.
"""

from __future__ import annotations

from pathlib import Path

from tests.verify.producers.base import Workspace, run_tool


def sign(src: Path, dst: Path, ws: Workspace, identity: str = "digitizer", *, etsi: bool = False,
         digest: str = "SHA256", field: str = "PdfsigSig") -> Path:
    db, nick = ws.nss_db(identity)
    args = ["pdfsig", "-nssdir", f"sql:{db}", "-add-signature", "-nick", nick, "-digest", digest,
            "-reason", "pdfsig test", "-new-signature-field-name", field]
    if etsi:
        args.append("-etsi")
    run_tool([*args, str(src), str(dst)])
    return dst


def sign_field(src: Path, dst: Path, ws: Workspace, field: str, identity: str = "digitizer", *,
               etsi: bool = False) -> Path:
    """Sign the existing empty signature field ``field`` (``-sign``); the only way ``-etsi`` works in 22.12."""
    db, nick = ws.nss_db(identity)
    args = ["pdfsig", "-nssdir", f"sql:{db}", "-sign", field, "-nick", nick, "-reason", "pdfsig test"]
    if etsi:
        args.append("-etsi")
    run_tool([*args, str(src), str(dst)])
    return dst
