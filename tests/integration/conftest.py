"""Fixtures of the integration tier: the launcher cold-started against moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.launcher_world import Clock, LauncherWorld, make_launcher_world

SETTLE_SECONDS = 60
MAX_SETTLE_SECONDS = 3600


@pytest.fixture
def launcher_world(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LauncherWorld]:
    yield make_launcher_world(monkeypatch)


@pytest.fixture
def clock(aws: None, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Time for moto and the launcher, moved by the test (no sleeping)."""
    return Clock(monkeypatch)


@pytest.fixture
def settling_world(
    aws: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LauncherWorld]:
    """The launcher with the settle rule on (60 s quiet, 1 h at most) and the moved clock."""
    world = make_launcher_world(
        monkeypatch,
        {"SETTLE_SECONDS": str(SETTLE_SECONDS), "MAX_SETTLE_SECONDS": str(MAX_SETTLE_SECONDS)},
    )
    world.module.launcher.clock = clock
    yield world
