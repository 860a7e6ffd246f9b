"""The Completed email's extras against moto: metrics.json from a real output.tar.gz in S3,
the model registry (CreateModelPackageGroup/CreateModelPackage, checked against botocore's
model), the comparison with the dataset's previous job, and the degraded paths."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns import sns_backends

from tests.support.botocore_model import validate_request, validate_response
from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.notifier_world import described_for
from yolo_pipeline.aws import clients
from yolo_pipeline.container.results import build_results
from yolo_pipeline.notifier import registry
from yolo_pipeline.notifier.service import Notifier
from yolo_pipeline.notifier.settings import NotifierSettings

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

BUCKET = "yolo-datasets-123456789012"
TABLE = "yolo-idempotency"
GROUP = "yolo-pets"


class Described:
    """The notifier's SageMaker client: moto for the registry, and DescribeTrainingJob
    answered from ``described_for`` (moto's lacks the fields we read), shape-checked."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.jobs: dict[str, dict[str, Any]] = {}

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        response = copy.deepcopy(self.jobs[TrainingJobName])
        validate_response("sagemaker", "DescribeTrainingJob", response)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    topic = boto3.client("sns").create_topic(Name="yolo-notifications")["TopicArn"]
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(registry, "BACKOFF_SECONDS", 0.0)
    sagemaker = clients.client("sagemaker")
    requests: list[tuple[str, dict[str, Any]]] = []

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        validate_request("sagemaker", model.name, params)  # moto takes anything; AWS won't
        requests.append((model.name, copy.deepcopy(params)))

    sagemaker.meta.events.register("provide-client-params.sagemaker.*", check)
    described = Described(sagemaker)
    settings = NotifierSettings(topic, TABLE, "yolo")
    yield {"topic": topic, "sagemaker": described, "requests": requests, "settings": settings}


def notifier(world: dict[str, Any], sagemaker: Any = None) -> Notifier:
    return Notifier(world["settings"], sagemaker=sagemaker or world["sagemaker"])


def sent(world: dict[str, Any]) -> list[str]:
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[world["topic"]]
    return [message for _id, message, *_ in topic.sent_notifications]


def job_event(name: str, end_ms: int = 1773486307000) -> dict[str, Any]:
    event = load_event("training_completed")
    detail = event["detail"]
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"
    detail.update(
        TrainingJobName=name,
        TrainingJobArn=arn,
        TrainingEndTime=str(end_ms),
        ModelArtifacts={"S3ModelArtifacts": f"s3://{BUCKET}/models/{name}/output/model.tar.gz"},
    )
    return event


def add_job(world: dict[str, Any], event: dict[str, Any], map50_95: float) -> None:
    name = event["detail"]["TrainingJobName"]
    described = described_for(
        "training_completed",
        TrainingJobName=name,
        TrainingJobArn=event["detail"]["TrainingJobArn"],
        ModelArtifacts=event["detail"]["ModelArtifacts"],
    )
    for metric in described["FinalMetricDataList"]:
        if metric["MetricName"] == "val:mAP50-95":
            metric["Value"] = map50_95
    world["sagemaker"].jobs[name] = described


def metrics_document(map50_95: float) -> dict[str, Any]:
    per_class = [
        {"class": 0, "name": "cat", "images": 40, "instances": 61, "precision": 0.91,
         "recall": 0.84, "mAP50": 0.93, "mAP50-95": map50_95 + 0.05},
        {"class": 1, "name": "dog", "images": 35, "instances": 48, "precision": 0.78,
         "recall": 0.70, "mAP50": 0.80, "mAP50-95": map50_95 - 0.05},
        {"class": 2, "name": "hamster", "images": 0, "instances": 0, "precision": None,
         "recall": None, "mAP50": None, "mAP50-95": None},
    ]  # fmt: skip
    final = {
        "val:precision": 0.845,
        "val:recall": 0.77,
        "val:mAP50": 0.865,
        "val:mAP50-95": map50_95,
    }
    return build_results(
        final_validation={"metrics": final, "per_class": per_class, "best_epoch": 41},
        rows=[{"epoch": float(e)} for e in range(1, 51)],
        epochs_requested=50,
        patience=100,
        task="detect",
        class_names=["cat", "dog", "hamster"],
        dataset={"images": {"train": 400, "val": 80}},
        resumed_after_epoch=None,
        exports=[],
    )


def put_output_archive(job_name: str, document: dict[str, Any] | bytes) -> None:
    """output.tar.gz as SageMaker makes it from /opt/ml/output/data/."""
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("metrics.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key=f"models/{job_name}/output/output.tar.gz", Body=buffer.getvalue()
    )


def packages() -> list[dict[str, Any]]:
    listed = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=GROUP)
    return list(listed["ModelPackageSummaryList"])


