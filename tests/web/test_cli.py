"""The operator commands: audit verify names an edited row; tick fires due timers."""

from datetime import timedelta

from sqlalchemy import select, text

from engine import clock
from engine.models import Task
from web import demo
from web.extensions import db


def test_audit_verify_passes_then_names_the_edited_row(app, case_engine):
    runner = app.test_cli_runner()
    with app.app_context():
        people = demo.cast(db.session)
        case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain intact" in result.output
    with app.app_context():
        db.session.execute(text("UPDATE audit SET details = '{}' WHERE id = 2"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "row 2: content was changed after it was written" in result.output


def test_tick_command_escalates_a_late_step(app, case_engine):
    runner = app.test_cli_runner()
    with app.app_context():
        people = demo.cast(db.session)
        report = demo.sample("mau_01", clock.now())
        case = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", report)
        case_id = case.id
    import time_machine

    with time_machine.travel(clock.now() + timedelta(hours=13), tick=False):
        result = runner.invoke(args=["tick"])
    assert result.exit_code == 0 and "fired=" in result.output
    with app.app_context():
        steps = set(db.session.scalars(select(Task.step).where(Task.case_id == case_id)))
    assert "escalate_verify" in steps


def test_cli_backup_and_restore(app, case_engine, tmp_path):
    runner = app.test_cli_runner()
    from web.extensions import db

    with app.app_context():
        people = demo.cast(db.session)
        case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
    archive = tmp_path / "cli.tar.gz"
    result = runner.invoke(args=["backup", "-o", str(archive)])
    assert result.exit_code == 0 and "rows" in result.output, result.output
    
    from web import create_app

    target = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli-restored.sqlite3'}",
                         "CASE56_ENGINE": case_engine, "CASE56_ATTACHMENTS": str(tmp_path / "att"),
                         "SECRET_KEY": "x" * 40})
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "identical to the backup; database consistent" in result.output


def test_check_names_a_stranded_case_and_fails(app, case_engine):
    runner = app.test_cli_runner()
    with app.app_context():
        people = demo.cast(db.session)
        case = case_engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01",
                                     demo.sample("mau_01", clock.now()))
        demo.drive(case_engine, db.session, case, people, stop_at="carry_out_activity")
        number = case.number
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0 and "database consistent" in result.output, result.output
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET active = false WHERE username = 'yte'"))
        db.session.commit()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert f"case {number}" in result.output and "stranded" in result.output and "“yte” is deactivated" in result.output
