"""`case56 process …`: lint a BPMN file, deploy and activate versions, migrate running cases."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from lxml import etree
from sqlalchemy import select

from engine import access, case_migration, lint, versions
from engine.errors import EngineError
from engine.models import Case


def _lint_one(path: Path) -> list[lint.Finding]:
    """The case process against processes/deadlines.toml and the case roles; a data subject's request process
    (processes/privacy/data_request.bpmn) against its own limits and the administrator's lane."""
    from engine import data_requests
    from web import engine

    raw = path.read_bytes()
    try:
        process_id = lint.executable_process_id(lint.parse(raw))
    except etree.XMLSyntaxError:
        process_id = None  # lint reports it
    if process_id == data_requests.PROCESS_ID:
        return lint.lint(raw, path.name, data_requests.of(engine()).rules, data_requests.ROLES)
    return lint.lint(raw, path.name, engine().rules)


def init_app(app: Flask) -> None:
    from web import engine
    from web.extensions import db

    @app.cli.group("process", help="Quy trình BPMN: kiểm tra, triển khai, chuyển hồ sơ / lint, deploy, migrate.")
    def process_group() -> None:
        pass

    @process_group.command("lint", help="Check BPMN files against case56's rules; exit 1 on any finding.")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
    def lint_command(files: tuple[Path, ...], lang: str) -> None:
        total = 0
        for path in files:
            findings = _lint_one(path)
            total += len(findings)
            for finding in findings:
                click.echo(finding.text(str(path), lang))
            if not findings:
                click.echo(f"{path}: OK")
        if total:
            click.echo(f"{total} problem(s)", err=True)
            sys.exit(1)

    @process_group.command("versions", help="Every recorded process version; * marks the national one, and "
                                            "where new cases open on each (national, province codes).")
    def versions_command() -> None:
        active = versions.active_version(engine(), db.session)
        db.session.commit()
        where: dict[int, list[str]] = {}
        for scope in versions.scopes(engine(), db.session):
            where.setdefault(scope.version_id, []).append(scope.province.code if scope.province else "national")
        for row in versions.versions(db.session):
            mark = "*" if row.id == active.id else " "
            click.echo(f"{mark} {row.id:>4}  {row.process_id}  {row.file_name}  {row.content_hash[:12]}  "
                       f"{row.source}  activated {row.activated_at or '-'} by {row.activated_by or '-'}"
                       f"{'  active in ' + ', '.join(where[row.id]) if row.id in where else ''}")

    @process_group.command("deploy", help="Upload FILE as a new version: lint, then show the diff against the "
                                          "active version; --activate makes new cases use it.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--activate", "do_activate", is_flag=True)
    @click.option("--by", "actor", default="cli", show_default=True, help="Name recorded in the audit trail.")
    def deploy_command(file: Path, do_activate: bool, actor: str) -> None:
        try:
            uploaded = versions.upload(engine(), db.session, actor, file.read_bytes(), file.name)
        except versions.UploadRefused as exc:
            click.echo(f"refused: {exc.message_en}", err=True)
            for finding in exc.findings:
                click.echo(finding.text(file.name, "en"), err=True)
            sys.exit(1)
        row = uploaded.version
        click.echo(f"version {row.id} ({row.content_hash[:12]}){' already recorded' if uploaded.existed else ''}")
        change = versions.diff_against_active(engine(), db.session, row.id)
        db.session.commit()
        _echo_diff(change)
        if do_activate:
            _activate(row.id, actor)

    @process_group.command("activate", help="New cases open on VERSION from now on (running cases keep theirs): "
                                            "in the whole country, or with --province CODE only in that province.")
    @click.argument("version", type=int)
    @click.option("--province", "province", help="Province code: the province's own version (a variant).")
    @click.option("--by", "actor", default="cli", show_default=True)
    def activate_command(version: int, province: str | None, actor: str) -> None:
        _activate(version, actor, province)

    def _activate(version_id: int, actor: str, province: str | None = None) -> None:
        try:
            row = versions.activate(engine(), db.session, actor, version_id, province)
        except EngineError as exc:
            click.echo(f"refused: {exc.message_en}", err=True)
            sys.exit(1)
        where = f"province {province.strip().upper()}" if province else "the whole country"
        click.echo(f"version {row.id} is active in {where}: new cases there open on it")

    @process_group.command("national", help="The province's new cases open on the national version again "
                                            "(its own version is no longer used for new cases).")
    @click.option("--province", "province", required=True, help="Province code.")
    @click.option("--by", "actor", default="cli", show_default=True)
    def national_command(province: str, actor: str) -> None:
        try:
            unit = versions.follow_national(engine(), db.session, actor, province)
        except EngineError as exc:
            click.echo(f"refused: {exc.message_en}", err=True)
            sys.exit(1)
        click.echo(f"province {unit.code} follows the national version")

    @process_group.command("migrate", help="Move open cases to VERSION (by case number, or every open case of "
                                           "--from VERSION); --map OLD=NEW for renamed elements.")
    @click.option("--to", "target", type=int, required=True)
    @click.option("--case", "numbers", multiple=True, help="Case number (repeatable).")
    @click.option("--from", "source", type=int, help="Every open case on this version.")
    @click.option("--map", "mappings", multiple=True, help="OLD_ID=NEW_ID (repeatable).")
    @click.option("--by", "actor", default="cli", show_default=True)
    def migrate_command(target: int, numbers: tuple[str, ...], source: int | None, mappings: tuple[str, ...],
                        actor: str) -> None:
        try:
            mapping = case_migration.parse_mapping("\n".join(mappings))
        except ValueError as exc:
            raise click.BadParameter(f"not OLD=NEW: {exc}", param_hint="--map") from None
        ids = list(db.session.scalars(select(Case.id).where(Case.number.in_(numbers)))) if numbers else []
        if len(ids) != len(set(numbers)):
            found = set(db.session.scalars(select(Case.number).where(Case.id.in_(ids))))
            raise click.BadParameter(f"no case {', '.join(sorted(set(numbers) - found))}", param_hint="--case")
        if source is not None:
            ids += case_migration.open_case_ids(db.session, source)
        if not ids:
            raise click.UsageError("name cases with --case or --from")
        try:
            outcomes = case_migration.migrate(engine(), db.session, access.Actor(actor, "admin", None, None, None),
                                              sorted(set(ids)), target, mapping)
        except EngineError as exc:
            click.echo(f"refused: {exc.message_en}", err=True)
            sys.exit(1)
        refused = 0
        for outcome in outcomes:
            if outcome.migrated:
                click.echo(f"{outcome.number}: migrated ({len(outcome.moved)} open step(s))")
            else:
                refused += 1
                click.echo(f"{outcome.number}: refused: {outcome.reason_en}", err=True)
        if refused:
            sys.exit(1)


def _echo_diff(change: versions.Diff) -> None:
    if change.empty:
        click.echo("no change to steps, timers or forms")
    for name in change.steps_added:
        click.echo(f"+ step {name}")
    for name in change.steps_removed:
        click.echo(f"- step {name}")
    for name, attr, old, new in change.steps_changed:
        click.echo(f"~ step {name} {attr}: {old!r} -> {new!r}")
    for name, old_rule, new_rule in change.timers:
        click.echo(f"~ timer of {name}: {old_rule or '-'} -> {new_rule or '-'}")
    for form in change.forms_added:
        click.echo(f"+ form {form}")
    for form in change.forms_removed:
        click.echo(f"- form {form}")
