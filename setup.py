"""Compiles the translations into the built package (the wheel ships messages.mo; nothing is written at run
time). Everything else is in pyproject.toml."""

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # a checkout compiles in place: `make catalogs`
            return
        # web/i18n.py alone (Babel only): importing the web package would need Flask in the build environment.
        spec = importlib.util.spec_from_file_location("case56_i18n", HERE / "web" / "i18n.py")
        i18n = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(i18n)
        i18n.compile_catalogs(HERE / "web" / "translations", Path(self.build_lib) / "web" / "translations")


setup(cmdclass={"build_py": BuildWithCatalogs})
