"""Typed signing failures (exit codes 50-69), each naming the file/key and the reason in vi and en.

Why so many kinds: at a counter "signing failed" is useless; the clerk must know whether to plug the
token in, retype the PIN, call the CA about an expired certificate or wait for the TSA. None of these
messages carries a secret: they name the environment variable or file, never its content.
"""

from __future__ import annotations

from sohoa.common.errors import SigningError
from sohoa.common.messages import N_


class ProfileUnknown(SigningError):
    code = "signing_profile_unknown"
    exit_code = 51
    text = N_("No signing profile '{profile}' in the configuration (known: {known}).")


class KeySourceInvalid(SigningError):
    code = "signing_key_config"
    exit_code = 52
    text = N_("Signing key '{key}' is misconfigured: {detail}")


class SecretMissing(SigningError):
    code = "signing_secret_missing"
    exit_code = 53
    text = N_("Cannot read the password/PIN of key '{key}' from {where}: {detail}")


class WrongSecret(SigningError):
    code = "signing_wrong_secret"
    exit_code = 54
    text = N_("Wrong password/PIN for key '{key}' ({detail}).")


class KeyUnavailable(SigningError):
    code = "signing_key_unavailable"
    exit_code = 55
    transient = True
    text = N_("Key '{key}' is not available: {detail}. Check that the token/HSM is present and its label is right.")


class CertificateInvalid(SigningError):
    code = "signing_certificate_invalid"
    exit_code = 56
    text = N_("The certificate of key '{key}' ({subject}) cannot be used for signing: {reason}")


class KeyMismatch(SigningError):
    code = "signing_key_mismatch"
    exit_code = 57
    text = N_("The private key of '{key}' does not match its certificate ({subject}).")


class TimestampUnavailable(SigningError):
    code = "signing_tsa_unavailable"
    exit_code = 58
    transient = True
    text = N_("No timestamp from {url} after {attempts} attempt(s) ({detail}); the signature level is not lowered.")


class RevocationUnavailable(SigningError):
    code = "signing_revocation_unavailable"
    exit_code = 59
    transient = True
    text = N_("Cannot check the revocation status of ({subject}) for level {level}: {detail}")


class CertificateRevoked(SigningError):
    code = "signing_certificate_revoked"
    exit_code = 60
    text = N_("The certificate ({subject}) is revoked or not trusted: {detail}")


class SignFailed(SigningError):
    code = "signing_failed"
    exit_code = 61
    text = N_("Signing {path} failed: {detail}")


class AppearanceInvalid(SigningError):
    code = "signing_appearance"
    exit_code = 62
    text = N_("Cannot build the signature appearance on {path}: {detail}")
