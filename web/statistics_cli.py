"""`case56 report`: the periodic report's figures from the command line (table, CSV, XLSX or PDF).

    case56 report --period 2026-H1 [--province T01] [--commune T01-X01] [--format table|csv|xlsx|pdf] [-o FILE]
    case56 report --from 2026-01-01 --to 2026-03-31 --user giamsat

The figures are the page's (engine.statistics, the same sections and exports as web/exports.py).
Without --user the report is made with a national read-only scope (an operator with shell access to the
server); with --user it is made within that user's scope and permissions. Every run is audited.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from engine import access, stamp
from engine import statistics as st
from engine.errors import EngineError
from engine.models import User


def _actor(session: Any, username: str | None) -> access.Actor:
    if not username:
        return access.Actor(f"cli:{getpass.getuser()}", "inspector")
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None or not user.active:
        raise click.UsageError(f"Không có người dùng {username!r} đang hoạt động. / No active user {username!r}.")
    return access.Actor.of(user.username, user.role, user.org_unit, user.id)


def text_table(header: list[str], rows: list[list[Any]], numeric_from: int) -> str:
    """A plain fixed-width table for a terminal."""
    cells = [header] + [["—" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(v.rjust(w) if i >= numeric_from else v.ljust(w)
                         for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def render_text(report: st.Report, language: str) -> str:
    from web.exports import meta, notes, sections

    parts = [f"{label}: {value}" for label, value in meta(report, language)]
    for section in sections(report, language):
        parts += ["", section.title, text_table(section.header, section.rows, section.numeric_from)]
    parts += [""] + [f"* {note}" for note in notes(report, language)]
    return "\n".join(parts) + "\n"


def init_app(app: Flask) -> None:
    @app.cli.command("report", help="Số liệu báo cáo định kỳ / periodic report figures (Thông tư 13/2021, NĐ 56).")
    @click.option("--period", "period_id", help="2026-H1, 2026-H2, 2026-Y, 2026-Q1…Q4 (default: current half-year).")
    @click.option("--from", "start", help="First day (yyyy-mm-dd or dd/mm/yyyy), with --to instead of --period.")
    @click.option("--to", "end", help="Last day, inclusive.")
    @click.option("--province", help="Province code, e.g. T01.")
    @click.option("--commune", help="Commune code, e.g. T01-X01.")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "pdf"]), default="table",
                  show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write to this file (required for xlsx and pdf unless stdout is not a terminal).")
    @click.option("--user", "username", help="Make the report within this user's scope.")
    @click.option("--locale", "language", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
    @click.option("--level", type=click.Choice(list(stamp.REPORT_LEVELS)), default=None,
                  help="Mức độ mật / confidentiality level of the file (default: noi_bo).")
    @click.option("--recipients", default=None, help="Phạm vi cung cấp / who may receive it (printed on the file).")
    def report_command(period_id: str | None, start: str | None, end: str | None, province: str | None,
                       commune: str | None, fmt: str, output: Path | None, username: str | None,
                       language: str, level: str | None, recipients: str | None) -> None:
        from web import engine
        from web.exports import audit_export, export
        from web.extensions import db

        session = db.session
        actor = _actor(session, username)
        try:
            scope = st.resolve_scope(session, actor, province, commune)
            period = st.resolve_period(period_id, start, end, scope.province.code if scope.province else None)
            result = st.report(session, actor, period, province, commune,
                               steps=st.step_titles(engine().registry.current))
        except EngineError as exc:
            raise click.ClickException(exc.message(language)) from None
        try:
            mark = stamp.choose("report", level, recipients, language)
        except EngineError as exc:
            raise click.UsageError(exc.message(language)) from None
        with force_locale(language):
            body: bytes = (render_text(result, language).encode("utf-8") if fmt == "table"
                           else export(result, fmt, language, made_by="", mark=mark))
        if fmt in {"xlsx", "pdf"} and output is None and sys.stdout.isatty():
            raise click.UsageError("--format xlsx/pdf needs -o FILE (binary output).")
        if output is not None:
            output.write_bytes(body)
            click.echo(f"{output} ({len(body)} bytes)", err=True)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
        audit_export(session, actor.username, result, fmt, "cli", mark)
