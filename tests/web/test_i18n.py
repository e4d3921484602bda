"""The English catalogue: every message in the source has an English translation; compiling is atomic (several
compiles at once leave one whole catalogue); starting the app never writes it."""

from __future__ import annotations

import gettext
import shutil
import threading

from web.i18n import TRANSLATIONS, compile_catalogs


def test_concurrent_compiles_all_succeed_and_leave_a_whole_catalogue(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, root, ignore=shutil.ignore_patterns("*.mo"))
    start, errors = threading.Barrier(8), []

    def compile_once() -> None:
        start.wait()
        try:
            compile_catalogs(root)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=compile_once) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    folder = root / "en" / "LC_MESSAGES"
    assert [p.name for p in folder.iterdir()] == ["messages.mo"]  # no temporary file left behind
    with (folder / "messages.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    assert catalogue.gettext("Lỗi hệ thống") == "System error"
    assert catalogue.gettext("Hơn %(n)s hồ sơ") == "More than %(n)s cases"


def test_every_message_is_translated(tmp_path):
    from web.i18n import extract, untranslated

    pot = extract(tmp_path / "messages.pot")
    assert len(pot.read_text().split("msgid ")) > 500  # babel.cfg found the sources
    assert untranslated(pot) == []

