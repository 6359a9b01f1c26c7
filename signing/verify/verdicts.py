"""ETSI/DSS indications, sub-indications and the clerk's sentences (English msgids of the message catalog).

Why our own vocabulary module: pyHanko reports separate facts (intact, valid, trusted, coverage,
modification level, an AdES sub-indication for trust problems); a clerk needs *one* verdict and *one*
sentence per signature. The names follow ETSI EN 319 102-1 clause 5.1.3 (as DSS prints them) so the
JSON means the same thing to an auditor who knows DSS. Two sohoa extensions are documented in
docs/verify-json-schema.md: ``NO_SIGNATURE`` (a PDF that carries no signature) and the reason codes.

Every sentence is a template over named fields only (dates, names, counts) — never a secret. A ``Reason``
carries both renderings (``vi``, ``en``) because the JSON carries both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sohoa.common.messages import N_, Joined, Lang, Message, Renderable, _, bilingual, join

Indication = Literal["TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED"]
PASSED: Indication = "TOTAL-PASSED"
INDETERMINATE: Indication = "INDETERMINATE"
FAILED: Indication = "TOTAL-FAILED"

RANK: dict[str, int] = {PASSED: 0, INDETERMINATE: 1, FAILED: 2}

# Sub-indications that make a signature TOTAL-FAILED (ETSI EN 319 102-1 table 5); the others are INDETERMINATE.
FAILED_SUBS = frozenset({"FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "NOT_YET_VALID",
                         "SIG_CONSTRAINTS_FAILURE"})
NO_SIGNATURE = "NO_SIGNATURE"  # sohoa extension: the PDF carries no signature at all


def worst(indications: list[Indication]) -> Indication:
    """The document verdict: the worst of its signatures' verdicts (an empty list is INDETERMINATE)."""
    if not indications:
        return INDETERMINATE
    return max(indications, key=lambda i: RANK[i])


def indication_for(sub: str | None) -> Indication:
    if sub is None:
        return PASSED
    return FAILED if sub in FAILED_SUBS else INDETERMINATE


# code → the English sentence (a catalog msgid; the Vietnamese is its translation in the vi .po). Codes
# are stable (documented in the JSON schema). Translatable fields: ``changes`` (``change_list``),
# ``permission`` (``permission_words``), ``online`` (``online_note``), ``detail`` (a ``Message`` or a
# ``common.reasons.Foreign`` library text); the others are dates, names and counts.
SENTENCES: dict[str, str] = {
    # --- the verdict sentences (one per sub-indication, plus the passing one) ---
    "ok": N_("Valid signature from a trusted certificate; the content has not changed since signing."),
    "ok_timestamp": N_("Valid document timestamp from a trusted timestamp authority."),
    "NO_SIGNATURE": N_("The PDF carries no digital signature; its authenticity cannot be confirmed."),
    "HASH_FAILURE": N_("The signed content was altered (digest mismatch): the document is not intact."),
    "SIG_CRYPTO_FAILURE": N_("The signature value does not verify with the signer's certificate."),
    "FORMAT_FAILURE": N_("The signature or the PDF is malformed: {detail}"),
    "MODIFIED": N_("The document was changed after signing in a way that is not allowed: {changes}."),
    "NO_CERTIFICATE_CHAIN_FOUND": N_(
        "No certificate chain to a trusted root could be built (root not installed or intermediate "
        "missing) — issued by: {issuer}."),
    "REVOKED": N_("The signer's certificate was revoked on {revoked_at}, before the proven signing time "
                  "({proven_time})."),
    "REVOKED_NO_POE": N_("The certificate was revoked on {revoked_at}; no timestamp proves the signature "
                         "existed before that."),
    "REVOKED_CA_NO_POE": N_("A CA certificate in the chain was revoked on {revoked_at}."),
    "OUT_OF_BOUNDS_NO_POE": N_("The certificate expired on {not_after}; no timestamp proves the signature "
                               "was made while it was valid."),
    "OUT_OF_BOUNDS_NOT_REVOKED": N_("The certificate expired on {not_after}; no revocation data proves its "
                                    "status at signing time."),
    "NOT_YET_VALID": N_("The certificate was not yet valid at signing time (valid from {not_before})."),
    "TRY_LATER": N_("The certificate's revocation status could not be checked (no embedded data{online}); "
                    "try again when online."),
    "CHAIN_CONSTRAINTS_FAILURE": N_("The certificate may not be used for signing (key usage or chain "
                                    "constraints)."),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": N_("The certificate chain is not valid: {detail}"),
    "CRYPTO_CONSTRAINTS_FAILURE": N_("The algorithm or key size is no longer considered secure."),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": N_("The algorithm is no longer secure and nothing proves the "
                                            "signature predates that."),
    "NO_SIGNING_CERTIFICATE_FOUND": N_("The signer's certificate is not in the signature."),
    "NO_POE": N_("No proof of existence for the signature."),
    "GENERIC": N_("The signature's validity could not be determined: {detail}"),
    "RENDERED_DIFFERENCE": N_("The document was changed after signing: page {pages} no longer looks as it did "
                              "when signed ({changes})."),
    "UNEXPLAINED_CHANGES": N_("The document was updated after signing ({changes}) and objects {objects} were "
                              "replaced in a way no rule explains; the pages look as they did when signed, "
                              "but the change cannot be confirmed as allowed."),
    "legacy_rsa_sha1": N_("The signature uses the legacy {subfilter} format (a bare RSA signature over SHA-1, "
                          "deprecated since PDF 2.0); it cannot be verified reliably. Ask the sender for a PAdES "
                          "signature."),
    "unknown_subfilter": N_("The signature uses the unknown format {subfilter}; it cannot be verified."),
    "legacy_pkcs7_sha1": N_("The signature uses the legacy adbe.pkcs7.sha1 format: the document is protected only "
                            "by a SHA-1 digest, which is no longer secure; the signature value and the certificate "
                            "were checked."),
    "repeated_key": N_("The file defines {key} twice in one dictionary (byte {offset}): PDF readers disagree on "
                       "which one counts and so show different signatures; it cannot be judged as one document."),
    "orphan_field": N_("The signature field {field} is not listed in the document's form: some readers do not "
                       "show this signature."),
    # --- further reasons (details, warnings) ---
    "expired_after_proven_time": N_(
        "The certificate expired on {not_after}, but a timestamp proves the signature was made at "
        "{proven_time}, while it was valid."),
    "revoked_after_proven_time": N_(
        "The certificate was revoked on {revoked_at}, after the proven signing time ({proven_time})."),
    "validated_at_proven_time": N_("The chain was validated at the proven time {proven_time}."),
    "timestamp_untrusted": N_("The attached timestamp is invalid or untrusted; it is not used as proof of time."),
    "claimed_time_only": N_("The signing time {claimed_time} is only claimed by the signer (no timestamp)."),
    "later_revisions_allowed": N_("{count} allowed update(s) after signing: {changes}."),
    "annotations_allowed": N_("Annotations were added after signing; the document's permissions allow this."),
    "rendered_same": N_("The pages touched after signing were drawn as signed and as they are now: they look the "
                        "same outside the fields and annotations that were allowed to be added."),
    "revocation_online": N_("Revocation status was fetched online (OCSP/CRL)."),
    "revocation_embedded": N_("Revocation status came from data embedded in the file."),
    "certified": N_("Certifying signature (DocMDP): {permission}."),
}

