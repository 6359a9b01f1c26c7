"""Render verification reports: JSON objects (the stable schema), terminal lines (rich), printable HTML.

Why three renderings of one value: the clerk reads one coloured line per signature at the counter,
scripts and the API read JSON (docs/verify-json-schema.md, ``schema`` = 1), and a printed HTML page
goes into the paper file. The HTML is self-contained (inline CSS, no scripts, no external fonts) so it
prints the same anywhere and can be archived next to the PDF.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from rich.console import Console
from rich.text import Text

from sohoa.common.display import moment, person
from sohoa.common.errors import InputError
from sohoa.common.messages import N_, Lang, ngettext, translate
from sohoa.signing.verify.model import SCHEMA_VERSION, SignatureResult, VerificationReport
from sohoa.signing.verify.verdicts import change_words

COLOURS = {"TOTAL-PASSED": "green", "INDETERMINATE": "yellow", "TOTAL-FAILED": "red"}
#: the verdict labels (catalog msgids; the web pages translate them too)
LABELS = {"TOTAL-PASSED": N_("VALID"), "INDETERMINATE": N_("INDETERMINATE"), "TOTAL-FAILED": N_("INVALID")}
WORDS = {
    "signer": N_("Signer"), "org": N_("Organisation"), "time": N_("Signing time"), "proven": N_("proven"),
    "claimed": N_("claimed"), "issuer": N_("Issued by"), "serial": N_("Serial"), "valid": N_("Valid"),
    "level": N_("PAdES level"), "revocation": N_("Revocation"), "anchor": N_("Trust anchor"),
    "revisions": N_("Revisions"), "timestamp": N_("Document timestamp"), "record": N_("Records match"),
    "no_record": N_("Does not match any document issued by the center."),
    "title": N_("Signature verification report"), "unreadable": N_("UNREADABLE"), "verified_at": N_("Verified at"),
    "offline": N_("embedded data only"), "why": N_("Why"), "revision": N_("revision"),
}


KINDS = {"signature": N_("signature"), "document-timestamp": N_("document timestamp")}
REVOCATION = {"good": N_("not revoked"), "revoked": N_("revoked"), "unknown": N_("status unknown"),
              "not-checked": N_("not checked")}
SOURCES = {"dss": N_("data embedded in the file (DSS)"), "cms": N_("data embedded in the signature"),
           "online": N_("online OCSP/CRL")}


def revocation_words(rev: object, lang: Lang) -> str:
    """The revocation status and where it came from, in the clerk's words."""
    status = getattr(rev, "status", "unknown")
    sources = [translate(SOURCES[s], lang) if s in SOURCES else s for s in getattr(rev, "sources", [])]
    text = translate(REVOCATION.get(status, status), lang) if status in REVOCATION else status
    revoked_at = getattr(rev, "revoked_at", None)
    return text + (f" ({', '.join(sources)})" if sources else "") + (f", {moment(revoked_at, lang)}" if revoked_at
                                                                      else "")


class _Words:
    """``w["signer"]`` in the language of one report."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return translate(WORDS[key], self.lang)


def verdict_label(indication: str, lang: Lang) -> str:
    return translate(LABELS[indication], lang)


def error_dict(path: str, err: InputError) -> dict[str, Any]:
    """The JSON object of a file that could not be read (exit code 3)."""
    return {"schema": SCHEMA_VERSION, "file": path, "readable": False, "indication": None, "sub_indication": None,
            "signatures": [], "revisions": [], "record_match": None, "error": err.to_dict()}


def _time(sig: SignatureResult, lang: Lang) -> str:
    w = _Words(lang)
    if sig.proven_time is not None:
        return f"{moment(sig.proven_time, lang)} ({w['proven']})"
    if sig.claimed_time is not None:
        return f"{moment(sig.claimed_time, lang)} ({w['claimed']})"
    return "-"


def signer_name(sig: SignatureResult) -> str:
    """"Name — Organisation" of the signer (or the timestamp authority)."""
    return person(sig.signer.common_name or sig.signer.subject, sig.signer.organization) if sig.signer else "?"


def signature_line(sig: SignatureResult, lang: Lang) -> Text:
    """The clerk's line: verdict, signer, organisation, time, why."""
    w = _Words(lang)
    label = verdict_label(sig.indication, lang)
    sub = f"/{sig.sub_indication}" if sig.sub_indication else ""
    who = signer_name(sig)
    text = Text()
    text.append(f"[{label}{sub}] ", style=f"bold {COLOURS[sig.indication]}")
    if sig.kind == "document-timestamp":
        text.append(f"{w['timestamp']}: {who} · {_time(sig, lang)} · ")
    else:
        text.append(f"{who} · {_time(sig, lang)} · ")
    text.append(sig.sentence(lang))
    return text


def _details(sig: SignatureResult, lang: Lang) -> list[str]:
    w = _Words(lang)
    kind = translate(KINDS[sig.kind], lang) if sig.kind in KINDS else sig.kind
    lines = [f"{sig.field_name} ({kind}, {w['level']} {sig.level or '-'}, {w['revision']} {sig.signed_revision})"]
    if sig.signer is not None:
        s = sig.signer
        lines.append(f"{w['signer']}: {signer_name(sig)}")
        lines.append(f"{w['issuer']}: {person(s.issuer)} · {w['serial']} {s.serial} · {w['valid']} "
                     f"{moment(s.not_before, lang)} → {moment(s.not_after, lang)}")
    lines.append(f"{w['anchor']}: {person(sig.trust_anchor) if sig.trust_anchor else '-'}")
    lines.append(f"{w['revocation']}: {revocation_words(sig.revocation, lang)}")
    lines.extend(r.text(lang) for r in sig.reasons[1:])
    return lines


