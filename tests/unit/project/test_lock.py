"""The locks pin what the requirements files ask for, so an edit without `make lock` fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.build_files import PIN, pins

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stem", ["requirements-dev", "requirements-sam", "requirements-checkov"])
def test_the_lock_pins_every_requested_version(stem: str) -> None:
    wanted = pins(ROOT / f"{stem}.txt")
    locked = pins(ROOT / f"{stem}.lock")
    assert wanted, stem
    stale = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not stale, f"{stem}.lock is stale (run `make lock`): {stale}"


@pytest.mark.parametrize("stem", ["requirements-dev", "requirements-sam", "requirements-checkov"])
def test_every_line_of_the_lock_is_an_exact_pin(stem: str) -> None:
    lines = (ROOT / f"{stem}.lock").read_text(encoding="utf-8").splitlines()
    loose = [line for line in lines if line and not line.startswith("#") and not PIN.match(line)]
    assert not loose, loose
