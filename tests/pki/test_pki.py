"""The test PKI itself: what pki.yml promises is what certomancer builds and serves on the bound port.

Why test test infrastructure: every signing and verification verdict rests on it. A wrong CRL time, an
OCSP URL naming another port, or a revoked signer reported good would make those tests pass or fail for
the wrong reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import urllib.request

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from tests.pki import FAKE_TIME_HEADER, TestPki
from tests.pki.servers import PkiServer


def _post(url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type, **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.read()


def _ocsp_status(pki: TestPki, name: str) -> tuple[str, asn1_ocsp.BasicOCSPResponse]:
    cert = asn1_x509.Certificate.load(pki.signer(name).cert_der)
    issuer = asn1_x509.Certificate.load(pki.intermediate.cert_der)
    cert_id = asn1_ocsp.CertId({"hash_algorithm": {"algorithm": "sha1"}, "issuer_name_hash": issuer.subject.sha1,
                                "issuer_key_hash": issuer.public_key.sha1, "serial_number": cert.serial_number})
    request = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
    response = asn1_ocsp.OCSPResponse.load(_post(pki.ocsp_url, request.dump(), "application/ocsp-request"))
    assert response["response_status"].native == "successful", response["response_status"].native
    basic = response.basic_ocsp_response
    return basic["tbs_response_data"]["responses"][0]["cert_status"].name, basic


def test_certificates_name_the_port_the_server_bound(pki: TestPki, pki_server: PkiServer) -> None:
    cert = pki.signer("digitizer").cert
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    crl_urls = [name.value for point in points for name in point.full_name or []]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ocsp_urls = [d.access_location.value for d in aia if d.access_method == x509.AuthorityInformationAccessOID.OCSP]
    assert crl_urls == [pki.crl_url("intermediate")] and ocsp_urls == [pki.ocsp_url], (crl_urls, ocsp_urls)
    assert all(url.startswith(pki_server.base_url + "/") for url in crl_urls + ocsp_urls)
    crl_only = pki.signer("revoked-crl").cert.extensions
    assert not [e for e in crl_only if isinstance(e.value, x509.AuthorityInformationAccess)], "CRL-only signer has OCSP"


def test_validity_is_relative_to_today(pki: TestPki) -> None:
    now = dt.datetime.now(dt.UTC)
    assert pki.signer("expired").cert.not_valid_after_utc < now - dt.timedelta(days=30)
    assert pki.signer("notyet").cert.not_valid_before_utc > now + dt.timedelta(days=25)
    assert pki.signer("digitizer").cert.not_valid_before_utc < now < pki.signer("digitizer").cert.not_valid_after_utc


def test_ocsp_over_http_says_good_and_revoked_in_whole_seconds(pki: TestPki, pki_server: PkiServer) -> None:
    before = pki_server.requests[pki.ocsp_url.split(pki_server.base_url, 1)[1]]
    good, basic = _ocsp_status(pki, "digitizer")
    revoked, _ = _ocsp_status(pki, "revoked")
    assert (good, revoked) == ("good", "revoked")
    produced = basic["tbs_response_data"]["produced_at"].native
    assert produced.microsecond == 0, f"fractional producedAt {produced}: NSS/pdfsig would reject the response"
    assert pki_server.requests[pki.ocsp_url.split(pki_server.base_url, 1)[1]] == before + 2


def test_crl_lists_both_revoked_signers_and_is_current(pki: TestPki) -> None:
    with urllib.request.urlopen(pki.crl_url("intermediate"), timeout=10) as resp:
        crl = asn1_crl.CertificateList.load(resp.read())
    listed = {entry["user_certificate"].native for entry in crl["tbs_cert_list"]["revoked_certificates"]}
    assert listed == {pki.signer("revoked").cert.serial_number, pki.signer("revoked-crl").cert.serial_number}
    assert pki.revoked_serials == listed
    now = dt.datetime.now(dt.UTC)
    assert crl["tbs_cert_list"]["this_update"].native <= now < crl["tbs_cert_list"]["next_update"].native


def test_tsa_answers_as_of_the_fake_time_it_is_asked_for(pki: TestPki) -> None:
    moment = dt.datetime(2024, 1, 15, 8, 30, tzinfo=dt.UTC)
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(b"ho so").digest()}
    request = tsp.TimeStampReq({"version": 1, "message_imprint": imprint, "nonce": int.from_bytes(os.urandom(8)),
                                "cert_req": True})
    reply = tsp.TimeStampResp.load(_post(pki.tsa_url, request.dump(), "application/timestamp-query",
                                         {FAKE_TIME_HEADER: moment.isoformat()}))
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["gen_time"].native == moment and info["nonce"].native == request["nonce"].native
