"""The configured exporter of the national children database export (engine.national_db), shared by the pages
and the API: CASE56_NATIONAL_DB_EXPORTER names it ("download" by default; "directory" with
CASE56_NATIONAL_DB_DIR; or "package.module:Class")."""

from __future__ import annotations

from flask import current_app

from engine import national_db


def exporter() -> national_db.Exporter:
    name = current_app.config.get("CASE56_NATIONAL_DB_EXPORTER") or "download"
    if name == "directory":
        return national_db.exporter(name, directory=current_app.config.get("CASE56_NATIONAL_DB_DIR") or "")
    return national_db.exporter(name)


FORMATS = {"json": "application/json", "csv": "text/csv"}
