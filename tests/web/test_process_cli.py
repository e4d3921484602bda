"""`case56 process lint|deploy|activate|versions|migrate`."""

from __future__ import annotations

from pathlib import Path

from engine import clock
from engine.models import Case
from tests.processes import variants
from web import demo
from web.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def test_lint_passes_the_shipped_process_and_names_a_broken_files_problem(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["process", "lint", str(ROOT / "processes" / "decree56.bpmn")])
    assert ok.exit_code == 0 and ok.output.strip().endswith("decree56.bpmn: OK")
    broken = tmp_path / "broken.bpmn"
    text = variants.broken()
    broken.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["process", "lint", "--lang", "en", str(broken)])
    assert result.exit_code == 1
    # named at the line of the step whose property is broken (counted here: the shipped file grows)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '<bpmn:userTask id="Task_verify"' in row)
    assert f"{broken}:{line}: [form] <Task_verify> no form 'verification_v9'" in result.output


def test_deploy_activate_and_migrate_from_the_command_line(app, tmp_path):
    runner = app.test_cli_runner()
    with app.app_context():
        people = demo.cast(db.session)
        engine = app.config["CASE56_ENGINE"]
        old = engine.open_case(db.session, people.actors["tiepnhan"], "T01-X01", demo.sample("mau_01", clock.now()))
        number = old.number
    v2 = tmp_path / "decree56-v2.bpmn"
    v2.write_text(variants.renamed_and_extended(), encoding="utf-8")
    deployed = runner.invoke(args=["process", "deploy", str(v2), "--by", "quantri"])
    assert deployed.exit_code == 0, deployed.output
    assert "+ step Task_closing_note" in deployed.output and "~ step Task_verify title_vi" in deployed.output
    version = int(deployed.output.split()[1])
    listed = runner.invoke(args=["process", "versions"])
    assert "* " in listed.output and f"  {version}  decree56_case  decree56-v2.bpmn" in listed.output
    assert runner.invoke(args=["process", "activate", str(version)]).exit_code == 0
    assert runner.invoke(args=["process", "activate", str(version)]).exit_code == 1  # already active

    bad_map = runner.invoke(args=["process", "migrate", "--to", str(version), "--case", number, "--map", "oops"])
    assert bad_map.exit_code == 2 and "OLD=NEW" in bad_map.output
    unknown = runner.invoke(args=["process", "migrate", "--to", str(version), "--case", "NOPE"])
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    migrated = runner.invoke(args=["process", "migrate", "--to", str(version), "--case", number])
    assert migrated.exit_code == 0 and f"{number}: migrated (1 open step(s))" in migrated.output
    with app.app_context():
        assert db.session.query(Case).filter_by(number=number).one().process_version_id == version
    assert runner.invoke(args=["check"]).exit_code == 0

    refused = tmp_path / "broken.bpmn"
    refused.write_text(variants.broken(), encoding="utf-8")
    result = runner.invoke(args=["process", "deploy", str(refused)])
    assert result.exit_code == 1 and "nothing was saved" in result.output
