"""English catalogue: each UI area keeps its translations in `web/translations/en/<area>.po` (Vietnamese
msgids, English msgstrs); they are merged and compiled to the one `messages.mo` Flask-Babel reads.

Compiled when the package is built (setup.py's build_py) and by `make` in a checkout — never when the app
starts: an installed package may be read-only to the user who runs it. The cycle (`make translations`):

    python -m web.i18n extract   source → web/translations/messages.pot (babel.cfg says where to look)
    python -m web.i18n update    new msgids → en/new.po with an empty msgstr, for a translator to fill in
    python -m web.i18n compile   en/*.po → en/LC_MESSAGES/messages.mo
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
PROJECT = TRANSLATIONS.parents[1]
POT = TRANSLATIONS / "messages.pot"


CONTEXT_SEPARATOR = "\x04"  # gettext's own key for a message with a context: "context\x04msgid"


def _key(message: Any) -> str:
    """A message's key: its msgid, or "context\x04msgid" when it has a msgctxt (pgettext)."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return f"{message.context}{CONTEXT_SEPARATOR}{msgid}" if message.context else msgid


def translated(lang_dir: Path) -> dict[str, str]:
    """key (msgid, or "context\x04msgid") → msgstr of every translated message of a language's .po files."""
    out: dict[str, str] = {}
    for source in sorted(lang_dir.glob("*.po")):
        with source.open("rb") as handle:
            for message in read_po(handle, locale=lang_dir.name):
                if message.id and message.string:
                    # The first file (in name order) wins when two areas translate one msgid, as Babel's
                    # catalogue merge always did. One Vietnamese text with two meanings (the button "Lưu nháp",
                    # the audit trail's "draft saved") takes a context instead: pgettext("audit", …).
                    out.setdefault(_key(message),
                                   message.string if isinstance(message.string, str) else message.string[0])
    return out


def compile_catalogs(root: Path = TRANSLATIONS, target_root: Path | None = None) -> list[Path]:
    """Merge each language's .po files into LC_MESSAGES/messages.mo under `target_root` (default: `root`)."""
    written = []
    for lang_dir in (p for p in root.iterdir() if p.is_dir()):
        if not list(lang_dir.glob("*.po")):
            continue
        merged = Catalog(locale=lang_dir.name)
        for key, msgstr in translated(lang_dir).items():
            context, _sep, msgid = key.rpartition(CONTEXT_SEPARATOR)
            merged.add(msgid, msgstr, context=context or None)
        target = (target_root or root) / lang_dir.name / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed over the target (atomic): a running app never reads half a catalogue.
        tmp = target.with_name(f"messages.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as handle:
                write_mo(handle, merged)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
    return written


def extract(pot: Path = POT) -> Path:
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "-q", "extract", "-F", str(PROJECT / "babel.cfg"), "-k", "_l", "-k",
                    "lazy_gettext", "--no-location", "--sort-output", "-o", str(pot), "."], cwd=PROJECT, check=True)
    return pot


def untranslated(pot: Path = POT, lang: str = "en") -> list[str]:
    have = translated(TRANSLATIONS / lang)
    with pot.open("rb") as handle:
        ids = [_key(m) for m in read_po(handle) if m.id]
    return [i for i in ids if i not in have]


def update(pot: Path = POT, lang: str = "en") -> list[str]:
    """Append the template's untranslated msgids to <lang>/new.po (kept if already there)."""
    missing = untranslated(pot, lang)
    target = TRANSLATIONS / lang / "new.po"
    catalog = Catalog(locale=lang)
    if target.exists():
        with target.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
    for key in missing:
        context, _sep, msgid = key.rpartition(CONTEXT_SEPARATOR)
        if catalog.get(msgid, context=context or None) is None:
            catalog.add(msgid, "", context=context or None)
    if missing:
        with target.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, no_location=True)
    return missing


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        print(extract())
    elif command == "update":
        missing = update()
        print(f"{len(missing)} message(s) to translate" + (" in web/translations/en/new.po" if missing else ""))
    elif command == "compile":
        for path in compile_catalogs():
            print(path)
    else:
        print("usage: python -m web.i18n extract|update|compile", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
