"""The language of a request, and the message catalog's gettext inside the Jinja templates.

Why context-aware callables rather than ``install_gettext_translations`` of one catalog: the Jinja
environment is shared by every request thread, while each request has its own language (``?lang=``,
the cookie, the configured default). ``_()``, ``ngettext()`` and ``pgettext()`` in a template read the
request's language from the template context (``lang``, set by ``web.pages.render``) and translate
through ``sohoa.common.messages`` — the same catalog as the errors and the verify sentences.
Why ``newstyle=False``: the callables already fill ``{field}`` placeholders with ``str.format``, and the
result stays a plain string that autoescaping escapes (a translation never becomes markup).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from sohoa.common import display
from sohoa.common.messages import Lang, Message, Renderable, normalize_lang

LANG_COOKIE = "sohoa_lang"


def request_lang(request: Request, default: str = "vi") -> Lang:
    """``?lang=`` first (the switch link), then the cookie, then the configured default."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), default):
        if value in ("vi", "en"):
            return value  # type: ignore[return-value]
    return "vi"


def _lang(context: Context) -> Lang:
    return normalize_lang(context.get("lang"))


@pass_context
def _gettext(context: Context, msgid: str | Renderable, **fields: Any) -> str:
    """``_("msgid", field=...)``; a ready ``Message`` (a table entry with a context) renders as it is."""
    if isinstance(msgid, Renderable):
        return msgid.render(_lang(context))
    return Message(msgid, fields).render(_lang(context))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **fields: Any) -> str:
    fields.setdefault("n", n)
    return Message(singular, fields, plural=plural, n=n).render(_lang(context))


@pass_context
def _pgettext(context: Context, msgctxt: str, msgid: str, **fields: Any) -> str:
    return Message(msgid, fields, context=msgctxt).render(_lang(context))


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, n: int, **fields: Any) -> str:
    fields.setdefault("n", n)
    return Message(singular, fields, plural=plural, n=n, context=msgctxt).render(_lang(context))


@pass_context
def _person(context: Context, name: str | None, organization: str | None = None) -> str:
    return display.person(name, organization)


@pass_context
def _role(context: Context, profile: str | None) -> str:
    return display.role(profile, _lang(context))


def _digitizer(doc: Any) -> str:
    """Who digitized a document: the recorded name, else the digitizer's signing certificate."""
    named = getattr(doc, "digitized_by", None)
    if named:
        return str(named)
    for sig in getattr(doc, "signatures", None) or []:
        if sig.get("profile") == "digitizer" and sig.get("signer"):
            return display.person(sig["signer"])
    return "-"


@pass_context
def _moment(context: Context, value: Any) -> str:
    return display.moment(value, _lang(context))


def install(env: Environment) -> None:
    """Give ``env`` the i18n extension and the catalog's callables (``_``, ``gettext``, ``ngettext``, ...),
    and the clerk's ways of writing people and times (``person``, ``role``, ``moment``)."""
    env.globals.update(person=_person, role=_role, moment=_moment, digitizer=_digitizer)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=False, pgettext=_pgettext, npgettext=_npgettext)
