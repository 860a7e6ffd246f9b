"""The start email's estimate: the dataset's previous completed job, scaled by epochs."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.launcher.estimate import previous_job_seconds


class FakeSageMaker:
    def __init__(self, jobs: dict[str, dict[str, Any]], fail: bool = False) -> None:
        self.jobs, self.fail = jobs, fail

    def list_training_jobs(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "List")
        names = [n for n in self.jobs if kwargs["NameContains"] in n]
        return {"TrainingJobSummaries": [{"TrainingJobName": n} for n in names]}

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        return self.jobs[TrainingJobName]


REQUEST = {"TrainingJobName": "yolo-cats-bbbbbbbbbb", "HyperParameters": {"epochs": "100"}}


def test_the_previous_job_of_the_same_dataset_scaled_by_epochs() -> None:
    jobs: dict[str, dict[str, Any]] = {
        "yolo-cats-2-cccccccccc": {"BillableTimeInSeconds": 9999},  # another dataset
        "yolo-cats-aaaaaaaaaa": {"BillableTimeInSeconds": 600, "HyperParameters": {"epochs": "50"}},
    }
    assert previous_job_seconds(FakeSageMaker(jobs), REQUEST) == ("yolo-cats-aaaaaaaaaa", 1200)


def test_no_estimate_without_a_previous_job_or_when_sagemaker_refuses() -> None:
    assert previous_job_seconds(FakeSageMaker({}), REQUEST) is None
    jobs = {"yolo-cats-aaaaaaaaaa": {"BillableTimeInSeconds": 600}}
    assert previous_job_seconds(FakeSageMaker(jobs, fail=True), REQUEST) is None
