"""`sam build` works offline and both handlers import from the built artefacts.

The import runs under python3.13 (the Lambda runtime), isolated from this repo: only the
build dir, then boto3 (which the Lambda runtime provides and functions/requirements.txt
therefore leaves out), are on sys.path, with the env vars the template would set.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.template.resolve import Resolver
from tests.template.tooling import python313

HANDLERS = {"StartTrainingFunction": "start_training", "NotifyStatusFunction": "notify_status"}
# What the python3.13 Lambda runtime ships besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

IMPORT_SCRIPT = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]  # /var/task first, then the runtime's packages
module = importlib.import_module(sys.argv[3])
import yaml, yolo_pipeline, aws_lambda_powertools
print(json.dumps({
    "callable": callable(getattr(module, "lambda_handler", None)),
    "module": module.__file__,
    "yolo_pipeline": yolo_pipeline.__file__,
    "yaml": yaml.__file__,
    "powertools": aws_lambda_powertools.__file__,
    "python": list(sys.version_info[:2]),
}))
"""


def runtime_dir(tmp_path: Path) -> Path:
    """A stand-in for the runtime's site-packages: links to the app venv's pure-Python copies."""
    target = tmp_path / "runtime"
    target.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} missing from .venv"
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (target / source.name).symlink_to(source)
    return target


def test_build_has_both_functions_with_their_dependencies(sam_build: Path) -> None:
    for function, module in HANDLERS.items():
        folder = sam_build / function
        assert (folder / f"{module}.py").is_file()
        assert (folder / "yolo_pipeline" / "launcher" / "settings.py").is_file()
        for dependency in ("aws_lambda_powertools", "yaml", "aws_xray_sdk"):
            assert (folder / dependency).is_dir(), f"{function}: {dependency} not bundled"
        assert not (folder / "tests").exists()


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_handler_imports_from_the_built_artefact(
    sam_build: Path, rendered: dict[str, Any], tmp_path: Path, function: str
) -> None:
    py313 = python313()
    assert py313 is not None  # sam_build skipped otherwise
    template = rendered["transformed"]
    env_vars = Resolver(template).resolve(
        template["Resources"][function]["Properties"]["Environment"]["Variables"]
    )
    env = {k: str(v) for k, v in env_vars.items()} | {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon outside Lambda
        "PATH": "/usr/bin:/bin",
    }
    folder = sam_build / function
    result = subprocess.run(
        [
            str(py313),
            "-I",  # isolated: no PYTHONPATH, no user site, cwd not on sys.path
            "-c",
            IMPORT_SCRIPT,
            str(folder),
            str(runtime_dir(tmp_path)),
            HANDLERS[function],
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["callable"] is True
    assert info["python"] == [3, 13]
    for key in ("module", "yolo_pipeline", "yaml", "powertools"):
        assert Path(info[key]).is_relative_to(folder), f"{key} imported from {info[key]}"
