"""`pip install '<clone>[cli]'` as the README says, into a fresh venv: every command's --help
and one real call. Nothing is downloaded: the venv sees this machine's already installed
third-party packages (as `make setup`'s chained venv does), so pip finds every requirement
satisfied and only builds and installs the project itself, console script included."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset, write_local
from tests.support.helpers import ROOT
from yolo_pipeline.cli.main import COMMANDS

pytestmark = pytest.mark.integration


def test_the_cli_extra_leaves_the_training_stack_out() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    cli = " ".join(project["optional-dependencies"]["cli"] + project["dependencies"])
    assert "tqdm" in cli and "torch" not in cli and "ultralytics" not in cli
    assert "ultralytics" in " ".join(project["optional-dependencies"]["training"])


def test_pip_install_cli_gives_every_command(tmp_path: Path) -> None:
    venv = tmp_path / "fresh"
    # pip and setuptools come from the machine's packages too (a bundled old setuptools
    # could not build a wheel without the `wheel` package).
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300
    )
    site = subprocess.run(
        [str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # This machine's installed packages stand in for the registry (no download).
    (Path(site) / "_machine_packages.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n"
    )
    install = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", f"{ROOT}[cli]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    cli = venv / "bin" / "yolo-pipeline"
    assert cli.is_file()
    names = [c.__name__.rsplit(".", 1)[-1].replace("_", "-") for c in COMMANDS]
    for name in names:
        shown = subprocess.run([str(cli), name, "--help"], capture_output=True, text=True)
        assert shown.returncode == 0 and "usage: yolo-pipeline" in shown.stdout, name
    dataset = write_local(tmp_path / "shapes", detect_dataset())
    real = subprocess.run(
        [str(cli), "validate", str(dataset), "--no-stack"], capture_output=True, text=True,
        cwd=tmp_path,
    )  # fmt: skip
    assert real.returncode == 0 and real.stdout.startswith("VALID"), real.stdout + real.stderr