def test_completed_job_email_reads_the_archive_and_registers_the_model(
    world: dict[str, Any],
) -> None:
    event = job_event("yolo-pets-1111111111")
    add_job(world, event, 0.612)
    put_output_archive("yolo-pets-1111111111", metrics_document(0.6321))
    result = notifier(world).handle(event, FakeLambdaContext())
    assert result["action"] == "sent"
    [body] = sent(world)
    assert "mAP50-95   0.632" in body  # metrics.json's (best.pt) figure over the scraped one
    assert "Best epoch: 41 of 50 run" in body
    assert "cat" in body and "dog" in body
    assert "No validation instances, so not measured (1): hamster." in body
    assert "Previous model of this dataset: none; this is the first one registered." in body
    [package] = packages()
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelPackageArn"] in body
    assert (
        f"aws sagemaker update-model-package --model-package-arn {package['ModelPackageArn']}"
        " --model-approval-status Approved" in body
    )
    names = [name for name, _ in world["requests"]]
    assert "CreateModelPackageGroup" in names and names.count("CreateModelPackage") == 1
    create = dict(world["requests"])["CreateModelPackage"]
    assert create["ModelPackageGroupName"] == GROUP
    container = create["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"].endswith("/models/yolo-pets-1111111111/output/model.tar.gz")
    meta = create["CustomerMetadataProperties"]
    assert meta["yolo:job-name"] == "yolo-pets-1111111111"
    assert meta["yolo:dataset-uri"] == f"s3://{BUCKET}/datasets/pets/"
    assert meta["yolo:task"] == "detect" and meta["val:mAP50-95"] == "0.6321"


def test_a_second_job_of_the_dataset_is_compared_with_the_first(world: dict[str, Any]) -> None:
    first, second = job_event("yolo-pets-1111111111"), job_event("yolo-pets-2222222222")
    for event, figure in ((first, 0.601), (second, 0.655)):
        add_job(world, event, figure)
        put_output_archive(event["detail"]["TrainingJobName"], metrics_document(figure))
        notifier(world).handle(event, FakeLambdaContext())
    later = sent(world)[1]
    assert "previous model of this dataset, yolo-pets-1111111111 (2026-03-14 11:05 UTC)" in later
    assert "mAP50-95 0.601 -> 0.655 (+0.054, better)" in later
    assert len(packages()) == 2


def test_a_redelivery_registers_nothing_new(world: dict[str, Any]) -> None:
    event = job_event("yolo-pets-1111111111")
    add_job(world, event, 0.612)
    put_output_archive("yolo-pets-1111111111", metrics_document(0.612))
    notifier(world).handle(event, FakeLambdaContext())
    again = notifier(world).handle({**event, "id": "another-delivery"}, FakeLambdaContext())
    assert again["action"] == "duplicate"
    # and past the idempotency record (e.g. it expired, or the email failed after
    # registering): the registry itself finds the job's package
    from yolo_pipeline.notifier.completed import registration
    from yolo_pipeline.notifier.job_facts import merged_job

    job = merged_job(event["detail"], world["sagemaker"].jobs["yolo-pets-1111111111"])
    outcome = registration(world["sagemaker"], job, None, "yolo")
    assert outcome.created_now is False and outcome.package is not None
    assert len(packages()) == 1 and len(sent(world)) == 1


