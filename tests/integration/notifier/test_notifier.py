"""The notifier Lambda end to end: moto for SNS and the DynamoDB idempotency table,
botocore's Stubber for DescribeTrainingJob (moto's has none of the fields we read)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns import sns_backends

from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.notifier_world import described_for
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.launcher.settings import SettingsError

# skipped events emit no metric; Powertools warns about the empty flush, which is fine
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TABLE = "yolo-idempotency"


@pytest.fixture
def topic_arn(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    arn = boto3.client("sns").create_topic(Name="yolo-notifications")["TopicArn"]
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", arn)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", TABLE)
    monkeypatch.setenv("JOB_NAME_PREFIX", "yolo")
    # Metrics is a process-wide singleton: tests that call the service without the handler's
    # flush would otherwise leave their counts in this test's metric line.
    from yolo_pipeline.aws.observability import metrics

    metrics.clear_metrics()
    yield arn


@pytest.fixture
def sagemaker(topic_arn: str) -> Iterator[Stubber]:
    """The notifier's own cached SageMaker client, stubbed; an unexpected call fails."""
    with Stubber(aws.client("sagemaker")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def sent(topic_arn: str) -> list[dict[str, Any]]:
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[topic_arn]
    return [
        {
            "message": message,
            "subject": subject,
            # moto keeps {"Type", "Value"}; SNS delivers the same pairs to subscribers
            "attributes": {k: v["Value"] for k, v in (attributes or {}).items()},
        }
        for _id, message, subject, attributes, _group in topic.sent_notifications
    ]


def invoke(event: Any) -> Any:
    """A cold start of the handler (settings from this env), then the event."""
    import notify_status

    return importlib.reload(notify_status).lambda_handler(event, FakeLambdaContext())


def expect_describe(stub: Stubber, event_name: str, **overrides: Any) -> None:
    name = load_event(event_name)["detail"]["TrainingJobName"]
    stub.add_response(
        "describe_training_job",
        described_for(event_name, **overrides),
        expected_params={"TrainingJobName": name},
    )


@pytest.mark.parametrize(
    ("event_name", "subject", "status", "metric", "in_body"),
    [
        (
            "training_completed",
            "[yolo] Completed: pets mAP50-95 0.612",
            "Completed",
            "JobsCompleted",
            "aws s3 cp s3://yolo-datasets-123456789012/models/yolo-pets-3f9a1c2e/output/"
            "model.tar.gz .",
        ),
        (
            "training_failed",
            "[yolo] Failed: pets",
            "Failed",
            "JobsFailed",
            "CUDA out of memory. Tried to allocate 1.56 GiB.",
        ),
        (
            "training_stopped_max_runtime",
            "[yolo] Stopped (max runtime): pets",
            "Stopped",
            "JobsStopped",
            "hit the maximum runtime",
        ),
    ],
)
def test_one_email_per_terminal_state(
    topic_arn: str,
    sagemaker: Stubber,
    capsys: pytest.CaptureFixture[str],
    event_name: str,
    subject: str,
    status: str,
    metric: str,
    in_body: str,
) -> None:
    expect_describe(sagemaker, event_name)
    result = invoke(load_event(event_name))
    assert result["action"] == "sent"
    [email] = sent(topic_arn)
    assert email["subject"] == subject
    assert in_body in email["message"]
    assert email["attributes"]["status"] == status
    assert email["attributes"]["dataset"] == "pets"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get(metric) == [1.0] or doc.get(metric) == 1.0 for doc in emf), emf


def test_redelivery_sends_no_second_email(topic_arn: str, sagemaker: Stubber) -> None:
    expect_describe(sagemaker, "training_completed")  # described once: the replay skips it
    event = load_event("training_completed")
    first = invoke(event)
    again = invoke({**event, "id": "another-delivery-of-the-same-change"})
    assert first["action"] == "sent"
    assert again["action"] == "duplicate"
    assert again["message_id"] == first["message_id"]
    assert len(sent(topic_arn)) == 1


def test_same_job_new_status_is_a_new_email(topic_arn: str, sagemaker: Stubber) -> None:
    """The key is (job name, status): a later, different outcome is news."""
    stopped = load_event("training_stopped_max_runtime")
    failed = json.loads(json.dumps(stopped))
    failed["detail"].update(TrainingJobStatus="Failed", SecondaryStatus="Failed")
    expect_describe(sagemaker, "training_stopped_max_runtime")
    expect_describe(
        sagemaker,
        "training_stopped_max_runtime",
        TrainingJobStatus="Failed",
        SecondaryStatus="Failed",
    )
    invoke(stopped)
    invoke(failed)
    assert [e["subject"] for e in sent(topic_arn)] == [
        "[yolo] Stopped (max runtime): pets",
        "[yolo] Failed: pets",
    ]


