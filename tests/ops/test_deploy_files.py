"""The files in deploy/ are what an operator installs: the systemd units pass `systemd-analyze verify`
(skipped, with the reason printed, where systemd is not installed), and every variable of the environment
template is one the app, gunicorn's settings or a unit actually reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("\nskipped: systemd-analyze is not installed on this machine (package systemd)")
        pytest.skip("systemd-analyze is not installed (package systemd)")
    bin_dir = Path(sys.executable).parent  # the units' /opt/case56/venv/bin, here: executables must exist
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/case56/venv/bin", str(bin_dir)))
    (tmp_path / "case56-tick@1.service").write_text((tmp_path / "case56-tick@.service").read_text())
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != "case56-tick@.service")
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr + result.stdout
    assert {"case56-web.service", "case56-tick@1.service", "case56-digest.timer", "case56-check.timer",
            "case56-backup.timer"} <= set(names)


def test_every_timer_has_its_service_and_every_service_reads_the_environment_file():
    for timer in UNITS.glob("*.timer"):
        assert (UNITS / timer.name.replace(".timer", ".service")).exists(), timer.name
    for service in UNITS.glob("*.service"):
        text = service.read_text()
        assert "EnvironmentFile=/etc/case56/case56.env" in text and "User=case56" in text, service.name


def test_environment_template_names_only_variables_that_are_read():
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / "deploy/case56.env").read_text(), re.M)
    sources = "".join(p.read_text() for p in [ROOT / "web/config.py", ROOT / "web/gunicorn_conf.py",
                                               *UNITS.glob("*.service")])
    unread = [n for n in names if f'"{n}"' not in sources and f"${n}" not in sources and f"${{{n}}}" not in sources]
    assert unread == []
