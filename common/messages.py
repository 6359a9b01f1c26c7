"""The one message catalog: English msgids in the code, Vietnamese (and English) in gettext ``.po`` files.

Why gettext through Babel rather than sentences kept next to each class or page: translators get one
file (``common/locale/vi/LC_MESSAGES/sohoa.po``), Babel extracts every marked sentence from the Python
code and the Jinja templates, and the tests (tests/test_catalog.py) fail when a sentence lacks a
translation, when the catalog is out of date with the code, or when a Vietnamese sentence would carry
an English library detail. Workflow: docs/translations.md.

Why lazy ``Message`` values: one error is raised once and rendered in both languages (the clerk's
Vietnamese sentence, the engineer's English log line, the JSON that carries both), possibly in another
process after pickling. A ``Message`` keeps its msgid and fields until ``render(lang)``; any field value
with a ``render(lang)`` method (another ``Message``, a ``Joined`` list, a ``common.reasons.Foreign``
library detail) is rendered in the same language, so sentences nest.

Why the ``.po`` files are read at run time (Babel's ``read_po``, compiled to an in-memory ``.mo``) and no
``.mo`` is shipped: a fresh clone, an editable install and a built wheel all work without a compile
step; parsing the catalog costs a few milliseconds once per process, on first use.

Keywords Babel extracts (its defaults): ``_``, ``N_``, ``ngettext``, ``pgettext``, ``npgettext``.
Fields use ``str.format`` syntax (``{path}``); a translation must use the same field names as its msgid.
"""

from __future__ import annotations

import gettext as _gettext
import io
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, Protocol, runtime_checkable

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"
DOMAIN = "sohoa"

log = logging.getLogger(__name__)


@runtime_checkable
class Renderable(Protocol):
    """Anything that knows its sentence in each language (a field value rendered with its sentence)."""

    def render(self, lang: Lang) -> str: ...


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention Babel extracts
    """Mark a sentence for the catalog without translating it (class templates, tables of words)."""
    return msgid


@dataclass(frozen=True, eq=False)
class Message:
    """A sentence of the catalog with its fields, translated when rendered (picklable)."""

    msgid: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None
    context: str | None = None

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        """The sentence in ``lang`` with its fields filled in (translatable fields in ``lang`` too).

        A translation whose placeholders do not fit the fields falls back to the English text; a
        msgid that does not fit its fields raises ``KeyError``/``IndexError`` to the caller.
        """
        text = lookup(self.msgid, lang, plural=self.plural, n=self.n, context=self.context)
        values = _Values(self.fields, lang)
        try:
            return text.format_map(values)
        except (KeyError, IndexError, ValueError):
            if lang == "en":
                raise
            log.warning("the %s translation of %r does not fit its fields %s", lang, self.msgid, sorted(self.fields))
            return Message(self.msgid, self.fields, self.plural, self.n, self.context).render("en")

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {dict(self.fields)!r})"


@dataclass(frozen=True, eq=False)
class Joined:
    """Several translatable items shown as one field (``", "``-separated), duplicates dropped."""

    items: tuple[Any, ...]
    sep: str = ", "

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        seen: list[str] = []
        for item in self.items:
            text = render(item, lang)
            if text not in seen:
                seen.append(text)
        return self.sep.join(seen)

    def __str__(self) -> str:
        return self.render("en")


class _Values(dict):
    """The fields as ``format_map`` sees them: translatable values rendered in the sentence's language."""

    def __init__(self, fields: Mapping[str, Any], lang: Lang) -> None:
        super().__init__(fields)
        self.lang = lang
        self.missing = getattr(fields, "__missing__", None)

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key) if key in self or self.missing is None else self.missing(key)
        return value.render(self.lang) if isinstance(value, Renderable) else value


def _(msgid: str, /, **fields: Any) -> Message:
    """The lazy sentence ``msgid`` with ``fields`` (rendered later in the reader's language)."""
    return Message(msgid, fields)


