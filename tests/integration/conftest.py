"""Fixtures of the integration tier: the launcher cold-started against moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The deployer's moto world (deployer and approve/predict tests).
from tests.support.deployer_world import world  # noqa: F401
from tests.support.launcher_world import (
    MAX_SETTLE_SECONDS,
    SETTLE_SECONDS,
    Clock,
    LauncherWorld,
    make_launcher_world,
    moto_multipart_times,
)


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
    launched = make_launcher_world(
        monkeypatch,
        {"SETTLE_SECONDS": str(SETTLE_SECONDS), "MAX_SETTLE_SECONDS": str(MAX_SETTLE_SECONDS)},
    )
    launched.module.launcher.clock = clock
    moto_multipart_times(clock)
    yield launched


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto as a real endpoint (``ThreadedMotoServer`` on a free port) via AWS_ENDPOINT_URL.

    Every client, boto3 or not, reaches it the way it would reach AWS; the bulk S3 reads go
    through obstore. The server shares this process's moto state, so SNS read-back works.
    """
    import socket
    import urllib.request

    from moto.server import ThreadedMotoServer

    from yolo_pipeline.aws.clients import reset_clients

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("YOLO_S3_READER", "obstore")
    reset_clients()
    try:
        yield url
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))  # noqa: S310
        server.stop()
        reset_clients()


@pytest.fixture
def server_launcher_world(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LauncherWorld]:
    yield make_launcher_world(monkeypatch)