def _foreign_job() -> dict[str, Any]:
    event = load_event("training_completed")
    event["detail"]["TrainingJobName"] = "someone-elses-job-1"
    return event


@pytest.mark.parametrize(
    ("event", "action"),
    [
        (load_event("training_in_progress"), "skipped"),
        (_foreign_job(), "skipped"),
        ({**load_event("training_completed"), "detail": "not an object"}, "ignored"),
        ({}, "ignored"),
        (load_event("dataset_uploaded"), "ignored"),
        ({"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change",
          "detail": {"TrainingJobStatus": "Completed"}}, "ignored"),
        ([1, 2, 3], "ignored"),
        (None, "ignored"),
    ],
    ids=["in-progress", "foreign", "detail-string", "empty", "s3-event", "no-name", "list", "none"],
)  # fmt: skip
def test_events_that_get_no_email(
    topic_arn: str, sagemaker: Stubber, event: Any, action: str
) -> None:
    result = invoke(event)  # no exception, and no DescribeTrainingJob (the stub has none)
    assert result["action"] == action
    assert result["reason"]
    assert sent(topic_arn) == []


@pytest.mark.parametrize(
    "name", ["x" * 120, "données-d'été-ñandú-" * 5, "猫と犬", "tab\there\nnewline"]
)
def test_subject_rules_for_long_and_unicode_dataset_names(
    topic_arn: str, sagemaker: Stubber, name: str
) -> None:
    event = load_event("training_completed")
    channel = event["detail"]["InputDataConfig"][0]
    channel["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://b/datasets/{name}/"
    expect_describe(
        sagemaker, "training_completed", InputDataConfig=event["detail"]["InputDataConfig"]
    )
    invoke(event)
    [email] = sent(topic_arn)
    subject = email["subject"]
    assert subject.isascii() and len(subject) < 100
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[yolo] Completed: ") and subject.endswith(" mAP50-95 0.612")
    assert email["attributes"]["dataset"].isascii()


def test_throttled_describe_raises_then_the_retry_sends_once(
    topic_arn: str, sagemaker: Stubber
) -> None:
    """Transient errors raise so Lambda retries; the failed attempt does not block the retry."""
    sagemaker.add_client_error("describe_training_job", "ThrottlingException", "Rate exceeded")
    expect_describe(sagemaker, "training_completed")
    event = load_event("training_completed")
    with pytest.raises(ClientError, match="ThrottlingException"):
        invoke(event)
    assert sent(topic_arn) == []
    assert invoke(event)["action"] == "sent"
    assert invoke(event)["action"] == "duplicate"
    assert len(sent(topic_arn)) == 1


def test_permanent_describe_error_still_emails_from_the_event(
    topic_arn: str, sagemaker: Stubber
) -> None:
    sagemaker.add_client_error("describe_training_job", "AccessDeniedException", "not allowed")
    invoke(load_event("training_failed"))
    [email] = sent(topic_arn)
    assert email["subject"] == "[yolo] Failed: pets"
    assert "CUDA out of memory" in email["message"]


def test_event_without_tags_reads_them_with_list_tags(topic_arn: str, sagemaker: Stubber) -> None:
    """Only when the job has no input channel to name the dataset (it always has one)."""
    event = load_event("training_completed")
    del event["detail"]["Tags"]
    del event["detail"]["InputDataConfig"]
    expect_describe(sagemaker, "training_completed", InputDataConfig=None)
    sagemaker.add_response(
        "list_tags",
        {"Tags": [{"Key": "yolo:dataset-uri", "Value": "s3://b/datasets/zebras/"}]},
        expected_params={"ResourceArn": event["detail"]["TrainingJobArn"]},
    )
    invoke(event)
    [email] = sent(topic_arn)
    assert email["subject"] == "[yolo] Completed: zebras mAP50-95 0.612"
    assert "Dataset:  s3://b/datasets/zebras/" in email["message"]


def test_missing_setting_fails_loudly(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFICATION_TOPIC_ARN", raising=False)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", TABLE)
    with pytest.raises(SettingsError, match="NOTIFICATION_TOPIC_ARN"):
        invoke(load_event("training_completed"))


def test_a_renderer_bug_still_sends_a_minimal_email(
    topic_arn: str, sagemaker: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yolo_pipeline.notifier.service as notifier

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(notifier, "render_job_email", broken)
    expect_describe(sagemaker, "training_failed")
    assert invoke(load_event("training_failed"))["action"] == "sent"
    [email] = sent(topic_arn)
    assert email["subject"] == "[yolo] Failed: yolo-pets-77c0e5b1"
    assert "CUDA out of memory" in email["message"]
    assert "logStreamNameFilter$3Dyolo-pets-77c0e5b1" in email["message"]
    assert email["attributes"]["status"] == "Failed"