@pytest.mark.parametrize(
    ("archive", "why"),
    [
        (None, "could not be read (404)"),
        (b"{not json", "metrics.json is not valid JSON"),
    ],
    ids=["missing", "unreadable"],
)
def test_a_missing_or_unreadable_archive_still_sends_the_email(
    world: dict[str, Any], archive: bytes | None, why: str
) -> None:
    event = job_event("yolo-pets-1111111111")
    add_job(world, event, 0.612)
    if archive is not None:
        put_output_archive("yolo-pets-1111111111", archive)
    assert notifier(world).handle(event, FakeLambdaContext())["action"] == "sent"
    [body] = sent(world)
    assert "mAP50-95   0.612" in body  # DescribeTrainingJob's figure
    assert "Per class: not available." in body and why in body
    assert len(packages()) == 1  # the registry does not need the archive


def test_a_throttled_registry_is_retried_then_reported_in_the_email(
    world: dict[str, Any],
) -> None:
    event = job_event("yolo-pets-1111111111")
    put_output_archive("yolo-pets-1111111111", metrics_document(0.612))
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "describe_training_job",
            described_for(
                "training_completed",
                TrainingJobName="yolo-pets-1111111111",
                TrainingJobArn=event["detail"]["TrainingJobArn"],
                ModelArtifacts=event["detail"]["ModelArtifacts"],
            ),
        )
        for _ in range(registry.ATTEMPTS):
            stub.add_client_error(
                "describe_model_package_group", "ThrottlingException", "Rate exceeded"
            )
        assert notifier(world, client).handle(event, FakeLambdaContext())["action"] == "sent"
        stub.assert_no_pending_responses()
    [body] = sent(world)
    assert "Model registry: NOT registered in group yolo-pets (ThrottlingException" in body
    assert "Per class (validation set, best.pt):" in body


def test_a_refused_registry_is_reported_without_retrying(world: dict[str, Any]) -> None:
    event = job_event("yolo-pets-1111111111")
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "describe_training_job",
            described_for(
                "training_completed",
                TrainingJobName="yolo-pets-1111111111",
                TrainingJobArn=event["detail"]["TrainingJobArn"],
                ModelArtifacts=event["detail"]["ModelArtifacts"],
            ),
        )
        stub.add_client_error("describe_model_package_group", "AccessDeniedException", "no")
        notifier(world, client).handle(event, FakeLambdaContext())
        stub.assert_no_pending_responses()
    [body] = sent(world)
    assert "NOT registered in group yolo-pets (AccessDeniedException: no)" in body
    assert "Previous model of this dataset: not known" in body


def test_a_late_redelivery_compares_with_older_models_only(world: dict[str, Any]) -> None:
    from yolo_pipeline.notifier.completed import registration
    from yolo_pipeline.notifier.job_facts import merged_job

    jobs = {}
    for name, figure in (("yolo-pets-1111111111", 0.5), ("yolo-pets-2222222222", 0.6)):
        event = job_event(name)
        add_job(world, event, figure)
        jobs[name] = merged_job(event["detail"], world["sagemaker"].jobs[name])
        registration(world["sagemaker"], jobs[name], None, "yolo")
    first_again = registration(world["sagemaker"], jobs["yolo-pets-1111111111"], None, "yolo")
    assert first_again.created_now is False and first_again.previous is None
    second_again = registration(world["sagemaker"], jobs["yolo-pets-2222222222"], None, "yolo")
    assert second_again.previous is not None
    assert second_again.previous.job_name == "yolo-pets-1111111111"
    assert len(packages()) == 2
