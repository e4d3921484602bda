"""English catalogue: each UI area keeps its translations in `web/translations/en/<area>.po`
(Vietnamese msgids, English msgstrs); they are merged and compiled to the one `messages.mo` Flask-Babel
reads, at start-up when any .po is newer than the compiled file — so a fresh clone needs no build step.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_catalogs(root: Path = TRANSLATIONS) -> None:
    for lang_dir in (p for p in root.iterdir() if p.is_dir()):
        sources = sorted(lang_dir.glob("*.po"))
        target = lang_dir / "LC_MESSAGES" / "messages.mo"
        if not sources or (target.exists() and target.stat().st_mtime >= max(p.stat().st_mtime for p in sources)):
            continue
        merged = Catalog(locale=lang_dir.name)
        for source in sources:
            with source.open("rb") as handle:
                for message in read_po(handle, locale=lang_dir.name):
                    if message.id and message.string:
                        merged.add(message.id, message.string)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Several app processes (gunicorn workers) may compile at once: each writes its own file and renames
        # it over the target, which is atomic, so every reader sees a whole catalogue.
        tmp = target.with_name(f"messages.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as handle:
                write_mo(handle, merged)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
