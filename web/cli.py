"""The `case56` command: Flask's CLI plus the commands operators need."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from engine import audit, monitoring, schema
from engine import timers as timer_service
from engine.check import check as check_database
from engine.check import warnings as check_warnings


def main() -> None:
    from web import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="case56 — hồ sơ bảo vệ trẻ em theo NĐ 56/2017/NĐ-CP")
    cli.main()


def init_app(app: Flask) -> None:
    from web import dossier_cli, engine, process_cli, records_cli, statistics_cli
    from web.extensions import db

    statistics_cli.init_app(app)  # `case56 report`
    dossier_cli.init_app(app)  # `case56 dossier`, `case56 dossier-batch`
    process_cli.init_app(app)  # `case56 process lint|versions|deploy|activate|migrate`
    records_cli.init_app(app)  # `case56 attachments …`, `case56 retention status`

    @app.cli.group("db", help="Cơ sở dữ liệu / database schema (Alembic).")
    def db_group() -> None:
        pass

    @db_group.command("upgrade", help="Apply migrations up to REVISION (default: head).")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        schema.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)
        click.echo(f"schema at {', '.join(schema.current(current_app.config['SQLALCHEMY_DATABASE_URI'])) or '-'}")

    @db_group.command("downgrade", help="Undo migrations down to REVISION (e.g. -1, or a revision id).",
                      context_settings={"ignore_unknown_options": True})  # so that `-1` is a revision
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        schema.downgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)
        click.echo(f"schema at {', '.join(schema.current(current_app.config['SQLALCHEMY_DATABASE_URI'])) or '-'}")

    @db_group.command("current", help="The revision the database is at; exit 1 when it is not the code's head.")
    def db_current() -> None:
        at = schema.current(current_app.config["SQLALCHEMY_DATABASE_URI"])
        heads = schema.current_heads(current_app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo(f"database: {', '.join(at) or '(empty)'}; code head: {', '.join(heads)}")
        if set(at) != set(heads):
            click.echo("not at head: run `case56 db upgrade`", err=True)
            sys.exit(1)

    @db_group.command("history", help="Every migration, newest first.")
    def db_history() -> None:
        for revision, down, doc in schema.history():
            click.echo(f"{down or '<base>'} -> {revision}  {doc}")

    @app.cli.command("tick", help="Fire due timers (deadlines, reminders) exactly once.")
    @click.option("--loop", is_flag=True, help="Keep running, every --interval seconds.")
    @click.option("--interval", default=30.0, show_default=True)
    def tick(loop: bool, interval: float) -> None:
        if loop:  # logs each batch (JSON on stderr) and survives database outages with backoff
            timer_service.run_forever(engine(), db.session.session_factory, interval)
            return
        engine().load_calendar(db.session)
        result = timer_service.tick(engine(), db.session)
        monitoring.beat(db.session, timer_service.worker_name(), result.fired, result.retried, result.incidents)
        click.echo(f"fired={result.fired} retried={result.retried} incidents={result.incidents}")
        for error in result.errors:
            click.echo(f"  {error}", err=True)

    @app.cli.group("audit", help="Nhật ký kiểm tra / audit trail.")
    def audit_group() -> None:
        pass

    @audit_group.command("verify", help="Check the hash chain of the audit trail.")
    def audit_verify() -> None:
        problems = audit.verify(db.session)
        if problems:
            for p in problems:
                click.echo(f"row {p.entry_id}: {p.message}", err=True)
            sys.exit(1)
        click.echo("audit chain intact")

    @app.cli.command("digest", help="Send the daily e-mail digest of overdue and due-soon tasks.")
    def digest() -> None:
        from web import notifications

        notifications.digest_command()

    @app.cli.command("check", help="Verify the database: workflows, task rows, timers, stranded cases, audit chain.")
    def check_command() -> None:
        for warning in check_warnings():
            click.echo(f"warning: {warning}", err=True)
        problems = 0
        for line in check_database(engine(), db.session):
            problems += 1
            click.echo(line, err=True)
        if problems:
            click.echo(f"{problems} problem(s) found", err=True)
            sys.exit(1)
        click.echo("database consistent")

    @app.cli.command("backup", help="Write the database and the attachment files to one .tar.gz.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(output: Path) -> None:
        from engine.backup import backup

        manifest = backup(db.session, output, Path(current_app.config["CASE56_ATTACHMENTS"]))
        rows = sum(t["rows"] for t in manifest["tables"].values())
        click.echo(f"{output}: {rows} rows, {len(manifest['attachments'])} attachments, "
                   f"audit head {manifest['audit_head'][:12]}")

    @app.cli.command("restore", help="Restore a backup into an empty database (migrated first), then verify it.")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def restore_command(archive: Path) -> None:
        from engine.backup import BackupError, restore

        schema.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
        try:
            manifest = restore(db.session, archive, Path(current_app.config["CASE56_ATTACHMENTS"]))
        except BackupError as exc:
            click.echo(f"restore refused or failed: {exc}", err=True)
            sys.exit(1)
        problems = list(check_database(engine(), db.session))
        for line in problems:
            click.echo(line, err=True)
        if problems:
            sys.exit(1)
        click.echo(f"restored {sum(t['rows'] for t in manifest['tables'].values())} rows and "
                   f"{len(manifest['attachments'])} attachments; identical to the backup; database consistent")

    @app.cli.command("create-admin", help="Tạo tài khoản quản trị đầu tiên / create an administrator account.")
    @click.argument("username")
    @click.option("--full-name", required=True)
    @click.option("--province-code", required=True, help="The province unit; created if it does not exist.")
    @click.option("--province-name", help="Its name, when it is created.")
    @click.password_option(help="Asked for (twice) when not given; at least 10 characters.")
    def create_admin(username: str, full_name: str, province_code: str, province_name: str | None,
                     password: str) -> None:
        from sqlalchemy import select
        from werkzeug.security import generate_password_hash

        from engine import clock
        from engine.models import OrgUnit, User

        if len(password) < 10:
            raise click.BadParameter("at least 10 characters", param_hint="password")
        if db.session.scalar(select(User).where(User.username == username)) is not None:
            raise click.BadParameter(f"{username} already exists", param_hint="username")
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == province_code))
        if unit is None:
            unit = OrgUnit(code=province_code, name=province_name or province_code, kind="province")
            db.session.add(unit)
        db.session.add(User(username=username, full_name=full_name, role="admin", org_unit=unit,
                            password_hash=generate_password_hash(password), created_at=clock.now()))
        audit.append(db.session, "system", "user_created", None, {"username": username, "role": "admin"})
        db.session.commit()
        click.echo(f"administrator {username} created in {unit.code}")

    @app.cli.command("demo", help="Set up the schema, seed demo data and serve the app.")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @click.option("--no-serve", is_flag=True, help="Only set up and seed.")
    def demo(host: str, port: int, no_serve: bool) -> None:
        from web import demo as demo_data

        schema.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
        created = demo_data.seed(db.session, engine())
        click.echo(demo_data.banner(created, f"http://{host}:{port}/"))
        if not no_serve:
            # Flask refuses app.run() inside a CLI command; serve with werkzeug directly (development server).
            from werkzeug.serving import run_simple

            run_simple(host, port, current_app._get_current_object(), use_reloader=False, threaded=True)
