"""Fixtures of the template tier: tool paths, the rendered template, one `sam build`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import ROOT
from tests.template.tooling import PY313_VERSION, SAM_BIN, TEMPLATE, python313, tool, tool_env


@pytest.fixture(scope="session")
def rendered() -> dict[str, Any]:
    """template.yaml before (``raw``) and after (``transformed``) the SAM transform."""
    python = tool(SAM_BIN, "python")
    result = subprocess.run(
        [str(python), str(Path(__file__).with_name("render_template.py")), str(TEMPLATE)],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"SAM transform failed:\n{result.stderr[-4000:]}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="session")
def raw_template(rendered: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = rendered["raw"]
    return raw


@pytest.fixture(scope="session")
def resources(rendered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Resources of the transformed template (what CloudFormation creates)."""
    res: dict[str, dict[str, Any]] = rendered["transformed"]["Resources"]
    return res


@pytest.fixture(scope="session")
def sam_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`sam build` once per session into a temp dir; yields the build dir."""
    sam = tool(SAM_BIN, "sam")
    py313 = python313()
    if py313 is None:
        pytest.skip(
            "no python3.13 (the Lambda runtime) on PATH or in pyenv: "
            f"`pyenv install {PY313_VERSION}` to run sam build"
        )
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    env = tool_env()
    env["PATH"] = os.pathsep.join([str(py313.parent), str(SAM_BIN), env.get("PATH", "")])
    result = subprocess.run(
        [
            str(sam),
            "build",
            "--template-file",
            str(TEMPLATE),
            "--base-dir",
            str(ROOT),
            "--build-dir",
            str(build_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"sam build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    yield build_dir
