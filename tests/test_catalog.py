"""The message catalog: complete in vi and en, in step with the code, and working as gettext.

Why re-extract in the test: a sentence added to the code (or a template) without ``update`` would show
in English to a Vietnamese clerk; a sentence removed from the code leaves dead entries. Both fail here,
with the command that fixes them (docs/translations.md).
"""

from __future__ import annotations

import importlib.util
import pickle
import re
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from jinja2 import Environment

from sohoa.common import messages
from sohoa.common.messages import N_, Message, _, bilingual, join, ngettext, pgettext, translate
from sohoa.web import i18n

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sohoa_translations", ROOT / "scripts" / "translations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return tool.extract()


def _catalog(lang: str) -> Catalog:
    return tool.read(tool.po_file(lang), lang)


def test_the_pot_and_every_po_hold_exactly_the_sentences_of_the_code(extracted: Catalog) -> None:
    wanted = tool.keys(extracted)
    assert len(wanted) > 300, "the extraction found too few sentences: is babel.cfg still right?"
    for path in (tool.POT, tool.po_file("vi"), tool.po_file("en")):
        have = tool.keys(tool.read(path))
        assert not wanted - have, f"{path.name}: not extracted yet, run scripts/translations.py update: " \
                                  f"{sorted(map(str, wanted - have))[:5]}"
        assert not have - wanted, f"{path.name}: no longer in the code: {sorted(map(str, have - wanted))[:5]}"


def test_the_templates_and_the_lazy_markers_are_extracted(extracted: Catalog) -> None:
    found = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in extracted if m.id}
    assert (None, "Verify a signature") in found  # web/templates/base.html
    assert (None, "{n} page") in found  # ngettext in web/templates/dossier.html
    assert (None, "{path}: file not found.") in found  # N_ on an error class
    assert ("job state", "claimed") in found  # pgettext in web/pages.py


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_sentence_is_translated_none_fuzzy_none_obsolete(lang: str) -> None:
    catalog = _catalog(lang)
    assert not catalog.obsolete, f"{lang}: obsolete (#~) entries: {list(catalog.obsolete)[:5]}"
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert strings and all(s.strip() for s in strings), f"{lang}: no translation for {message.id!r}"
        assert not message.fuzzy, f"{lang}: fuzzy translation of {message.id!r} must be checked"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_translations_use_the_fields_of_their_msgid_and_are_nfc(lang: str) -> None:
    for message in _catalog(lang):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        allowed = set().union(*(tool.fields_of(i) for i in ids))
        for text in [message.string] if isinstance(message.string, str) else message.string:
            assert tool.fields_of(text) <= allowed, f"{lang}: {message.id!r} → {text!r} names unknown fields"
            assert text == unicodedata.normalize("NFC", text), f"{lang}: {text!r} is not NFC"


TECHNICAL = re.compile(r"\{[^{}]*\}|--[\w-]+|\[[\w.]+\]|\b[\w.]+\.\w+\b|\b[A-Z0-9#/_-]{2,}\b|%\S+")
LOANWORDS = {"byte"}  # English words Vietnamese uses as they are


def test_no_vietnamese_translation_is_an_english_copy() -> None:
    """A vi entry equal to its msgid is fine only when nothing but fields, options and acronyms is left."""
    for message in _catalog("vi"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            if text not in ids:
                continue
            words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", TECHNICAL.sub(" ", text))} - LOANWORDS
            assert not words, f"vi: {text!r} is the English text, untranslated ({sorted(words)})"


def test_the_tool_reports_a_stale_catalog() -> None:
    """``check`` (the same rules) must notice a sentence the .po files do not know yet."""
    template = tool.extract()  # a fresh one: the module's fixture stays as extracted
    assert list(tool.problems(template)) == []
    template.add("A sentence added to the code but not to the catalog")
    found = list(tool.problems(template))
    assert any("out of date" in p for p in found) and any("not in the .po" in p for p in found), found


# --- the runtime ------------------------------------------------------------------------------


def test_translate_renders_fields_and_nested_messages_in_one_language() -> None:
    nested = _("folder {folder} does not exist", folder="/srv/inbox")
    outer = Message("Cannot write output {path}: {detail}", {"path": "a.pdf", "detail": nested})
    assert outer.render("en") == "Cannot write output a.pdf: folder /srv/inbox does not exist"
    assert outer.render("vi") == "Không ghi được tệp kết quả a.pdf: thư mục /srv/inbox không tồn tại"
    assert str(outer) == outer.render("en")
    assert pickle.loads(pickle.dumps(outer)).render("vi") == outer.render("vi")


def test_plural_forms_follow_each_language() -> None:
    assert ngettext("{n} page", "{n} pages", 1).render("en") == "1 page"
    assert ngettext("{n} page", "{n} pages", 3).render("en") == "3 pages"
    assert ngettext("{n} page", "{n} pages", 3).render("vi") == "3 trang"


def test_a_context_separates_two_meanings_of_one_english_word() -> None:
    assert translate(N_("claimed"), "vi") == "tự khai"  # a claimed signing time
    assert pgettext("job state", "claimed").render("vi") == "đã nhận"  # a job taken from the inbox


def test_joined_lists_and_bilingual_pairs() -> None:
    changes = join([_("pages added"), _("metadata updated"), _("pages added")])
    assert changes.render("vi") == "thêm trang, cập nhật siêu dữ liệu"
    assert bilingual(_("no dossier code")) == ("thiếu mã hồ sơ", "no dossier code")


def test_an_unknown_msgid_falls_back_to_english_and_is_recorded() -> None:
    msgid = "A sentence nobody put in the catalog {x}"
    assert translate(msgid, "vi", x=1) == "A sentence nobody put in the catalog 1"
    assert ("vi", msgid) in messages.missing_translations()
    messages._missing.discard(("vi", msgid))  # keep the session-wide check (tests/conftest.py) for real misses


def test_jinja_templates_translate_in_the_language_of_each_render() -> None:
    env = Environment(autoescape=True)
    i18n.install(env)
    template = env.from_string('{{ _("Sign in") }} | {{ ngettext("{n} page", "{n} pages", n) }} | '
                               '{{ _("Signed in as {name} ({role})", name=who, role="clerk") }} | {{ _(state) }}')
    state = pgettext("job state", "paused")
    vi = template.render(lang="vi", n=2, who="<Quầy 1>", state=state)
    en = template.render(lang="en", n=2, who="<Quầy 1>", state=state)
    assert vi == "Đăng nhập | 2 trang | Đang dùng: &lt;Quầy 1&gt; (clerk) | tạm dừng"
    assert en == "Sign in | 2 pages | Signed in as &lt;Quầy 1&gt; (clerk) | paused"
