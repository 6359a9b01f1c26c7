"""pdfsignerpy (PyPI, imported as ``pdfsigner``): a pure-Rust PAdES engine behind a thin Python wrapper.

Why: it shares no code with pyHanko, OpenSSL or NSS — its own PDF parser and writer, its own CMS — so it
is the least likely to make files our pyHanko-based verifier happens to agree with. It is in the
held-out split: the lead must not tune on it. The PKCS#12 password goes through the Python API (no
argv); the file carries the throwaway password of ``base.THROWAWAY_PASSWORD``.
"""

from __future__ import annotations

from pathlib import Path

from tests.verify.producers.base import KeyFiles


def sign(src: Path, dst: Path, keys: KeyFiles, *, level: str = "bb", tsa_url: str | None = None,
         visible: bool = False) -> Path:
    """Sign ``src`` into ``dst`` at PAdES ``level`` ("bb", "bt", "blt", "blta"; above bb needs ``tsa_url``)."""
    import pdfsigner  # noqa: PLC0415 - optional test dependency, imported where used

    options: dict[str, object] = {"reason": "pdfsignerpy test", "location": "Quang Tri", "level": level}
    if tsa_url:
        options["tsa_url"] = tsa_url
    if visible:
        options.update(signtext="Ky boi pdfsignerpy", page=1, x=36.0, y=36.0)
    pdfsigner.sign_pdf(str(src), str(dst), str(keys.p12), keys.password, **options)
    return dst
