"""Fixtures of the integration tier: the launcher cold-started against moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.launcher_world import LauncherWorld, make_launcher_world


@pytest.fixture
def launcher_world(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LauncherWorld]:
    yield make_launcher_world(monkeypatch)
