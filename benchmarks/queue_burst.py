"""The launch queue under a burst: N uploads of distinct datasets against a cap of two jobs,
the launcher talking to moto_server (ThreadedMotoServer) with ``--latency-ms`` slept
before every request it sends. Prints:

1. a queued check (a waiting upload's periodic re-check while the cap is full): the
   launcher's CPU time and its requests, by service;
2. the time from a slot freeing (a job ends and the notifier's wake-up is on the queue) to
   the next CreateTrainingJob (median of ``--slots``);
3. what waiting costs per queued upload per hour: SQS requests and Lambda invocations at
   the production re-check interval, priced at us-east-1 list prices.

The re-check interval is shortened here (``QUEUE_RECHECK_SECONDS``) so the checks come
without waiting 15 minutes; the figures per check do not depend on it.

    .venv/bin/python benchmarks/queue_burst.py [--uploads 100] [--latency-ms 20] [--slots 10]
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import logging
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

BUCKET, TOPIC, TABLE, UPLOADS, QUEUE = "bench-b", "bench-t", "bench-idem", "bench-up", "bench-q"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "TRAINING_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo:latest",
    "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/yolo",
    "NOTIFICATION_TOPIC_ARN": f"arn:aws:sns:us-east-1:123456789012:{TOPIC}",
    "IDEMPOTENCY_TABLE": TABLE,
    "UPLOADS_TABLE": UPLOADS,
    "OUTPUT_S3_URI": "s3://bench-artifacts/models/",
    "CHECKPOINT_S3_URI": "s3://bench-artifacts/checkpoints/",
    "SETTLE_SECONDS": "0",
    "MAX_CONCURRENT_JOBS": "2",
    "QUEUE_RECHECK_SECONDS": "1",
}
# us-east-1 list prices (2025): SQS standard per request; Lambda x86 per request and GB-s.
SQS_USD_PER_REQUEST = 0.40 / 1e6
LAMBDA_USD_PER_REQUEST = 0.20 / 1e6
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAUNCHER_MEMORY_GB = 1769 / 1024  # template.yaml StartTrainingFunction MemorySize
SQS_BATCH = 10  # the event source mapping's batch size: records per invocation at best


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {},
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}",
        "awsRegion": "us-east-1",
    }


def _event(key: str, etag: str, n: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"bench-{n}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 1, "etag": etag, "sequencer": f"{n:020d}"},
            "reason": "PutObject",
        },
    }


def _jobs_start_in_progress() -> None:
    """moto creates training jobs Completed; here they run until ``finish_jobs`` ends them."""
    from moto.sagemaker import models

    original = models.FakeTrainingJob.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.training_job_status = "InProgress"

    models.FakeTrainingJob.__init__ = init  # type: ignore[method-assign]


class Bench:
    def __init__(self, latency_ms: float) -> None:
        from moto.server import ThreadedMotoServer

        from tests.support.uploads_table import create_uploads_table

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto_server's access log
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()
        os.environ.update(ENV, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        _jobs_start_in_progress()
        from yolo_pipeline.aws import clients as aws

        aws.reset_clients()
        self.aws = aws
        self.sqs = aws.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        os.environ["LAUNCH_QUEUE_URL"] = self.queue_url
        aws.client("s3").create_bucket(Bucket=BUCKET)
        aws.client("sns").create_topic(Name=TOPIC)
        dynamodb = aws.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        create_uploads_table(dynamodb, UPLOADS)
        import start_training

        self.module = importlib.reload(start_training)
        self.requests: collections.Counter[str] = collections.Counter()
        self.created: list[float] = []
        self.latency_s = latency_ms / 1000
        for service in ("s3", "sagemaker", "sqs", "dynamodb", "sns"):
            aws.client(service).meta.events.register_first(
                f"before-send.{service}", self._slow(service)
            )
        aws.client("sagemaker").meta.events.register(
            "after-call.sagemaker.CreateTrainingJob",
            lambda **_: self.created.append(time.perf_counter()),
        )

    def _slow(self, service: str) -> Any:
        def slow(**_: Any) -> None:
            self.requests[service] += 1
            time.sleep(self.latency_s)

        return slow

    def upload(self, n: int) -> None:
        s3 = self.aws.client("s3")
        prefix = f"datasets/set{n:03d}/"
        for split in ("train", "val"):
            s3.put_object(Bucket=BUCKET, Key=f"{prefix}images/{split}/a.jpg", Body=b"\xff\xd8x")
            s3.put_object(
                Bucket=BUCKET, Key=f"{prefix}labels/{split}/a.txt", Body=b"0 .5 .5 .1 .1\n"
            )
        put = s3.put_object(
            Bucket=BUCKET,
            Key=f"{prefix}data.yaml",
            Body=b"train: images/train\nval: images/val\nnames: [a]\n",
        )
        body = json.dumps(_event(f"{prefix}data.yaml", put["ETag"].strip('"'), n))
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def poll(self) -> tuple[int, float, float]:
        """One receive and one invocation: (records, handler CPU s, handler wall s)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return 0, 0.0, 0.0
        cpu, wall = time.thread_time(), time.perf_counter()
        self.module.lambda_handler({"Records": [_record(m) for m in messages]}, _Context())
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        return len(messages), cpu, wall

    def take(self, records: int) -> tuple[int, float, float]:
        """Poll until ``records`` records were handled: (records, CPU s, wall s)."""
        got, cpu, wall = 0, 0.0, 0.0
        while got < records:
            n, c, w = self.poll()
            if not n:
                time.sleep(0.1)
            got, cpu, wall = got + n, cpu + c, wall + w
        return got, cpu, wall

    def drain(self, quiet_s: float = 3.0) -> None:
        """Poll until nothing arrives for ``quiet_s``."""
        last = time.perf_counter()
        while time.perf_counter() - last < quiet_s:
            if self.poll()[0]:
                last = time.perf_counter()
            else:
                time.sleep(0.1)

    def recheck_every(self, seconds: int) -> None:
        """A new cold start with another re-check interval."""
        os.environ["QUEUE_RECHECK_SECONDS"] = str(seconds)
        self.module = importlib.reload(self.module)


