"""Validator scale benchmark: N images on moto S3 with 20 ms injected per request.

    .venv/bin/python benchmarks/validate_scale.py            # N = 2,000 and 20,000
    .venv/bin/python benchmarks/validate_scale.py --n 500 --latency-ms 5

Models in-region S3: a botocore ``before-send`` hook sleeps before every request. The
sequential floor is N x latency (400 s at 20k / 20 ms); target 20k in <= 15 s and
<= 300 MB peak RSS, with time linear in N. Prints wall time, requests and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)

BUCKET = "bench-bucket"
TINY_IMAGE = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def populate(client: Any, prefix: str, n: int) -> None:
    """Write N images (80% train) and their labels straight into moto's backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    client.create_bucket(Bucket=BUCKET)
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    n_train = int(n * 0.8)
    for i in range(n):
        split = "train" if i < n_train else "val"
        stem = f"{split}/img_{i:06d}"
        rows = "\n".join(f"{(i + k) % 3} 0.{k + 2}00 0.500 0.100 0.200" for k in range(1 + i % 3))
        backend.put_object(BUCKET, f"{prefix}images/{stem}.jpg", TINY_IMAGE)
        backend.put_object(BUCKET, f"{prefix}labels/{stem}.txt", (rows + "\n").encode())
    backend.put_object(
        BUCKET,
        f"{prefix}data.yaml",
        b"train: images/train\nval: images/val\nnames: [circle, square, triangle]\n",
    )


def run(n: int, latency_s: float, workers: int) -> dict[str, Any]:
    from yolo_pipeline import aws
    from yolo_pipeline.storage import S3Storage
    from yolo_pipeline.validation import validate_dataset

    aws.reset_clients()
    client = aws.client("s3")
    prefix = f"datasets/bench-{n}/"
    populate(client, prefix, n)
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def slow(event_name: str = "before-send.s3.?", **_: Any) -> None:
        op = event_name.rsplit(".", 1)[-1]
        with lock:
            counts[op] = counts.get(op, 0) + 1
        time.sleep(latency_s)

    client.meta.events.register("before-send.s3", slow)
    storage = S3Storage(BUCKET, prefix, client=client)
    original = storage.map_read

    def map_read(paths: Any, fn: Any, max_workers: int = workers) -> Any:
        return original(paths, fn, max_workers=workers)

    storage.map_read = map_read  # type: ignore[method-assign]
    start = time.perf_counter()
    report = validate_dataset(storage)
    wall = time.perf_counter() - start
    client.meta.events.unregister("before-send.s3", slow)
    if not report.valid:
        raise SystemExit(report.render_text())
    return {
        "n": n,
        "wall_s": wall,
        "requests": sum(counts.values()),
        "by_operation": dict(sorted(counts.items())),
        "peak_rss_mb": peak_rss_mb(),
        "images": sum(s["images"] for s in report.stats["splits"].values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="images (repeatable)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=32, help="label reads in flight")
    args = parser.parse_args()
    from moto import mock_aws

    sizes = args.n or [2_000, 20_000]
    print(f"latency {args.latency_ms:g} ms/request, {args.workers} workers")
    with mock_aws():
        results = [run(n, args.latency_ms / 1000, args.workers) for n in sizes]
    for r in results:
        floor = r["requests"] * args.latency_ms / 1000
        print(
            f"N={r['n']:>6}  wall {r['wall_s']:6.2f} s  requests {r['requests']:>6} "
            f"{r['by_operation']}  sequential floor {floor:6.0f} s  "
            f"peak RSS {r['peak_rss_mb']:.0f} MB  ({r['images']} images judged)"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"time ratio {b['wall_s'] / a['wall_s']:.1f}x for {b['n'] / a['n']:.0f}x images "
            "(linear: about equal)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
