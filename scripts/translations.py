"""The message catalog workflow with Babel: extract the sentences, update the .po files, check them.

Usage (from the repository root, with the project's .venv):

    .venv/bin/python scripts/translations.py extract   # code + templates -> common/locale/sohoa.pot
    .venv/bin/python scripts/translations.py update    # .pot -> vi and en .po (new: empty vi, identity en)
    .venv/bin/python scripts/translations.py check     # what tests/test_catalog.py checks; exit 1 on problems

Why a script over Babel's Python API rather than bare ``pybabel`` commands: the same functions serve the
tests (re-extract into memory and compare), locations are written without line numbers (a moved line
changes nothing, so parallel branches merge their .po files cleanly), the files are only rewritten when
their messages changed (no date-only diffs), and the English catalog is kept an explicit identity
translation. ``pybabel extract -F babel.cfg`` reads the same mapping (docs/translations.md).
There is no compile step: ``sohoa.common.messages`` reads the .po files at run time.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "common" / "locale"
POT = LOCALE / "sohoa.pot"
DOMAIN = "sohoa"
LANGS = ("vi", "en")
SKIP_DIRS = {"tests", "bench", "scripts", "docs", "samples", "var", "build", "dist", "node_modules"}
COMMENT_TAGS = ("Translators:",)
HEADER = ("# The sohoa message catalog (%s). English msgids come from the code and templates;\n"
          "# workflow in docs/translations.md. Distributed under the same license as sohoa (AGPL-3.0-or-later).")
FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)?([!:][^{}]*)?\}")


def po_file(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _keep_dir(path: str) -> bool:
    name = Path(path).name
    return not (name.startswith((".", "_")) or name in SKIP_DIRS or name.endswith(".egg-info"))


def extract(root: Path = ROOT) -> Catalog:
    """Every marked sentence of the packages and templates (babel.cfg), as a template catalog."""
    with open(root / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="sohoa", domain=DOMAIN, charset="utf-8", fuzzy=False, header_comment=HEADER % "template")
    found = extract_from_dir(str(root), method_map, options_map, comment_tags=COMMENT_TAGS,
                             strip_comment_tags=True, directory_filter=_keep_dir)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename.replace("\\", "/"), lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path, lang: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def keys(catalog: Catalog) -> set[tuple[object, str | None]]:
    """(msgid or (singular, plural), context) of every live message (the header excluded)."""
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=False, include_previous=True,
             omit_header=False, sort_output=False)
    return buffer.getvalue()


_DATES = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\\n"\n', re.M)


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file differs only in its dates (keeps diffs to real changes)."""
    if path.exists() and _DATES.sub(b"", path.read_bytes()) == _DATES.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _identity(message: Message) -> None:
    """English is the msgid itself: an explicit identity translation, so "empty" always means "missing"."""
    if isinstance(message.id, str):
        if not message.string:
            message.string = message.id
    elif not all(message.string or ()):
        message.string = tuple(message.id)


def _headers(catalog: Catalog) -> Catalog:
    """Fill the header fields Babel leaves as placeholders (the same in every file)."""
    catalog.msgid_bugs_address = "the sohoa maintainers"
    catalog.last_translator = catalog.language_team = "the sohoa maintainers"
    catalog.version = "1"
    return catalog


def update(template: Catalog) -> list[Path]:
    """Write the .pot and merge it into each .po (Babel's fuzzy matching marks guesses for review)."""
    changed = [POT] if _write_if_changed(POT, render(_headers(template))) else []
    for lang in LANGS:
        path = po_file(lang)
        if path.exists():
            catalog = read(path, lang)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="sohoa", fuzzy=False,
                              header_comment=HEADER % f"{lang} translation")
        catalog.update(template, update_header_comment=False)
        catalog.fuzzy = False
        _headers(catalog)
        if lang == "en":
            for message in catalog:
                if message.id and not message.fuzzy:
                    _identity(message)
        if _write_if_changed(path, render(catalog)):
            changed.append(path)
    return changed


def fields_of(text: str) -> set[str]:
    """The ``str.format`` fields a sentence uses (``{path}``, ``{when:%Y-%m-%d}`` → ``when``)."""
    return {m.group(1) or "" for m in FIELD.finditer(text)}


def _strings(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string or ())


def problems(template: Catalog | None = None) -> Iterator[str]:
    """Everything wrong with the committed catalog: stale, missing, fuzzy, obsolete, fields, NFC."""
    template = template if template is not None else extract()
    wanted = keys(template)
    if not POT.exists() or keys(read(POT)) != wanted:
        yield f"{POT.relative_to(ROOT)} is out of date with the code: run scripts/translations.py update"
    for lang in LANGS:
        path = po_file(lang)
        if not path.exists():
            yield f"{path.relative_to(ROOT)} is missing"
            continue
        catalog = read(path, lang)
        have = keys(catalog)
        for key in sorted(wanted - have, key=str):
            yield f"{lang}: not in the .po (run update): {key[0]!r}"
        for key in sorted(have - wanted, key=str):
            yield f"{lang}: in the .po but no longer in the code: {key[0]!r}"
        for msgid in catalog.obsolete:
            yield f"{lang}: obsolete entry (#~) left in the .po: {msgid!r}"
        for message in catalog:
            if not message.id:
                continue
            singular = message.id if isinstance(message.id, str) else message.id[0]
            strings = _strings(message)
            if message.fuzzy:
                yield f"{lang}: fuzzy (unchecked) translation: {singular!r}"
            if not strings or not all(s.strip() for s in strings):
                yield f"{lang}: no translation for {singular!r}"
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            expected = set().union(*(fields_of(i) for i in ids))
            for text in strings:
                if fields_of(text) - expected:
                    yield f"{lang}: {singular!r}: the translation uses fields the msgid has not: {text!r}"
                if text != unicodedata.normalize("NFC", text):
                    yield f"{lang}: {singular!r}: the translation is not NFC"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["extract", "update", "check"])
    args = parser.parse_args(argv)
    template = extract()
    if args.action == "extract":
        wrote = _write_if_changed(POT, render(_headers(template)))
        print(f"{POT.relative_to(ROOT)}: {len(keys(template))} messages{'' if wrote else ' (unchanged)'}")
        return 0
    if args.action == "update":
        for path in update(template):
            print(f"updated {path.relative_to(ROOT)}")
        found = list(problems(template))
        print(f"{len(found)} problem(s) left (translate the empty/fuzzy vi entries)" if found else "catalog complete")
        return 0
    found = list(problems(template))
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)" if found else "catalog complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
