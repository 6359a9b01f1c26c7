"""Packaging: sohoa installs one namespace, ``sohoa.*``, and nothing else at the top of site-packages.

Why: the source keeps generic top-level folder names (``config``, ``records``, ``web``); installed as such
they would collide with PyPI packages of the same names. pyproject maps each folder to ``sohoa.<name>``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_only_the_namespace_is_importable_outside_the_source_tree(tmp_path: Path) -> None:
    probe = ("import importlib, sys\n"
             "import sohoa.config, sohoa.cli.main, sohoa.records, sohoa.runners.watch.daemon\n"
             "for name in ('config', 'common', 'pipeline', 'records', 'signing', 'stages', 'watch_folders',\n"
             "             'web', 'runners', 'database', 'cli', 'bench'):\n"
             "    try:\n"
             "        importlib.import_module(name)\n"
             "    except ImportError:\n"
             "        continue\n"
             "    print('importable:', name); sys.exit(1)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_source_package_is_listed_for_the_wheel() -> None:
    config = _pyproject()["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for name, folder in config["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *relative.parts]))
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"


@pytest.mark.slow
def test_the_wheel_installs_only_sohoa(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building in place would leave build/ in the working tree
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "var", "build", "*.egg-info",
                                                               "__pycache__", "results", "tests", "bench",
                                                               ".bench-*"))  # benchmark data dirs (.gitignore)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("sohoa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"sohoa"}, top
    assert not any(n.startswith("sohoa/__init__") for n in names), "sohoa must stay a namespace package"
    for needed in ("sohoa/web/templates/base.html", "sohoa/web/static/style.css", "sohoa/config/default.toml",
                   "sohoa/database/migrations/script.py.mako", "sohoa/cli/__main__.py",
                   "sohoa/common/locale/vi/LC_MESSAGES/sohoa.po", "sohoa/common/locale/en/LC_MESSAGES/sohoa.po"):
        assert needed in names, needed
    dist_info = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(dist_info).decode().split() == ["sohoa"]