CHANGE_WORDS: dict[str, str] = {
    "signature": N_("signature added"),
    "document-timestamp": N_("document timestamp added"),
    "dss": N_("validation data (DSS) added"),
    "form-filling": N_("form filled"),
    "annotations": N_("annotations added or changed"),
    "content": N_("page content changed"),
    "pages-added": N_("pages added"),
    "pages-removed": N_("pages removed"),
    "objects-replaced": N_("objects replaced"),
    "resources": N_("page resources (fonts, images) replaced"),
    "field-locked": N_("a locked form field changed"),
    "certification": N_("changes the certification does not allow"),
    "metadata": N_("metadata updated"),
    "rewritten": N_("objects rewritten unchanged"),
    "signature-objects": N_("the new signature's appearance and form entries"),
}

PERMISSIONS: dict[int, str] = {
    1: N_("no changes allowed"),
    2: N_("form filling and signing allowed"),
    3: N_("form filling, signing and annotations allowed"),
}

ONLINE_UNANSWERED = N_(" and the online services did not answer")


def change_list(codes: list[str]) -> Joined:
    """The revision change codes as one translatable field (unknown codes shown as they are)."""
    return join(_(CHANGE_WORDS[code]) if code in CHANGE_WORDS else code for code in codes)


def change_words(codes: list[str], lang: Lang) -> str:
    return change_list(codes).render(lang)


def permission_words(permission: int | None) -> Message | str:
    """The DocMDP permission level as a translatable field ('?' for a level PDF does not define)."""
    return _(PERMISSIONS[permission]) if permission in PERMISSIONS else "?"


def online_note(offline: bool) -> Message | str:
    """The TRY_LATER sentence's note that the online OCSP/CRL services were asked too (not when offline)."""
    return "" if offline else _(ONLINE_UNANSWERED)


@dataclass(frozen=True)
class Reason:
    """One explained fact: a stable ``code`` and the sentence in both languages."""

    code: str
    vi: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.vi if lang == "vi" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "vi": self.vi, "en": self.en}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def reason(code: str, **fields: Any) -> Reason:
    """The sentence for ``code`` in both languages with ``fields`` filled in (missing fields print as '?')."""
    values = _Blank({k: "" if v is None else v if isinstance(v, Renderable) else str(v) for k, v in fields.items()})
    values.setdefault("detail", code)
    vi, en = bilingual(Message(SENTENCES.get(code, SENTENCES["GENERIC"]), values))
    return Reason(code, vi, en)