def _print_cost(check_wall_s: float) -> None:
    """Figure 3: what waiting costs per queued upload per hour, at the production interval."""
    from yolo_pipeline.launcher.queue_rules import RECHECK_SECONDS

    checks = 3600 / RECHECK_SECONDS
    sqs_requests = checks * 3  # SendMessage, ReceiveMessage, DeleteMessage(Batch): worst case
    invocations = (checks / SQS_BATCH, checks)
    gb_seconds = checks * check_wall_s * LAUNCHER_MEMORY_GB
    usd = (
        sqs_requests * SQS_USD_PER_REQUEST
        + invocations[1] * LAMBDA_USD_PER_REQUEST
        + gb_seconds * LAMBDA_USD_PER_GB_SECOND
    )
    print(f"\n3. Per queued upload per hour (a check every {RECHECK_SECONDS} s)")
    print(f"   checks:         {checks:.0f}")
    print(f"   SQS requests:   {sqs_requests:.0f} at most")
    print(f"   Lambda:         {invocations[0]:.1f} to {invocations[1]:.0f} invocations,")
    print(f"                   {gb_seconds:.2f} GB-s at {LAUNCHER_MEMORY_GB * 1024:.0f} MB")
    print(f"   cost:           ${usd:.7f} an hour (${usd * 24 * 30:.4f} a month of waiting)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--slots", type=int, default=10)
    args = parser.parse_args(argv)

    from tests.support.queue_world import finish_jobs
    from yolo_pipeline.aws.launch_queue import wake_body

    bench = Bench(args.latency_ms)
    for n in range(args.uploads):
        bench.upload(n)
    bench.take(args.uploads)  # every upload validated: two started, the rest queued
    print(f"{args.uploads} uploads: {len(bench.created)} started, the rest queued")

    # 1. Queued checks while the cap is full (re-checks every second here).
    bench.requests.clear()
    records, cpu, wall = bench.take(args.uploads - 2)
    per = {k: v / records for k, v in sorted(bench.requests.items())}
    print(f"\n1. A queued check ({records} checks, cap full, {args.latency_ms:g} ms per request)")
    print(f"   launcher CPU:   {cpu / records * 1000:.1f} ms per check")
    print(f"   wall:           {wall / records * 1000:.1f} ms per check")
    print("   requests:       " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))
    print(f"                   {sum(per.values()):.2f} in all per check")
    bench.recheck_every(900)  # production: the waiting uploads go quiet, the wake-up acts
    bench.drain()

    # 2. A slot frees: a job ends and the notifier's wake-up arrives.
    waits = []
    for _ in range(args.slots):
        before = len(bench.created)
        (ended,) = finish_jobs(1)
        freed = time.perf_counter()
        bench.sqs.send_message(QueueUrl=bench.queue_url, MessageBody=wake_body(ended))
        while len(bench.created) == before:
            if not bench.poll()[0]:
                time.sleep(0.01)
        waits.append(bench.created[-1] - freed)
    print(f"\n2. Slot freed -> next CreateTrainingJob (median of {len(waits)})")
    print(f"   {statistics.median(waits) * 1000:.0f} ms (max {max(waits) * 1000:.0f} ms)")

    _print_cost(wall / records)
    bench.server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
