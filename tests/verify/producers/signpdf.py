"""@signpdf on Node (``node/sign.js``): a string-level placeholder writer and node-forge's PKCS#7.

Why: the most used JavaScript signer; its placeholder is added by plain string edits (a classic xref
section appended to whatever the file was) and node-forge builds the CMS, so both the PDF structure and
the CMS come from code unrelated to any Python library. Held out: the lead must not tune on it.

``scripts/setup.sh --test`` runs ``npm ci`` in ``node/`` when node and npm exist; without them (or
without ``node/node_modules``) the cases that need it are skipped with that reason. The PKCS#12
passphrase goes to node through the environment (``SIGNPDF_P12_PASSWORD``), never argv; node-forge
reads only the legacy PBE-SHA1-3DES PKCS#12 encryption, hence ``KeyFiles.p12_legacy``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from tests.verify.producers.base import KeyFiles, run_tool

NODE_DIR = Path(__file__).with_name("node")


def missing() -> str | None:
    """Why @signpdf cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "@signpdf" / "signpdf").is_dir():
        return f"@signpdf is not installed (npm ci --prefix {NODE_DIR}; scripts/setup.sh --test does it)"
    return None


def sign(src: Path, dst: Path, keys: KeyFiles, *, when: dt.datetime | None = None,
         subfilter: str = "adbe.pkcs7.detached") -> Path:
    env = {"SIGNPDF_P12_PASSWORD": keys.password, "SIGNPDF_SUBFILTER": subfilter}
    if when is not None:
        env["SIGNPDF_SIGNING_TIME"] = when.astimezone(dt.UTC).isoformat()
    run_tool([str(shutil.which("node")), str(NODE_DIR / "sign.js"), str(src), str(dst), str(keys.p12_legacy)],
             env=env, cwd=NODE_DIR)
    return dst
