"""The launch queue's test world: the uploads table, a cap, and training jobs whose states
the test advances.

moto creates every training job already ``Completed``; here a new job starts
``InProgress`` (``FakeTrainingJob.__init__`` is wrapped) and the test ends jobs with
``finish_jobs``, which sets the status moto's ListTrainingJobs and DescribeTrainingJob read.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.launcher_world import ACCOUNT, REGION, Clock, LauncherWorld, make_launcher_world
from tests.support.uploads_table import create_uploads_table

UPLOADS = "yolo-uploads"


def jobs_start_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sagemaker import models

    original = models.FakeTrainingJob.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.training_job_status = "InProgress"

    monkeypatch.setattr(models.FakeTrainingJob, "__init__", init)


def _jobs() -> dict[str, Any]:
    from moto.sagemaker.models import sagemaker_backends

    jobs: dict[str, Any] = sagemaker_backends[ACCOUNT][REGION].training_jobs
    return jobs


def in_progress() -> list[str]:
    return [name for name, job in _jobs().items() if job.training_job_status == "InProgress"]


def finish_jobs(limit: int | None = None) -> list[str]:
    """End up to ``limit`` jobs in progress (all by default), oldest first."""
    ended = in_progress()[:limit]
    for name in ended:
        _jobs()[name].training_job_status = "Completed"
    return ended


def make_queue_world(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, env: dict[str, str] | None = None
) -> LauncherWorld:
    """The launcher with the uploads table, a cap of 2 (``env`` overrides) and ``clock``."""
    from yolo_pipeline.aws import clients as aws_clients

    create_uploads_table(aws_clients.client("dynamodb"), UPLOADS)
    jobs_start_in_progress(monkeypatch)
    world = make_launcher_world(
        monkeypatch,
        {"UPLOADS_TABLE": UPLOADS, "MAX_CONCURRENT_JOBS": "2", **(env or {})},
    )
    world.module.launcher.clock = clock
    return world


def kinds(world: LauncherWorld) -> list[str]:
    return [e["attributes"]["kind"]["Value"] for e in world.emails()]


def emails_of(world: LauncherWorld, kind: str) -> list[dict[str, Any]]:
    return [e for e in world.emails() if e["attributes"]["kind"]["Value"] == kind]
