"""Signing settings: key sources, signing profiles with their appearances, TSA, trust, revocation, audit.

Why this shape: a center names its keys once (a PKCS#12 file, or a PKCS#11 token/HSM) and then names
*profiles* — who signs (``digitizer``, ``organization``, ``copy`` …), at which PAdES level, with which
visible appearance — so the pipeline and the clerk only say ``--sign organization``.
Secrets never live in this file: a key source names an environment variable or a file readable only
by the service user that holds the password/PIN. Profiles not written in the config keep their
built-in defaults (a center that only configures ``organization`` still has ``digitizer`` and ``copy``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
AppearanceKind = Literal["digitizer", "organization", "copy", "invisible"]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]

DEFAULT_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _SecretRef(_Model):
    """Where a password/PIN comes from: an environment variable name, or a file only the service reads."""

    @model_validator(mode="after")
    def _one_source_at_most(self) -> _SecretRef:
        env, file = self._secret_fields()
        if env is not None and file is not None:
            raise ValueError("give either the *_env or the *_file setting for the secret, not both")
        return self

    def _secret_fields(self) -> tuple[str | None, Path | None]:
        raise NotImplementedError


class Pkcs12Key(_SecretRef):
    kind: Literal["pkcs12"] = "pkcs12"
    path: Path = Field(description="PKCS#12 (.p12/.pfx) file with the key, its certificate and chain")
    password_env: str | None = Field(None, description="Name of the environment variable holding the password")
    password_file: Path | None = Field(None, description="File (mode 0600/0400) whose first line is the password")
    extra_certs: list[Path] = Field(default_factory=list, description="Issuer certificates (PEM/DER) to embed")

    def _secret_fields(self) -> tuple[str | None, Path | None]:
        return self.password_env, self.password_file


class Pkcs11Key(_SecretRef):
    kind: Literal["pkcs11"] = "pkcs11"
    module: Path = Field(description="PKCS#11 module (.so) of the token or HSM vendor")
    token_label: str | None = Field(None, description="Token label; None = the first token present")
    slot: int | None = Field(None, ge=0, description="Slot number, when labels are ambiguous")
    key_label: str | None = Field(None, description="Private key label; defaults to cert_label")
    cert_label: str | None = Field(None, description="Certificate label; defaults to key_label")
    key_id: str | None = Field(None, pattern=r"^([0-9a-fA-F]{2})+$", description="CKA_ID in hex, instead of labels")
    raw_mechanism: bool | None = Field(
        None, description="Hash on the host, sign with the raw mechanism (CKM_ECDSA / CKM_RSA_PKCS); "
                          "None = automatic (raw for ECDSA keys, which many tokens and SoftHSM2 need)")
    pin_env: str | None = Field(None, description="Name of the environment variable holding the user PIN")
    pin_file: Path | None = Field(None, description="File (mode 0600/0400) whose first line is the PIN")
    extra_certs: list[Path] = Field(default_factory=list, description="Issuer certificates (PEM/DER) to embed")

    def _secret_fields(self) -> tuple[str | None, Path | None]:
        return self.pin_env, self.pin_file

    @model_validator(mode="after")
    def _has_selector(self) -> Pkcs11Key:
        if not (self.key_label or self.cert_label or self.key_id):
            raise ValueError("a PKCS#11 key needs key_label, cert_label or key_id")
        return self


KeySource = Annotated[Pkcs12Key | Pkcs11Key, Field(discriminator="kind")]

# Per-kind defaults of an appearance (Decree 30/2020, Circular 01/2023; see ARCHITECTURE.md).
APPEARANCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "digitizer": {"corner": "top-left", "width_mm": 75.0, "height_mm": 16.0,
                  "text": "Người số hóa: {name}\nThời gian ký: {time}"},
    "organization": {"corner": "top-right", "width_mm": 100.0, "height_mm": 40.0,
                     "text": "Ký bởi: {name}\nThời gian ký: {time}"},
    "copy": {"corner": "top-right", "width_mm": 80.0, "height_mm": 20.0,
             "text": "{copy_form}\n{name}\nThời gian ký: {time}"},
    "invisible": {"corner": "top-right", "width_mm": 0.0, "height_mm": 0.0, "text": ""},
}


class Appearance(_Model):
    """How a signature looks on the page. Unset fields take the defaults of ``kind``.

    ``text`` placeholders: ``{name}`` (certificate common name — the person, or the agency for an
    agency key — or the profile's ``signer_name``), ``{organization}`` (certificate O or the profile's
    ``organization``), ``{time}`` (signing time in ``timezone``), ``{copy_form}``, ``{reason}``,
    ``{location}``.
    """

    kind: AppearanceKind = "invisible"
    page: int = Field(1, description="1-based page; -1 = last page")
    corner: Corner = "top-right"
    margin_mm: float = Field(8.0, ge=0, description="Distance of the box from the page edges")
    width_mm: float = Field(75.0, ge=0)
    height_mm: float = Field(16.0, ge=0)
    text: str = ""
    font: Path = Field(DEFAULT_FONT, description="OpenType/TrueType font with Vietnamese glyphs (embedded)")
    font_size: float = Field(10.0, gt=0, le=72)
    text_color: str = Field("#000000", pattern=r"^#[0-9a-fA-F]{6}$")
    seal_image: Path | None = Field(None, description="Transparent PNG of the red seal (organization)")
    seal_width_mm: float = Field(36.0, gt=0, description="Printed width of the seal (its actual size)")
    seal_height_mm: float | None = Field(None, gt=0, description="None keeps the image's aspect ratio")
    copy_form: str = Field("SAO Y", description="SAO Y / SAO LỤC / TRÍCH SAO for the copy appearance")
    border_width: float = Field(0.0, ge=0)
    placement: Literal["free-space", "fixed"] = Field(
        "free-space", description="free-space: the nearest place to the corner with no ink under the box "
        "(shrunk down to min_scale, overlapping only then); fixed: exactly margin_mm from the corner")
    min_scale: float = Field(0.6, gt=0, le=1, description="Smallest size (share of width/height/font/seal) "
                             "a stamp may shrink to before it is allowed to overlap the page's ink")

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kind = data.get("kind", "invisible")
            return {**APPEARANCE_DEFAULTS.get(kind, {}), **data}
        return data

    @property
    def visible(self) -> bool:
        return self.kind != "invisible"


class Profile(_Model):
    key: str = Field(description="Name of an entry in [signing.keys]")
    level: Level = "B-T"
    appearance: Appearance = Appearance()
    reason: str | None = None
    location: str | None = None
    contact_info: str | None = None
    signer_name: str | None = Field(None, description="Name shown in the stamp; default: certificate CN")
    organization: str | None = Field(None, description="Organisation shown in the stamp; default: certificate O")
    field_prefix: str = Field("Sig", pattern=r"^[A-Za-z][A-Za-z0-9_]*$")


DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "digitizer": {"key": "digitizer", "level": "B-T", "appearance": {"kind": "digitizer"},
                  "reason": "Số hóa hồ sơ", "field_prefix": "SoHoa"},
    "organization": {"key": "organization", "level": "B-LT", "appearance": {"kind": "organization"},
                     "reason": "Ký số của cơ quan, tổ chức", "field_prefix": "CoQuan"},
    "copy": {"key": "organization", "level": "B-LT", "appearance": {"kind": "copy"},
             "reason": "Sao y bản chính", "field_prefix": "SaoY"},
}


class Tsa(_Model):
    url: str = Field("", description="RFC 3161 timestamp server; required for B-T and above ('' = none)")
    timeout_s: float = Field(10.0, gt=0)
    retries: int = Field(3, ge=0, description="Extra attempts after the first failure")
    retry_delay_s: float = Field(2.0, ge=0, description="Delay before the first retry; doubles each time")
    username: str = Field("", description="HTTP basic auth user of the TSA ('' = no authentication)")
    password_env: str = Field("", description="Env var with the TSA password (HTTP basic auth)")
    key: str = Field("", description="A [signing.keys] PKCS#12 entry that stamps times in this process instead "
                     "of a server (the demo's; the time is this machine's clock); used when url is ''")


class Trust(_Model):
    roots: list[Path] = Field(default_factory=list, description="Trusted root certificates (PEM/DER files)")
    extra_certs: list[Path] = Field(default_factory=list, description="Intermediates to help build chains")


class Revocation(_Model):
    source: Literal["either", "ocsp", "crl", "both"] = Field(
        "either", description="Revocation data required for B-LT/B-LTA: OCSP or CRL, only one kind, or both")
    timeout_s: float = Field(10.0, gt=0)
    crl_files: list[Path] = Field(default_factory=list, description="CRLs (DER/PEM) of CAs that publish no "
                                  "CRL or OCSP address, e.g. an offline root; embedded when signing at B-LT/B-LTA")


class SigningSettings(_Model):
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone of stamp times (Decree 30: +07:00)")
    time_format: str = Field("iso", description="strftime format of {time}; 'iso' = ISO 8601 with offset")
    digest: Literal["sha256", "sha384", "sha512"] = "sha256"
    keys: dict[str, KeySource] = Field(default_factory=dict)
    profiles: dict[str, Profile] = Field(default_factory=lambda: {
        name: Profile.model_validate(raw) for name, raw in DEFAULT_PROFILES.items()})
    tsa: Tsa = Tsa()
    trust: Trust = Trust()
    revocation: Revocation = Revocation()
    audit_file: Path = Field(Path("audit/signing.jsonl"), description="Append-only JSON lines; relative to data_dir")
    min_rsa_bits: int = Field(2048, ge=1024)

    @field_validator("profiles", mode="before")
    @classmethod
    def _merge_default_profiles(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {name: dict(raw) for name, raw in DEFAULT_PROFILES.items()}
        for name, raw in value.items():
            if isinstance(raw, dict) and name in merged:
                base = merged[name]
                appearance = raw.get("appearance")
                if isinstance(appearance, dict):
                    raw = {**raw, "appearance": {**base.get("appearance", {}), **appearance}}
                merged[name] = {**base, **raw}
            else:
                merged[name] = raw
        return merged
