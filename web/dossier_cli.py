"""`case56 dossier` and `case56 dossier-batch`: the case dossier PDF from the command line.

    case56 dossier T01-X01-2026-0001 -o hoso.pdf [--redact] [--lang en]     (CASE: the case number or its id)
    case56 dossier-batch --from 01/01/2026 --to 31/03/2026 -o thu-muc/ [--redact] [--lang en]

The batch exports every case closed in the period (dates dd/mm/yyyy, Vietnam time, both days included), one
file per case named by its number, with a progress bar. The command line is an operator with shell access to
the server: it reads with a national inspector's scope. Every export is written to the audit trail with the
actor "cli" (and the operating-system user in the details).
"""

from __future__ import annotations

import getpass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, clock, restriction, stamp
from engine.errors import EngineError
from engine.models import Case
from web.pdf import dossier
from web.pdf.toolkit import FontMissing

CLI_ACTOR = access.Actor("cli", "inspector")


def parse_day(value: str, option: str) -> date:
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise click.BadParameter(f"ngày phải có dạng dd/mm/yyyy, ví dụ 31/03/2026 / a date as dd/mm/yyyy: {value!r}",
                                 param_hint=option) from None


def find_case(session: Session, ref: str) -> Case:
    """The case by its number, or else by its id."""
    ref = ref.strip()
    case = session.scalar(select(Case).where(Case.number == ref))
    if case is None and ref.isdigit() and int(ref) < 2**31:
        case = session.get(Case, int(ref))
    if case is None:
        raise click.ClickException(f"Không tìm thấy hồ sơ {ref!r}. / No case {ref!r}.")
    return case


def export(session: Session, case: Case, path: Path, redact: bool, lang: str, batch: bool = False,
           level: str | None = None, recipients: str | None = None) -> int:
    """Write one dossier with its confidentiality stamp and audit it; returns its size in bytes (0: not written,
    the case's processing is restricted: no copy leaves meanwhile, engine.restriction)."""
    restricted = restriction.active(session, case.id)
    if restricted is not None:
        refusal = restriction.refusal(restricted)
        if not batch:
            raise click.ClickException(f"{refusal.message('vi')} / {refusal.message('en')}")
        click.echo(f"\n{case.number}: {refusal.message('vi')}", err=True)
        return 0
    try:
        mark = stamp.choose("dossier_redacted" if redact else "dossier", level, recipients, lang)
    except EngineError as exc:
        raise click.UsageError(f"{exc.message('vi')} / {exc.message('en')}") from None
    try:
        pdf = dossier.build(session, case.id, dossier.Options(redact=redact, actor=CLI_ACTOR, stamp=mark,
                                                              generated_by="case56 cli"), locale=lang)
    except FontMissing as exc:
        raise click.ClickException(str(exc)) from None
    path.write_bytes(pdf)
    audit.append(session, CLI_ACTOR.username, "dossier_downloaded", case.id,
                 {"role": CLI_ACTOR.role, "redact": redact, "lang": lang, "via": "cli", "batch": batch,
                  "bytes": len(pdf), "file_name": path.name, "os_user": getpass.getuser(), **mark.audit()})
    session.commit()
    return len(pdf)


def init_app(app: Flask) -> None:
    from web.extensions import db

    lang_option = click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                               help="Ngôn ngữ hồ sơ / language of the dossier.")
    redact_option = click.option("--redact", is_flag=True,
                                 help="Bản ẩn thông tin để cung cấp ra ngoài xã: chỉ dữ liệu cơ bản và nội dung được "
                                      "đánh dấu được phép cung cấp / the copy shared outside the commune: basic data "
                                      "and texts marked releasable only.")
    level_option = click.option("--level", type=click.Choice(list(stamp.CASE_LEVELS)), default=None,
                                help="Mức độ mật / confidentiality level (mặc định/default: mat; han_che if --redact).")
    recipients_option = click.option("--recipients", default=None,
                                     help="Phạm vi cung cấp / who may receive it (printed on every page).")

    @app.cli.command("dossier", help="Xuất hồ sơ PDF của một vụ việc / export one case dossier (PDF).")
    @click.argument("case_ref", metavar="CASE")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
                  help="Tệp PDF / the PDF file to write.")
    @redact_option
    @level_option
    @recipients_option
    @lang_option
    def dossier_command(case_ref: str, output: Path, redact: bool, level: str | None, recipients: str | None,
                        lang: str) -> None:
        case = find_case(db.session, case_ref)
        size = export(db.session, case, output, redact, lang, level=level, recipients=recipients)
        click.echo(f"{case.number}: {output} ({size // 1024} KB)")

    @app.cli.command("dossier-batch",
                     help="Xuất hồ sơ PDF của mọi vụ việc đã đóng trong kỳ / export the dossiers of every case "
                          "closed in a period.")
    @click.option("--from", "start", required=True, metavar="DD/MM/YYYY", help="Từ ngày / first day.")
    @click.option("--to", "end", required=True, metavar="DD/MM/YYYY", help="Đến ngày / last day (included).")
    @click.option("-o", "--output", required=True,
                  type=click.Path(file_okay=False, path_type=Path), help="Thư mục / the folder to write into.")
    @redact_option
    @level_option
    @recipients_option
    @lang_option
    def dossier_batch(start: str, end: str, output: Path, redact: bool, level: str | None, recipients: str | None,
                      lang: str) -> None:
        first, last = parse_day(start, "--from"), parse_day(end, "--to")
        if first > last:
            raise click.UsageError("--from phải không sau --to / --from must not be after --to.")
        since = datetime.combine(first, time.min, clock.LOCAL_TZ)
        until = datetime.combine(last + timedelta(days=1), time.min, clock.LOCAL_TZ)
        ids = list(db.session.scalars(
            select(Case.id).where(Case.closed_at >= since, Case.closed_at < until).order_by(Case.closed_at, Case.id)))
        output.mkdir(parents=True, exist_ok=True)
        total = 0
        with click.progressbar(ids, label=f"Xuất {len(ids)} hồ sơ / exporting", show_pos=True) as bar:
            for case_id in bar:
                case = db.session.get(Case, case_id)
                total += export(db.session, case, output / f"{case.number}.pdf", redact, lang, batch=True, level=level,
                                recipients=recipients)
                db.session.expunge_all()  # one case's rows at a time, however long the period
        click.echo(f"{len(ids)} hồ sơ / dossiers → {output} ({total // 1024} KB)")
