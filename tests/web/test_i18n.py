"""The English catalogue is compiled at start-up; several app processes starting at once (gunicorn workers
after an upgrade that changed a .po file) must all start and leave one whole catalogue."""

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
