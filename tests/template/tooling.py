"""Paths and runners for the template tools (.venv-sam, .venv-checkov, python3.13)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.helpers import ROOT

TEMPLATE = ROOT / "template.yaml"
SAM_BIN = ROOT / ".venv-sam" / "bin"
CHECKOV_BIN = ROOT / ".venv-checkov" / "bin"
PY313_VERSION = "3.13.0"


def tool(venv_bin: Path, name: str) -> Path:
    """A template tool from its venv, or a skip that says how to get it."""
    path = venv_bin / name
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} is missing: run `make tools` (make test does)")
    return path


def tool_env() -> dict[str, str]:
    """Env for the CLI tools: no telemetry, a region, no real credentials reach AWS."""
    env = dict(os.environ)
    env.update(
        {
            "SAM_CLI_TELEMETRY": "0",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "BC_SKIP_MAPPING": "TRUE",  # checkov: no Bridgecrew mapping download
        }
    )
    return env


def python313() -> Path | None:
    """A working python3.13 (the Lambda runtime): pyenv's 3.13.0 as the Makefile uses, else
    one on PATH. Each candidate is run, since a pyenv shim exists even when unusable."""
    candidates: list[Path] = []
    try:
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        candidates.append(Path(root) / "versions" / PY313_VERSION / "bin" / "python3.13")
    except (OSError, subprocess.SubprocessError):
        pass
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [str(candidate), "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def run_tool(args: list[str | Path], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=tool_env(),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
