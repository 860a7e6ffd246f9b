"""What the tests ran is what ships: the training image and `sam build` install pins derived
from requirements-dev.lock, and the image's install step takes exactly that list."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.support.build_files import pins
from tests.support.helpers import ROOT

pytestmark = pytest.mark.unit


def _pins(path: str) -> dict[str, str]:
    return pins(ROOT / path)


def test_derived_pin_lists_are_current() -> None:
    """The closure of the inputs, read from the installed metadata, equals the files."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "derive_locks.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ["training_image/requirements.lock", "functions/requirements.txt"])
def test_every_shipped_pin_is_the_tested_version(path: str) -> None:
    shipped, tested = _pins(path), _pins("requirements-dev.lock")
    assert shipped
    assert {n: v for n, v in shipped.items() if tested.get(n) != v} == {}


def test_the_image_installs_the_training_lock_and_nothing_else() -> None:
    text = re.sub(r"\\\n", " ", (ROOT / "training_image" / "Dockerfile").read_text())
    runs = [line.strip()[4:] for line in text.splitlines() if line.strip().startswith("RUN ")]
    pip_installs = [r for r in runs if "pip install" in r]
    lock = "/opt/ml/code/requirements.lock"
    assert f"COPY training_image/requirements.lock {lock}" in text
    assert any(
        re.search(rf"pip install --no-cache-dir --no-deps -r {re.escape(lock)}\b", r)
        and "pip check" in r
        for r in pip_installs
    ), pip_installs
    # The only other install is the project itself, without dependencies.
    others = [r for r in pip_installs if lock not in r]
    assert all("--no-deps /opt/build" in r for r in others), others
    shipped = _pins("training_image/requirements.lock")
    assert {"torch", "torchvision", "ultralytics", "pi-heif"} <= set(shipped)
