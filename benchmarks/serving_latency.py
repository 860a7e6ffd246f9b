"""Serving figures, side by side in one run on the same model and images:

1. Latency per image: the inference server over HTTP (JPEG body, as InvokeEndpoint sends it,
   on a kept-alive connection as SageMaker's front end keeps them; a new connection per image
   is shown too) against Ultralytics' own in-process ``predict`` on the same files (median
   and p90 of ``--images`` images after a warm-up). Target: server <= 1.2x in-process.
2. Cold start: from starting ``python -m yolo_pipeline.serving serve`` to a healthy
   ``/ping`` (median of ``--starts``).
3. Memory: the server process's resident set after the run.

The model is ``--model`` (a run folder, best.pt or model.tar.gz; default: the demo's model
when ``make demo`` has run, else an untrained YOLO26n saved for the purpose) and the images
come from ``yolo-pipeline sample-dataset`` (generated). The inference image's size is an
estimate from its layers (inference_image/Dockerfile); this machine has no Docker engine.

    .venv/bin/python benchmarks/serving_latency.py [--model demo/run] [--images 30] [--starts 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from yolo_pipeline.dataset.sample import make_shapes_dataset  # noqa: E402
from yolo_pipeline.serving.client import (  # noqa: E402
    free_port,
    invoke,
    ping,
    server_process,
)
from yolo_pipeline.serving.model_files import find_weights  # noqa: E402

# Installed sizes of the image's layers (MB): python:3.11-slim ~125, libgl1 + glib ~110,
# torch 2.x CPU ~750, torchvision ~30, opencv-python ~95, polars ~110, numpy ~40, matplotlib
# + fonttools ~60, sympy + mpmath ~75, the rest (pillow, scipy-free Ultralytics, ...) ~80.
IMAGE_SIZE_ESTIMATE_GB = 1.5


def default_model(scratch: Path) -> Path:
    demo = ROOT / "demo" / "run"
    if (demo / "model" / "best.pt").is_file():
        return demo
    from tests.support.tiny_models import save_tiny_model

    return save_tiny_model("detect", scratch / "best.pt")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process(weights: Path, images: list[Path]) -> list[float]:
    from ultralytics import YOLO

    model = YOLO(str(weights))
    model.predict(str(images[0]), verbose=False)  # warm-up, as the server does at load
    times = []
    for path in images:
        start = time.perf_counter()
        model.predict(str(path), verbose=False)
        times.append(time.perf_counter() - start)
    return times


def over_http(url: str, images: list[Path]) -> list[float]:
    """One kept-alive connection, as SageMaker's front end keeps them to a container."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=60)
    headers = {"Content-Type": "image/jpeg"}
    times = []
    try:
        for path in [images[0], *images]:  # the first is a warm-up
            body = path.read_bytes()
            start = time.perf_counter()
            connection.request("POST", "/invocations", body, headers)
            response = connection.getresponse()
            json.loads(response.read())
            assert response.status == 200, response.status
            times.append(time.perf_counter() - start)
    finally:
        connection.close()
    return times[1:]


def over_http_new_connections(url: str, images: list[Path]) -> list[float]:
    """A new connection per image (``yolo-pipeline predict --local``)."""
    times = []
    for path in images:
        body = path.read_bytes()
        start = time.perf_counter()
        invoke(url, body, "image/jpeg")
        times.append(time.perf_counter() - start)
    return times


def cold_start(model: Path) -> float:
    start = time.perf_counter()
    with server_process(model, port=free_port()) as url:
        assert ping(url) == 200
        return time.perf_counter() - start


def server_memory_mb(url: str) -> float:
    import psutil

    port = int(url.rsplit(":", 1)[1])
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            return float(psutil.Process(connection.pid).memory_info().rss) / 2**20
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        model = args.model or default_model(scratch)
        weights = find_weights(model, scratch)
        make_shapes_dataset(scratch / "shapes", n_train=0, n_val=args.images)
        images = sorted((scratch / "shapes" / "images" / "val").glob("*.jpg"))
        print(f"model {weights} ({weights.stat().st_size / 2**20:.1f} MB), {len(images)} images")
        local = in_process(weights, images)
        with server_process(model) as url:
            served = over_http(url, images)
            fresh = over_http_new_connections(url, images)
            memory = server_memory_mb(url)
        starts = [cold_start(model) for _ in range(args.starts)]
    ratio = statistics.median(served) / statistics.median(local)
    print(f"{'':24}{'median':>10}{'p90':>10}")
    rows = (
        ("in-process predict", local),
        ("server over HTTP", served),
        ("  new connection each", fresh),
    )
    for label, times in rows:
        print(
            f"{label:<24}{statistics.median(times) * 1000:>8.1f}ms"
            f"{percentile(times, 0.9) * 1000:>8.1f}ms"
        )
    print(f"server / in-process     {ratio:.2f}x (target <= 1.2x)")
    print(f"cold start to /ping     {statistics.median(starts):.1f} s (median of {len(starts)})")
    print(f"server memory (RSS)     {memory:.0f} MB")
    print(f"inference image         ~{IMAGE_SIZE_ESTIMATE_GB:.1f} GB (estimate; limit ~10 GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