def print_report(report: VerificationReport, console: Console, lang: Lang, *, details: bool = True) -> None:
    w = _Words(lang)
    console.print(Text(report.path, style="bold"))
    if not report.signatures:
        line = Text(f"[{verdict_label(report.indication, lang)}/{report.sub_indication}] ", style="bold yellow")
        console.print(line + Text(report.sentence(lang)))
    for sig in report.signatures:
        console.print(signature_line(sig, lang))
    if details:
        for sig in report.signatures:
            for i, line in enumerate(_details(sig, lang)):
                console.print(("  " if i == 0 else "    ") + line, highlight=False, markup=False)
        later = [r for r in report.revisions if r.index > 0]
        if later:
            console.print(f"  {w['revisions']}:", highlight=False)
            for r in later:
                console.print(f"    #{r.index}: {change_words(r.changes, lang) or '-'}", highlight=False, markup=False)
    if report.records_checked:
        text = report.record.sentence(lang) if report.record else w["no_record"]
        console.print(Text(f"  {w['record']}: {text}", style="cyan"))


def print_error(path: str, err: InputError, console: Console, lang: Lang) -> None:
    console.print(Text(path, style="bold"))
    console.print(Text(f"[{_Words(lang)['unreadable']}] ", style="bold magenta") + Text(err.message(lang)))


_CSS = """
body{font-family:"Liberation Serif","Times New Roman",serif;margin:2em;color:#111}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #999}
.v{font-weight:bold;padding:.1em .4em;border-radius:3px;color:#fff}
.TOTAL-PASSED{background:#1a7f37}.INDETERMINATE{background:#b08800}.TOTAL-FAILED{background:#c62828}
.UNREADABLE{background:#6a1b9a}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .4em;
text-align:left;vertical-align:top;font-size:.92em}th{background:#f0f0f0;width:16em}
.note{color:#444;font-size:.9em}@media print{body{margin:1cm}.v{-webkit-print-color-adjust:exact;
print-color-adjust:exact}}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _sig_html(sig: SignatureResult, lang: Lang) -> str:
    w = _Words(lang)
    s = sig.signer
    rows = [(w["why"], "<br>".join(_e(r.text(lang)) for r in sig.reasons)),
            (w["signer"], _e(signer_name(sig)) if s else "-"),
            (w["time"], _e(_time(sig, lang))),
            (w["issuer"], _e(person(s.issuer)) if s else "-"), (w["serial"], _e(s.serial) if s else "-"),
            (w["valid"], f"{_e(moment(s.not_before, lang))} → {_e(moment(s.not_after, lang))}" if s else "-"),
            (w["anchor"], _e(person(sig.trust_anchor) if sig.trust_anchor else "-")),
            (w["revocation"], _e(revocation_words(sig.revocation, lang))),
            (w["level"], _e(sig.level or "-")), ("SHA-256", _e(s.sha256) if s else "-")]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    label = verdict_label(sig.indication, lang)
    sub = f" / {sig.sub_indication}" if sig.sub_indication else ""
    return (f"<h3><span class='v {sig.indication}'>{_e(label)}{_e(sub)}</span> {_e(sig.field_name)}</h3>"
            f"<table>{body}</table>")


def html_report(items: list[VerificationReport | tuple[str, InputError]], lang: Lang,
                generated: dt.datetime | None = None) -> str:
    """One printable page for all files verified in one run."""
    w = _Words(lang)
    generated = generated or dt.datetime.now().astimezone()
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{_e(w['title'])}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(w['title'])}</h1>"
             f"<p class='note'>{_e(w['verified_at'])}: {_e(moment(generated, lang))}</p>"]
    for item in items:
        if isinstance(item, tuple):
            path, err = item
            parts.append(f"<h2>{_e(path)}</h2><p><span class='v UNREADABLE'>{_e(w['unreadable'])}</span> "
                         f"{_e(err.message(lang))}</p>")
            continue
        report = item
        label = verdict_label(report.indication, lang)
        sub = f" / {report.sub_indication}" if report.sub_indication else ""
        size = ngettext("{n} byte", "{n} bytes", report.size).render(lang)
        parts.append(f"<h2>{_e(report.path)}</h2><p><span class='v {report.indication}'>{_e(label)}{_e(sub)}</span> "
                     f"{_e(report.sentence(lang))}</p><p class='note'>SHA-256 {_e(report.sha256)} · "
                     f"{_e(size)}{' · ' + _e(w['offline']) if report.offline else ''}</p>")
        if report.records_checked:
            text = report.record.sentence(lang) if report.record else w["no_record"]
            parts.append(f"<p><b>{_e(w['record'])}:</b> {_e(text)}</p>")
        parts.extend(_sig_html(sig, lang) for sig in report.signatures)
        later = [r for r in report.revisions if r.index > 0]
        if later:
            rows = "".join(f"<tr><th>#{r.index}</th><td>{_e(change_words(r.changes, lang) or '-')}</td></tr>"
                           for r in later)
            parts.append(f"<h3>{_e(w['revisions'])}</h3><table>{rows}</table>")
    parts.append("</body></html>")
    return "".join(parts)
