"""Packaging as an operator installs it: the wheel is built from the tracked sources (so no catalogue compiled
in the checkout can leak in), installed into a fresh root-owned venv, and run by another user (nobody) from
outside the repository: `case56 demo --no-serve`, `check` and `dossier` work and nothing is written into the
package. Dependencies come from the project's venv (added to the path, not installed) to stay offline-fast."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_wheel_installed_in_a_fresh_venv_runs_as_another_user():
    work = Path(tempfile.mkdtemp(prefix="case56-wheel-"))
    try:
        work.chmod(0o755)
        files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                               check=True, capture_output=True).stdout.decode().split("\0")
        src = work / "src"
        for name in filter(None, files):
            if (ROOT / name).is_file() and not name.startswith(("tests/", "bench/", "docs/")):
                (src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, src / name)
        assert not list(src.rglob("*.mo"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(src)],
                       check=True, capture_output=True, timeout=300)
        [wheel] = (work / "dist").glob("case56-*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        assert "web/translations/en/LC_MESSAGES/messages.mo" in names  # compiled by the build
        assert "engine/migrations/env.py" in names and "web/gunicorn_conf.py" in names

        venv = work / "venv"
        # The system's Python when it is the same version: another user may not reach a Python under /root.
        system = shutil.which("python3", path="/usr/bin:/bin")
        same = system and subprocess.run([system, "-c", "import sys; print(sys.version_info[:2])"],
                                         capture_output=True, text=True).stdout.strip() == str(sys.version_info[:2])
        subprocess.run([system if same else sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                       timeout=120)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q",
                        "--no-deps", str(wheel)], check=True, capture_output=True, timeout=300)
        site = Path(subprocess.run([str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                    "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
        (site / "zz_case56_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        before = sorted(p.relative_to(venv) for p in venv.rglob("*") if "__pycache__" not in p.parts)

        home = work / "home"
        home.mkdir()
        as_root = os.geteuid() == 0
        if as_root:
            shutil.chown(home, "nobody")
            prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        else:  # a developer's run: the venv is made read-only instead
            subprocess.run(["chmod", "-R", "a-w", str(venv)], check=True)
            prefix = []
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "DATABASE_URL": f"sqlite:///{home / 'case56.sqlite3'}"}

        def run(*args: str) -> str:
            done = subprocess.run([*prefix, str(venv / "bin/case56"), *args], cwd=home, env=env, capture_output=True,
                                  text=True, timeout=300)
            assert done.returncode == 0, f"case56 {' '.join(args)}: {done.stdout[-1500:]}{done.stderr[-3000:]}"
            return done.stdout

        run("demo", "--no-serve")
        assert "database consistent" in run("check")
        web_file = subprocess.run([*prefix, str(venv / "bin/python"), "-c", "import web; print(web.__file__)"],
                                  cwd=home, env=env, capture_output=True, text=True, check=True).stdout
        assert web_file.startswith(str(site)), web_file  # the installed package, not the checkout
        number = subprocess.run([*prefix, "python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1])"
                                 ".execute('select number from case_file order by id limit 1').fetchone()[0])",
                                 str(home / "case56.sqlite3")], env=env, capture_output=True, text=True,
                                check=True).stdout.strip()
        run("dossier", number, "-o", str(home / "dossier.pdf"))
        assert (home / "dossier.pdf").read_bytes()[:5] == b"%PDF-"
        after = sorted(p.relative_to(venv) for p in venv.rglob("*") if "__pycache__" not in p.parts)
        assert after == before  # nothing written into the installed package at run time
        print(f"\nwheel {wheel.name} ({wheel.stat().st_size // 1024} KiB) ran demo, check, dossier "
              f"as {'nobody' if as_root else 'the current user with a read-only venv'}")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(work)], check=False)
        shutil.rmtree(work, ignore_errors=True)
