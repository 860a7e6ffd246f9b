"""The settle rule end to end: LaunchQueue, deferred checks, and the upload orders real tools use.

Each test writes objects into moto S3 in a tool's order, puts the data.yaml event on the
launcher's queue as the EventBridge rule would, and polls the queue as the event source
mapping does. The clock (moto's and the launcher's) moves by hand: no sleeping.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from tests.support.dataset_factory import detect_dataset, without, write_local
from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.launcher_world import (
    BUCKET,
    SETTLE_SECONDS,
    Clock,
    LauncherWorld,
    upload_event,
)
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.launcher.settle import ATTEMPT_ATTRIBUTE

PREFIX = "datasets/shapes/"
KEY = PREFIX + "data.yaml"


def _put(rel: str, body: bytes, **kwargs: Any) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key=PREFIX + rel, Body=body, **kwargs)


def _kinds(world: LauncherWorld) -> list[str]:
    return [e["attributes"]["kind"]["Value"] for e in world.emails()]


def _write_like_the_cli(
    world: LauncherWorld,
    files: dict[str, bytes],
    clock: Clock,
    context: FakeLambdaContext,
    per_object: float = 0.5,
) -> None:
    """`aws s3 cp --recursive`: sorted order, so data.yaml first; its event is on the queue
    at once, and the launcher polls while the rest is still being written."""
    for n, rel in enumerate(sorted(files)):
        _put(rel, files[rel])
        if rel == "data.yaml":
            world.enqueue(upload_event(KEY, sequencer=f"{n:020d}"))
        clock.advance(per_object)
        world.deliver(context)


def test_cp_recursive_order_starts_one_job_after_the_upload_settles(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    files = detect_dataset(n_train=40, n_val=10)  # 101 objects, ~50 s of writing
    assert sorted(files)[0] == "data.yaml"  # the order the AWS CLI writes in

    _write_like_the_cli(settling_world, files, clock, lambda_context)
    assert settling_world.requests == [] and settling_world.emails() == []  # still waiting
    settling_world.run_queue(lambda_context, clock, until=3 * SETTLE_SECONDS)

    assert len(settling_world.requests) == 1
    assert _kinds(settling_world) == ["JobStarted"]
    assert settling_world.queue_depth() == 0
    # Every re-sent check carried the same event and waited at most SETTLE_SECONDS.
    assert settling_world.sent
    for sent in settling_world.sent:
        assert json.loads(sent["MessageBody"])["detail"]["object"]["key"] == KEY
        assert 1 <= sent["DelaySeconds"] <= min(900, SETTLE_SECONDS)
    assert settling_world.sent[0]["DelaySeconds"] == SETTLE_SECONDS
    attempts = [
        int(s["MessageAttributes"][ATTEMPT_ATTRIBUTE]["StringValue"]) for s in settling_world.sent
    ]
    assert attempts == list(range(1, len(attempts) + 1))


def test_cli_upload_metadata_starts_the_job_at_the_first_delivery(
    settling_world: LauncherWorld, lambda_context: FakeLambdaContext, tmp_path: Path
) -> None:
    from yolo_pipeline.cli.upload import upload_dataset

    root = write_local(tmp_path / "shapes", detect_dataset(n_train=6, n_val=3))
    out = io.StringIO()
    code = upload_dataset(root, f"s3://{BUCKET}/{PREFIX}", progress=False, out=out)
    assert code == 0, out.getvalue()
    assert "right away" in out.getvalue()
    head = aws.client("s3").head_object(Bucket=BUCKET, Key=KEY)
    assert head["Metadata"]["yolo-upload"] == "complete"

    settling_world.enqueue(upload_event(KEY))
    settling_world.deliver(lambda_context)  # every object is seconds old: no matter

    assert len(settling_world.requests) == 1
    assert _kinds(settling_world) == ["JobStarted"]
    assert settling_world.sent == []  # never deferred


def test_upload_that_stops_half_way_gets_one_rejection_naming_what_is_missing(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    files = without(detect_dataset(n_train=6, n_val=3), "images/val")
    files = without(files, "labels")
    _write_like_the_cli(settling_world, files, clock, lambda_context)  # then nothing more
    settling_world.run_queue(lambda_context, clock, until=3 * SETTLE_SECONDS)

    assert settling_world.requests == []
    (email,) = settling_world.emails()
    assert email["attributes"]["kind"]["Value"] == "DatasetRejected"
    body = email["message"]
    assert "images/val" in body
    assert "Upload what is missing" in body and "upload data.yaml again" in body
    assert "still changing" not in body
    assert settling_world.queue_depth() == 0


def test_data_yaml_replaced_mid_upload_trains_on_the_newer_one(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    files = detect_dataset(n_train=10, n_val=4)
    _put("data.yaml", b"train: images/train\nval: images/val\nnames: [a, b]\n")
    settling_world.enqueue(upload_event(KEY, sequencer="0001"))
    settling_world.deliver(lambda_context)
    for rel in sorted(files):
        if rel == "data.yaml":  # the user fixes the class names while the upload runs
            _put(rel, files[rel])
            settling_world.enqueue(upload_event(KEY, sequencer="0002"))
        else:
            _put(rel, files[rel])
        clock.advance(0.5)
        settling_world.deliver(lambda_context)
    settling_world.run_queue(lambda_context, clock, until=3 * SETTLE_SECONDS)

    (request,) = settling_world.requests
    newer = aws.client("s3").head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"')
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["yolo:data-yaml-etag"] == newer
    assert _kinds(settling_world) == ["JobStarted"]
    assert "circle, square, triangle" in settling_world.emails()[0]["message"]
    assert settling_world.queue_depth() == 0


def test_a_multipart_upload_in_progress_defers(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    files = detect_dataset(n_train=6, n_val=3)
    for rel in sorted(files):
        _put(rel, files[rel])
    s3 = aws.client("s3")
    big = PREFIX + "images/train/big_00000.jpg"
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=big)["UploadId"]
    part = s3.upload_part(
        Bucket=BUCKET, Key=big, UploadId=upload_id, PartNumber=1, Body=files[sorted(files)[1]]
    )
    clock.advance(10 * SETTLE_SECONDS)  # every listed object is long quiet
    settling_world.enqueue(upload_event(KEY))
    settling_world.deliver(lambda_context)

    assert settling_world.requests == [] and settling_world.emails() == []
    (deferred,) = settling_world.sent
    assert deferred["DelaySeconds"] == SETTLE_SECONDS

    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=big,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    settling_world.run_queue(lambda_context, clock, until=3 * SETTLE_SECONDS)
    assert len(settling_world.requests) == 1
    assert _kinds(settling_world) == ["JobStarted"]


def test_max_settle_reached_checks_the_folder_once_as_it_stands(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    max_settle = 600
    launcher = settling_world.module.launcher
    launcher.settings = replace(launcher.settings, max_settle_seconds=max_settle)
    files = without(detect_dataset(n_train=6, n_val=3), "images/val")
    start = clock()
    _write_like_the_cli(settling_world, files, clock, lambda_context)
    # A process that never stops writing into the folder (a new label every 20 s).
    n = 0
    while settling_world.queue_depth() and n < 2 * max_settle // 20:
        _put(f"labels/train/extra_{n:05d}.txt", b"0 0.5 0.5 0.1 0.1\n")
        clock.advance(20)
        settling_world.deliver(lambda_context)
        n += 1
    assert settling_world.queue_depth() == 0  # the chain ended
    assert max_settle <= clock() - start <= max_settle + 2 * SETTLE_SECONDS

    for _ in range(5):  # it keeps writing: nothing more happens
        _put(f"labels/train/extra_{n:05d}.txt", b"0 0.5 0.5 0.1 0.1\n")
        clock.advance(SETTLE_SECONDS)
        settling_world.deliver(lambda_context)
        n += 1
    assert settling_world.requests == []
    (email,) = settling_world.emails()
    assert email["attributes"]["kind"]["Value"] == "DatasetRejected"
    body = email["message"]
    assert "still changing after 10 min" in body and "checked as it stood" in body
    assert "images/val" in body and "Upload what is missing" in body


def test_duplicate_deliveries_of_deferred_messages_still_start_one_job(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    files = detect_dataset(n_train=10, n_val=4)
    for rel in sorted(files):
        _put(rel, files[rel])
        if rel == "data.yaml":
            settling_world.enqueue(upload_event(KEY))
    rounds = 0
    while settling_world.queue_depth() and rounds < 4 * SETTLE_SECONDS:
        settling_world.deliver(lambda_context, copies=3)  # each message three times
        assert settling_world.queue_depth() <= 1  # duplicates never multiply the checks
        clock.advance(1)
        rounds += 1

    assert len(settling_world.requests) == 1
    assert _kinds(settling_world) == ["JobStarted"]
    # Three copies of the last message reached the launch: one job, the rest remembered.
    assert settling_world.queue_depth() == 0


def test_a_bare_eventbridge_event_is_one_record_and_defers_through_the_queue(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    """`sam local invoke -e events/dataset_uploaded.json`: the event is not wrapped."""
    files = detect_dataset()
    for rel in sorted(files):
        _put(rel, files[rel])
    result = settling_world.invoke(upload_event(KEY), lambda_context)
    assert result["status"] == "deferred" and result["delay_seconds"] == SETTLE_SECONDS
    settling_world.run_queue(lambda_context, clock, until=3 * SETTLE_SECONDS)
    assert len(settling_world.requests) == 1


def test_the_sqs_sample_event_gets_a_partial_batch_response(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    """`sam local invoke -e events/dataset_uploaded_sqs.json`: what LaunchQueue delivers."""
    files = detect_dataset()
    for rel in sorted(files):
        _put(rel, files[rel])
    clock.advance(2 * SETTLE_SECONDS)
    event = load_event("dataset_uploaded_sqs")
    (record,) = event["Records"]
    record["body"] = json.dumps(upload_event(KEY))

    assert settling_world.invoke(event, lambda_context) == {"batchItemFailures": []}
    assert len(settling_world.requests) == 1
    assert _kinds(settling_world) == ["JobStarted"]


def test_a_record_that_raises_is_a_batch_item_failure_and_its_quota_email_goes_once(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    """Quota on one dataset of the batch: that record fails (redelivered, then the DLQ),
    the other one starts; the redelivery does not email the quota again."""
    for name in ("alpha", "beta"):
        for rel, body in detect_dataset().items():
            aws.client("s3").put_object(Bucket=BUCKET, Key=f"datasets/{name}/{rel}", Body=body)
        settling_world.enqueue(upload_event(f"datasets/{name}/data.yaml", sequencer=name))
    clock.advance(2 * SETTLE_SECONDS)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"
    quota = "The account-level service limit 'ml.g4dn.xlarge for spot training job usage' is 0."
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": arn})
        stub.add_client_error("create_training_job", "ResourceLimitExceeded", quota, 400)
        handled, failed = settling_world.deliver(lambda_context)
        assert handled == 2 and len(failed) == 1
        clock.advance(31)  # past the queue's visibility timeout: SQS delivers it again
        stub.add_client_error("create_training_job", "ResourceLimitExceeded", quota, 400)
        handled, failed = settling_world.deliver(lambda_context)
        assert handled == 1 and len(failed) == 1

    assert len(settling_world.requests) == 3  # alpha once, beta twice
    assert sorted(_kinds(settling_world)) == ["JobStarted", "QuotaExceeded"]


def test_a_settle_check_costs_the_listing_up_to_the_first_recent_object(
    settling_world: LauncherWorld, clock: Clock
) -> None:
    """What settle.py's docstring states, measured: pages of 1,000 objects up to the first
    recent one (a quiet folder: all of them), then one multipart listing when quiet."""
    from yolo_pipeline.launcher.settle import Attempt
    from yolo_pipeline.launcher.settle_io import settle

    s3 = aws.client("s3")
    for n in range(1500):
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}images/{n:05d}.jpg", Body=b"x")
    _put("data.yaml", b"names: [a]\n")
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    launcher = settling_world.module.launcher
    up = _upload_for(KEY)

    clock.advance(10 * SETTLE_SECONDS)  # everything quiet: the whole listing, two pages
    assert settle(s3, up, Attempt(), launcher.settings, clock()).action == "launch"
    assert calls.count("ListObjectsV2") == 2 and calls.count("ListMultipartUploads") == 1

    calls.clear()  # a busy folder whose newest object sorts first: one page
    _put("aaa.txt", b"new")
    assert settle(s3, up, Attempt(), launcher.settings, clock()).action == "defer"
    assert calls.count("ListObjectsV2") == 1 and calls.count("ListMultipartUploads") == 0


def _upload_for(key: str) -> Any:
    from yolo_pipeline.launcher.s3_event import Upload

    head = aws.client("s3").head_object(Bucket=BUCKET, Key=key)
    return Upload(BUCKET, key, "01", etag=head["ETag"].strip('"'), reason="PutObject")


def test_an_abandoned_multipart_upload_is_named_with_its_abort_command_not_waited_for(
    settling_world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    s3 = aws.client("s3")
    killed = PREFIX + "images/train/huge.jpg"  # what a killed `aws s3 cp` leaves behind
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=killed)["UploadId"]
    clock.advance(2 * 24 * 3600)
    files = detect_dataset(n_train=6, n_val=3)
    for rel in sorted(files):
        _put(rel, files[rel])
    clock.advance(10 * SETTLE_SECONDS)
    settling_world.enqueue(upload_event(KEY))
    settling_world.deliver(lambda_context)

    assert len(settling_world.requests) == 1 and settling_world.sent == []
    (email,) = settling_world.emails()
    assert "aws s3api abort-multipart-upload" in email["message"]
    assert upload_id in email["message"] and killed in email["message"]
