"""The PAdES levels and the revocation rules: one table for signing and for verifying.

Why one module: ``sign`` decides what a level needs before it writes anything (a timestamp, embedded
OCSP/CRL data, an archive timestamp) and which revocation data it must find for the signer's chain;
``verify`` names the level a signature reached from the same facts and demands revocation data by the
same configured ``[signing.revocation] source``. Kept in two places, they could drift apart unnoticed.

What each level needs (ETSI EN 319 142-1):

=======  =========  ===============================  ===============================
level    timestamp  revocation data embedded (DSS)   document timestamp after it
=======  =========  ===============================  ===============================
B-B      no         no                               no
B-T      yes        no                               no
B-LT     yes        yes                              no
B-LTA    yes        yes                              yes
=======  =========  ===============================  ===============================

Which revocation data counts, per ``source`` (pyHanko's rules; freshness is pyHanko's default: the
data must be valid at the validation time, retroactive only at a proven past time):

========  =====================  =====================
source    signer's certificate   CA certificates
========  =====================  =====================
either    OCSP or CRL            OCSP or CRL
ocsp      OCSP                   OCSP or CRL
crl       CRL                    OCSP or CRL
both      OCSP and CRL           OCSP and CRL
========  =====================  =====================

The choice is about the signer's certificate: CA certificates rarely have an OCSP responder, so they
take either kind unless both are demanded — when signing and when verifying alike, so a B-LT file
signed under a source verifies offline under the same source.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

from sohoa.config.signing import Level

LEVELS: tuple[Level, ...] = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class LevelNeeds:
    timestamp: bool  # a signature timestamp from the TSA
    revocation: bool  # the chain's OCSP/CRL data in the DSS
    archive_timestamp: bool  # a document timestamp over the DSS


NEEDS: dict[Level, LevelNeeds] = {
    "B-B": LevelNeeds(timestamp=False, revocation=False, archive_timestamp=False),
    "B-T": LevelNeeds(timestamp=True, revocation=False, archive_timestamp=False),
    "B-LT": LevelNeeds(timestamp=True, revocation=True, archive_timestamp=False),
    "B-LTA": LevelNeeds(timestamp=True, revocation=True, archive_timestamp=True),
}

_EITHER, _OCSP = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED, RevocationCheckingRule.OCSP_REQUIRED
_CRL, _BOTH = RevocationCheckingRule.CRL_REQUIRED, RevocationCheckingRule.CRL_AND_OCSP_REQUIRED


@dataclass(frozen=True)
class SourceRules:
    signer: RevocationCheckingRule
    ca: RevocationCheckingRule


SOURCES: dict[str, SourceRules] = {
    "either": SourceRules(signer=_EITHER, ca=_EITHER),
    "ocsp": SourceRules(signer=_OCSP, ca=_EITHER),
    "crl": SourceRules(signer=_CRL, ca=_EITHER),
    "both": SourceRules(signer=_BOTH, ca=_BOTH),
}


def level_reached(*, timestamped: bool, revocation_data: bool, archived: bool) -> Level:
    """The level a signature shows, from the facts found in the file (the table above, read backwards)."""
    if not timestamped:
        return "B-B"
    if not revocation_data:
        return "B-T"
    return "B-LTA" if archived else "B-LT"


def revocation_policy(source: str, *, retroactive: bool = False) -> CertRevTrustPolicy:
    """What a signer's chain must have: before B-LT/B-LTA data is embedded, and when it is verified.

    ``retroactive`` (verification at a proven past time): data issued later still speaks for that time.
    """
    rules = SOURCES[source]
    return CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rules.signer,
                                                       intermediate_ca_cert_rule=rules.ca),
                              retroactive_revinfo=retroactive)
