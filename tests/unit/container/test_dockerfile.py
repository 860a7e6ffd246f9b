"""The training image Dockerfile cannot be built here: check its structure, and lint it."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.build_files import dockerfile_instructions
from tests.support.helpers import ROOT

DOCKERFILE = ROOT / "training_image" / "Dockerfile"
HADOLINT = ROOT / ".venv-checkov" / "bin" / "hadolint"


def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE)


def test_base_image_is_a_pinned_python_of_the_locks_version() -> None:
    """The base gives only Python; torch and its CUDA wheels come from the lock."""
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) == 1
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", froms[0])
    assert match, froms[0]
    header = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines()[1]
    assert f"Python {match[1]}.{match[2]}," in header, header  # the wheels' interpreter


def test_entrypoint_runs_train_py_in_exec_form() -> None:
    ins = instructions()
    assert ("WORKDIR", "/opt/ml/code") in ins
    (entrypoint,) = [args for word, args in ins if word == "ENTRYPOINT"]
    assert entrypoint.startswith("[")  # exec form: `train` arrives as argv, SIGTERM reaches python
    assert re.fullmatch(r'\["python3?", "/opt/ml/code/train\.py"\]', entrypoint)
    assert not [args for word, args in ins if word == "CMD"]


def test_copied_files_exist_and_the_project_is_installed_not_copied_next_to_train_py() -> None:
    ins = instructions()
    copies = [shlex.split(args) for word, args in ins if word == "COPY"]
    assert copies
    for *sources, _dest in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    dests = {tuple(c) for c in copies}
    assert ("training_image/train.py", "/opt/ml/code/train.py") in dests
    # The package reaches the image through an install (train.py edits no sys.path) ...
    (src,) = [dest for *sources, dest in copies if "functions/yolo_pipeline" in sources]
    assert not src.startswith("/opt/ml/code")
    assert any(sources == ["pyproject.toml", "README.md"] for *sources, _ in copies)
    runs = [args for word, args in ins if word == "RUN"]
    (install,) = [r for r in runs if "--no-deps /opt/build" in r]
    assert re.search(r"pip install --no-cache-dir --no-deps /opt/build\b", install), install
    # ... and only what the container uses goes in.
    assert {s for *c, _ in copies for s in c} == {
        "training_image/requirements.lock",
        "pyproject.toml",
        "README.md",
        "functions/yolo_pipeline",
        "training_image/train.py",
    }


def test_dockerignore_lets_the_copied_files_through() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copies = [shlex.split(args)[:-1] for word, args in instructions() if word == "COPY"]
    for source in (s for c in copies for s in c):
        assert source in allowed, f"{source} is excluded by .dockerignore"
    assert "*" in ignore  # everything else (venvs, datasets, runs) stays out of the context


def test_requirements_are_pinned() -> None:
    lines = (ROOT / "training_image" / "requirements.txt").read_text().splitlines()
    reqs = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert reqs
    for req in reqs:
        assert re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[0-9][0-9A-Za-z.+-]*", req), req
    names = {r.split("==")[0].lower() for r in reqs}
    assert {"ultralytics", "onnx", "onnxruntime", "onnxslim", "cloudpickle"} <= names


def test_offline_setup_is_baked() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "--platform linux/amd64" in text
    for needle in ("YOLO_OFFLINE=1", "YOLO_CONFIG_DIR=", "MPLCONFIGDIR=", "Arial.ttf"):
        assert needle in text, needle
    # The baked weights come from the package's one list, read at build time.
    assert "python -m yolo_pipeline.training.models --baked" in text


def test_hadolint() -> None:
    if not HADOLINT.exists():
        pytest.skip(f"{HADOLINT} missing: run `make tools` to lint the Dockerfile")
    result = subprocess.run(
        [str(HADOLINT), str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_amp_model_matches_what_ultralytics_checks() -> None:
    """The CUDA AMP check loads a fixed weight file; the image must bake exactly that one."""
    from yolo_pipeline.training.models import AMP_CHECK_MODEL, BAKED

    checks = Path(str(__import__("ultralytics").__file__)).parent / "utils" / "checks.py"
    assert AMP_CHECK_MODEL in BAKED
    assert f'WEIGHTS_DIR / "{AMP_CHECK_MODEL}"' in checks.read_text()
