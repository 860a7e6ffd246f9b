"""The stack's launcher at work while a CLI process runs against moto_server.

In AWS, S3 sends each write to EventBridge, the stack's DatasetUploadedRule puts a data.yaml
or zip event on LaunchQueue, and Lambda's SQS event source mapping hands batches to the
launcher. moto's server routes the first two steps itself (it shares the test process's
state); a thread here plays the event source mapping, invoking the cold-started handler.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import ACCOUNT, QUEUE, REGION, LauncherWorld

# Rounds of an empty queue are this far apart: the feed reacts well within the CLI's polling.
POLL_S = 0.2


def route_uploads(events: Any, bucket: str, dataset_prefix: str = "datasets/") -> None:
    """template.yaml's DatasetUploadedRule on ``bucket``, targeting LaunchQueue."""
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [bucket]},
            "object": {
                "key": [
                    {"wildcard": f"{dataset_prefix}*/data.yaml"},
                    {"wildcard": f"{dataset_prefix}*.zip"},
                ]
            },
        },
    }
    events.put_rule(Name="dataset-uploaded", EventPattern=json.dumps(pattern))
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
    events.put_targets(Rule="dataset-uploaded", Targets=[{"Id": "q", "Arn": queue_arn}])


class LaunchQueueFeed(threading.Thread):
    """Polls LaunchQueue and invokes the launcher with each batch until stopped. Errors are
    kept for the test to raise, never lost in the thread."""

    def __init__(self, world: LauncherWorld) -> None:
        super().__init__(daemon=True, name="launch-queue-feed")
        self.world = world
        self.stopped = threading.Event()
        self.records = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                handled, _failed = self.world.deliver(FakeLambdaContext())
            except BaseException as exc:  # raised again by launcher_fed, in the test
                self.errors.append(exc)
                return
            self.records += handled
            if not handled:
                self.stopped.wait(POLL_S)


@contextmanager
def launcher_fed(world: LauncherWorld) -> Iterator[LaunchQueueFeed]:
    """The launcher served from its queue within the block; its errors fail the test."""
    feed = LaunchQueueFeed(world)
    feed.start()
    try:
        yield feed
    finally:
        feed.stopped.set()
        feed.join(timeout=60)
    if feed.errors:
        raise feed.errors[0]
