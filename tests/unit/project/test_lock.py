"""The locks pin what the requirements files ask for, so an edit without `make lock` fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, following ``-r`` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("-r "):
            pins.update(_pins(path.parent / line[3:].strip()))
        elif match := PIN.match(line):
            pins[_name(match.group(1))] = match.group(3)
    return pins


@pytest.mark.parametrize("stem", ["requirements-dev", "requirements-sam", "requirements-checkov"])
def test_the_lock_pins_every_requested_version(stem: str) -> None:
    wanted = _pins(ROOT / f"{stem}.txt")
    locked = _pins(ROOT / f"{stem}.lock")
    assert wanted, stem
    stale = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not stale, f"{stem}.lock is stale (run `make lock`): {stale}"


@pytest.mark.parametrize("stem", ["requirements-dev", "requirements-sam", "requirements-checkov"])
def test_every_line_of_the_lock_is_an_exact_pin(stem: str) -> None:
    lines = (ROOT / f"{stem}.lock").read_text(encoding="utf-8").splitlines()
    loose = [line for line in lines if line and not line.startswith("#") and not PIN.match(line)]
    assert not loose, loose