def ngettext(singular: str, plural: str, n: int, /, **fields: Any) -> Message:
    """A lazy sentence with plural forms chosen by ``n`` (also available as the field ``{n}``)."""
    fields.setdefault("n", n)
    return Message(singular, fields, plural=plural, n=n)


def pgettext(context: str, msgid: str, /, **fields: Any) -> Message:
    """A lazy sentence whose English is ambiguous; ``context`` tells the translations apart."""
    return Message(msgid, fields, context=context)


def translate(msgid: str, lang: Lang = DEFAULT_LANG, /, **fields: Any) -> str:
    """``msgid`` in ``lang`` with its fields, now (``msgid`` is usually an ``N_`` marked constant)."""
    return Message(msgid, fields).render(lang)


def render(value: Any, lang: Lang = DEFAULT_LANG) -> str:
    """Any field value as text in ``lang``: translatable values translated, everything else ``str()``."""
    if isinstance(value, Renderable):
        return value.render(lang)
    return "" if value is None else str(value)


def bilingual(value: Any) -> tuple[str, str]:
    """``(vietnamese, english)`` of one value, for records and files that keep both sentences."""
    return render(value, "vi"), render(value, "en")


def join(items: Iterable[Any], sep: str = ", ") -> Joined:
    return Joined(tuple(items), sep)


def normalize_lang(value: object, default: Lang = DEFAULT_LANG) -> Lang:
    """``"vi"`` or ``"en"`` from a setting, a query parameter or a cookie; anything else is ``default``."""
    return value if value in LANGS else default  # type: ignore[return-value]


# --- the catalogs ------------------------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[str, _gettext.NullTranslations] = {}
_missing: set[tuple[str, str]] = set()


class _Recorder(_gettext.NullTranslations):
    """The fallback of a loaded catalog: remembers each msgid it lacks (tests fail on any), English text."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def _miss(self, msgid: str, context: str | None = None) -> None:
        key = (self.lang, msgid if context is None else f"{context}\x04{msgid}")
        if key not in _missing:
            _missing.add(key)
            log.warning("no %s translation for %r in the catalog", self.lang, msgid)

    def gettext(self, message: str) -> str:
        self._miss(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._miss(msgid1)
        return msgid1 if n == 1 else msgid2

    def pgettext(self, context: str, message: str) -> str:
        self._miss(message, context)
        return message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        self._miss(msgid1, context)
        return msgid1 if n == 1 else msgid2


def po_path(lang: str) -> resources.abc.Traversable:
    """Where the ``.po`` of ``lang`` lives inside the installed ``sohoa.common`` package."""
    return resources.files(__package__ or "sohoa.common") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(lang: str) -> _gettext.NullTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    try:
        data = po_path(lang).read_bytes()
    except OSError as exc:
        log.error("message catalog for %s missing (%s); sentences stay in English", lang, exc)
        return _Recorder(lang)
    catalog = read_po(io.BytesIO(data), locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    translations = _gettext.GNUTranslations(buffer)
    translations.add_fallback(_Recorder(lang))
    return translations


def translations(lang: Lang) -> _gettext.NullTranslations:
    """The gettext object of ``lang`` (loaded once per process, thread-safe); ``gettext``-compatible."""
    found = _loaded.get(lang)
    if found is None:
        with _lock:
            found = _loaded.get(lang)
            if found is None:
                found = _loaded[lang] = _load(lang)
    return found


def lookup(msgid: str, lang: Lang, *, plural: str | None = None, n: int | None = None,
           context: str | None = None) -> str:
    """The translation of one msgid (the English text when the catalog lacks it)."""
    t = translations(lang if lang in LANGS else DEFAULT_LANG)
    if plural is not None:
        count = 1 if n is None else n
        return t.npgettext(context, msgid, plural, count) if context else t.ngettext(msgid, plural, count)
    return t.pgettext(context, msgid) if context else t.gettext(msgid)


def missing_translations() -> set[tuple[str, str]]:
    """``(lang, msgid)`` looked up in this process and absent from the catalog (empty when all is well)."""
    return set(_missing)
