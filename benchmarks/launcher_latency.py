"""Launcher latency: two figures.

1. The handler end to end (validate + CreateTrainingJob + email) on a 1,000-image
   dataset in moto, with 20 ms injected before every S3 request (a botocore
   ``before-send`` hook that sleeps), so the figure reflects S3 round trips, not moto's
   in-process speed. Target: <= 3 s.
2. Cold import of ``start_training`` against a bare ``import boto3``, each in fresh
   interpreters (median of N). Target: <= 1.5x.

    .venv/bin/python benchmarks/launcher_latency.py [--images 1000] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
BUCKET = "bench-datasets"
TOPIC = "bench-topic"
TABLE = "bench-idempotency"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "TRAINING_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo:latest",
    "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/yolo",
    "NOTIFICATION_TOPIC_ARN": f"arn:aws:sns:us-east-1:123456789012:{TOPIC}",
    "IDEMPOTENCY_TABLE": TABLE,
    "OUTPUT_S3_URI": "s3://bench-artifacts/models/",
    "CHECKPOINT_S3_URI": "s3://bench-artifacts/checkpoints/",
}


def _dataset(images: int) -> dict[str, bytes]:
    """A valid detect dataset: 80/20 train/val, one small label file per image."""
    files: dict[str, bytes] = {}
    n_val = max(1, images // 5)
    for i in range(images):
        split = "val" if i < n_val else "train"
        files[f"images/{split}/{i:05d}.jpg"] = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"
        rows = [f"{(i + k) % 3} 0.{3 + k} 0.5 0.1 0.2" for k in range(i % 3 + 1)]
        files[f"labels/{split}/{i:05d}.txt"] = ("\n".join(rows) + "\n").encode()
    files["data.yaml"] = (
        b"train: images/train\nval: images/val\nnames: [circle, square, triangle]\n"
    )
    return files


def _event(key: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-27T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 1, "etag": "e", "sequencer": str(time.time_ns())},
            "reason": "PutObject",
        },
    }


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def handler_seconds(images: int, latency_ms: float, runs: int) -> tuple[list[float], int]:
    """Wall time of each handler run, and S3 requests per run."""
    os.environ.update(ENV)
    sys.path.insert(0, str(FUNCTIONS))
    from moto import mock_aws

    from yolo_pipeline.aws import clients as aws

    times: list[float] = []
    s3_requests = 0
    with mock_aws():
        aws.reset_clients()
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        aws.client("sns").create_topic(Name=TOPIC)
        aws.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for rel, body in _dataset(images).items():
            s3.put_object(Bucket=BUCKET, Key=f"datasets/bench/{rel}", Body=body)

        counter = [0]

        def slow(**_: Any) -> None:
            counter[0] += 1
            time.sleep(latency_ms / 1000)

        s3.meta.events.register_first("before-send.s3", slow)
        import start_training

        module = importlib.reload(start_training)
        for _ in range(runs):
            counter[0] = 0
            start = time.perf_counter()
            result = module.lambda_handler(_event("datasets/bench/data.yaml"), _Context())
            times.append(time.perf_counter() - start)
            if result.get("status") != "started":
                raise SystemExit(f"handler did not start a job: {result}")
            s3_requests = counter[0]
    aws.reset_clients()
    return times, s3_requests


def import_seconds(module: str, repeats: int, after: str = "") -> float:
    """Median time to import ``module`` in a fresh interpreter (measured inside it),
    after importing ``after`` first (untimed) when given."""
    code = (f"import {after}; " if after else "") + (
        f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, **ENV, "PYTHONPATH": str(FUNCTIONS)}
    samples = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--import-repeats", type=int, default=7)
    args = parser.parse_args(argv)

    # Imports first, in fresh interpreters, before this process warms any cache.
    boto3_s = import_seconds("boto3", args.import_repeats)
    handler_s = import_seconds("start_training", args.import_repeats)
    xray_s = import_seconds("aws_xray_sdk.core", args.import_repeats, after="boto3")
    ratio = handler_s / boto3_s

    times, requests = handler_seconds(args.images, args.latency_ms, args.runs)
    best, median = min(times), statistics.median(times)
    print(
        f"handler end to end, {args.images} images, {args.latency_ms:g} ms per S3 request "
        f"({requests} S3 requests/run): median {median:.2f} s, best {best:.2f} s "
        f"over {len(times)} runs (target <= 3 s) {'OK' if median <= 3 else 'OVER'}"
    )
    print(
        f"cold import: start_training {handler_s * 1000:.0f} ms vs boto3 {boto3_s * 1000:.0f} ms "
        f"= {ratio:.2f}x (median of {args.import_repeats}; target <= 1.5x) "
        f"{'OK' if ratio <= 1.5 else 'OVER'}"
    )
    print(
        f"  of which the X-Ray SDK (Powertools Tracer builds its sampling client at import): "
        f"{xray_s * 1000:.0f} ms; without it {(handler_s - xray_s) / boto3_s:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
