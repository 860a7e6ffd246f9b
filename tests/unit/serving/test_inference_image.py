"""The inference image installs what the tests ran: the lock's versions (torch and
torchvision as the CPU wheels of the same versions), and starts the server on `serve`."""

from __future__ import annotations

import importlib.metadata
import re
import shlex

import pytest
from packaging.requirements import Requirement

from tests.support.build_files import canonical, dockerfile_instructions, pins
from tests.support.helpers import ROOT
from yolo_pipeline.imagebuild.context import context_files

pytestmark = pytest.mark.unit

IMAGE = ROOT / "inference_image"
CUDA_ONLY = re.compile(r"^(nvidia-(?!ml-py)|cuda-|triton$)")
CPU_WHEELS = ("torch", "torchvision")


def test_every_pin_is_the_locks_version_and_nothing_is_cuda() -> None:
    wanted, locked = pins(IMAGE / "requirements.txt"), pins(ROOT / "requirements-dev.lock")
    assert wanted
    assert {n: v for n, v in wanted.items() if locked.get(n) != v} == {}
    assert not [n for n in wanted if CUDA_ONLY.match(n)]
    assert not [n for n in wanted if n in CPU_WHEELS]  # those come from the CPU index


def test_torch_and_torchvision_are_the_locks_versions_as_cpu_wheels() -> None:
    locked = pins(ROOT / "requirements-dev.lock")
    runs = " ".join(
        args for word, args in dockerfile_instructions(IMAGE / "Dockerfile") if word == "RUN"
    )
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs
    for name in CPU_WHEELS:
        assert f"{name}=={locked[name]}+cpu" in runs, name


def test_the_pins_cover_everything_ultralytics_needs() -> None:
    """Ultralytics' dependency closure in the tested environment, less the GPU wheel's own."""
    closure: set[str] = set()

    def walk(name: str) -> None:
        key = canonical(name)
        if key in closure:
            return
        closure.add(key)
        for raw in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                walk(requirement.name)

    walk("ultralytics")
    needed = {n for n in closure if not CUDA_ONLY.match(n) and n not in CPU_WHEELS}
    assert needed - set(pins(IMAGE / "requirements.txt")) == set()


def test_entrypoint_serves_in_exec_form_and_copies_what_the_context_sends() -> None:
    ins = dockerfile_instructions(IMAGE / "Dockerfile")
    (entrypoint,) = [args for word, args in ins if word == "ENTRYPOINT"]
    assert entrypoint == '["python", "-m", "yolo_pipeline.serving"]'
    assert not [args for word, args in ins if word == "CMD"]  # SageMaker passes `serve`
    env = " ".join(args for word, args in ins if word == "ENV")
    assert "ULTRALYTICS_SAFE_LOAD=1" in env and "YOLO_OFFLINE=1" in env
    sent = set(context_files(ROOT))
    for word, args in ins:
        if word == "COPY":
            *sources, _dest = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source in sent or any(f.startswith(source + "/") for f in sent), source
    assert "inference_image/Dockerfile" in sent  # CodeBuild unpacks the context and builds it
