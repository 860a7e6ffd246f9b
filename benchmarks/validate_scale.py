"""Validator scale benchmark: N images on moto S3 with 20 ms injected per request.

    .venv/bin/python benchmarks/validate_scale.py                  # the issue-15 figures
    .venv/bin/python benchmarks/validate_scale.py --mode both      # both modes, N = 2k and 20k
    .venv/bin/python benchmarks/validate_scale.py --mode server --n 20000 --repeat 3
    .venv/bin/python benchmarks/validate_scale.py --profile --n 2000   # CPU split, 1 thread

Models in-region S3: a botocore ``before-send`` hook sleeps before every request. The
sequential floor is N x latency (400 s at 20k / 20 ms); target 20k in <= 15 s and
<= 300 MB peak RSS, with time linear in N. Prints wall time, requests and peak RSS.

Two modes, because moto's emulation of S3 is CPU the product never pays in AWS:
  inprocess  ``mock_aws``: moto answers every request inside this process, on our GIL
             (the mode the issue names; it measures moto as much as us).
  server     moto runs in a separate process (``ThreadedMotoServer``, needs moto[server])
             and the client talks HTTP to it through ``AWS_ENDPOINT_URL_S3``: this
             process does only what it does in AWS (botocore, urllib3, our checks).
  figures    (the default) against the server: client CPU per label object, ours (obstore)
             against a plain boto3 GetObject loop; wall time at 2k and 20k images; a zip
             of 20k images (time, bytes fetched as % of the archive); the COCO-scale
             extrapolation (118,287 label files) at 1,024 MB (~0.58 vCPU) and 1,769 MB (1 vCPU).
``--profile`` runs the validation single-threaded with latency 0 under cProfile, timing
CPU only, and splits it: our code, botocore/urllib3 client work, moto (in-process).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psutil

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)

BUCKET = "bench-bucket"
TINY_IMAGE = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"
BACKGROUND_EVERY = 10  # every 10th image has an empty label file (background)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def prefix_for(n: int) -> str:
    return f"datasets/bench-{n}/"


def populate(n: int) -> None:
    """Write N images (80% train) and their labels straight into moto's S3 backend.

    Bypasses the API (40k PutObjects would dominate the run). One label in ten is empty,
    as background images are in real datasets.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    if BUCKET not in backend.buckets:
        backend.create_bucket(BUCKET, "us-east-1")
    prefix = prefix_for(n)
    n_train = int(n * 0.8)
    for i in range(n):
        split = "train" if i < n_train else "val"
        stem = f"{split}/img_{i:06d}"
        rows = "".join(f"{(i + k) % 3} 0.{k + 2}00 0.500 0.100 0.200\n" for k in range(1 + i % 3))
        label = b"" if i % BACKGROUND_EVERY == BACKGROUND_EVERY - 1 else rows.encode()
        backend.put_object(BUCKET, f"{prefix}images/{stem}.jpg", TINY_IMAGE)
        backend.put_object(BUCKET, f"{prefix}labels/{stem}.txt", label)
    backend.put_object(
        BUCKET,
        f"{prefix}data.yaml",
        b"train: images/train\nval: images/val\nnames: [circle, square, triangle]\n",
    )


ZIP_KEY = "datasets/bench-zip.zip"
ZIP_IMAGE_BYTES = 10_000  # stored as is: the share fetched only shrinks with real photos


def populate_zip(n: int) -> None:
    """The same layout as ``populate`` in one archive, images stored (as JPEGs are)."""
    import io
    import zipfile

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    if BUCKET not in backend.buckets:
        backend.create_bucket(BUCKET, "us-east-1")
    buf = io.BytesIO()
    image = b"\xff\xd8" + bytes(ZIP_IMAGE_BYTES - 4) + b"\xff\xd9"
    n_train = int(n * 0.8)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export/data.yaml", "train: images/train\nval: images/val\nnames: [a, b, c]\n")
        stems = [f"{'train' if i < n_train else 'val'}/img_{i:06d}" for i in range(n)]
        for stem in stems:  # images first, labels after: as `zip -r` lays out the folders
            zf.writestr(f"export/images/{stem}.jpg", image, compress_type=zipfile.ZIP_STORED)
        for i, stem in enumerate(stems):
            rows = "".join(f"{(i + k) % 3} 0.{k + 2}00 0.500 0.100 0.200\n" for k in range(2))
            zf.writestr(f"export/labels/{stem}.txt", rows)
    backend.put_object(BUCKET, ZIP_KEY, buf.getvalue())


def _sequential_map(
    read: Callable[[str], bytes],
) -> Callable[..., Iterator[tuple[str, Any]]]:
    def map_read(paths: Iterable[str], fn: Callable[[str, bytes], Any], **_: Any) -> Any:
        for p in paths:  # in the calling thread, so cProfile sees it
            yield p, fn(p, read(p))

    return map_read


def measure(
    n: int, latency_s: float, workers: int, profile: cProfile.Profile | None = None
) -> dict[str, Any]:
    """Validate the N-image prefix once through the project's own S3 client."""
    from yolo_pipeline.aws import clients as aws
    from yolo_pipeline.dataset.storage.s3 import S3Storage
    from yolo_pipeline.dataset.validation import validate_dataset

    aws.reset_clients()
    client = aws.client("s3")  # the project's client: adaptive retries, 64 connections
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def slow(event_name: str = "before-send.s3.?", **_: Any) -> None:
        op = event_name.rsplit(".", 1)[-1]
        with lock:
            counts[op] = counts.get(op, 0) + 1
        if latency_s:
            time.sleep(latency_s)

    client.meta.events.register_first("before-send.s3", slow)
    storage = S3Storage(BUCKET, prefix_for(n), client=client)
    if profile is not None:
        storage.map_read = _sequential_map(storage.read_bytes)  # type: ignore[method-assign]
    else:
        storage.read_workers = workers
    rss_before = psutil.Process().memory_info().rss / 2**20
    cpu0 = time.process_time()
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    report = validate_dataset(storage)
    if profile is not None:
        profile.disable()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    client.meta.events.unregister("before-send.s3", slow)
    if not report.valid:
        raise SystemExit(report.render_text())
    splits = report.stats.splits.values()
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": sum(counts.values()),
        "by_operation": dict(sorted(counts.items())),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": rss_before,
        "images": sum(s.images for s in splits),
        "background": sum(s.background for s in splits),
    }


# --- server mode -------------------------------------------------------------------------


def serve(sizes: list[int]) -> int:
    """Child process: moto's server app on a free port with the datasets; ends on stdin EOF.

    Like ``ThreadedMotoServer`` (werkzeug, one thread per connection, moto's handler), but
    with keep-alive: werkzeug's dev server closes every connection, so each request would
    pay a TCP connect and a new server thread that AWS does not make us pay.
    """
    import logging

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class KeepAliveHandler(MotoRequestHandler):
        """moto's handler, answering with a Content-Length and keeping the connection."""

        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms)

        def run_wsgi(self) -> None:
            # werkzeug's run_wsgi always sends "Connection: close" and then drains the
            # socket, which would swallow the next request; this serves one request and
            # leaves the connection open. The benchmark only sends bodiless GETs.
            environ = self.make_environ()
            started: list[Any] = []

            def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
                started[:] = [status, headers]
                return lambda data: None

            chunks = app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                getattr(chunks, "close", lambda: None)()
            status, headers = started
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            head = self.command == "HEAD"  # keeps the app's Content-Length: the object's size
            for key, value in headers:
                skip = {"connection", "transfer-encoding"} | (set() if head else {"content-length"})
                if key.lower() not in skip:
                    self.send_header(key, value)
            if not head:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    for n in sizes:
        if n < 0:
            populate_zip(-n)  # a negative size asks for the zip
        else:
            populate(n)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_port, flush=True)
    sys.stdin.read()
    server.shutdown()
    return 0


class MotoServer:
    """moto in its own process, so its CPU is not on the measured process's GIL."""

    def __init__(self, sizes: list[int]) -> None:
        args = [sys.executable, __file__, "--serve", *[str(n) for n in sizes]]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            raise SystemExit(
                "moto server did not start (server mode needs moto[server]: run make setup)"
            )
        self.endpoint = f"http://127.0.0.1:{line}"

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- profile split ---------------------------------------------------------------------


def _cum(stats: pstats.Stats, match: Callable[[str, str], bool]) -> float:
    """Cumulative time of the outermost calls to the functions that match."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, ct, callers) in raw.items():
        if not match(file, name):
            continue
        # Only time entered from a non-matching caller, so recursion is not counted twice.
        outer = sum(c[3] for (cf, _cl, cn), c in callers.items() if not match(cf, cn))
        total += outer if callers else ct
    return total


def split_profile(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile)

    def is_(mod: str, fn: str) -> Callable[[str, str], bool]:
        return lambda f, n: n == fn and f.replace(os.sep, "/").endswith(mod)

    total = _cum(stats, is_("yolo_pipeline/dataset/validation/validator.py", "validate_dataset"))
    api = _cum(stats, is_("botocore/client.py", "_make_api_call"))
    moto = _cum(stats, is_("moto/core/botocore_stubber.py", "__call__"))
    labels = _cum(stats, is_("yolo_pipeline/dataset/labels.py", "check_label_file"))
    # Server mode: time blocked reading the socket is the server working, not us.
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    wait = sum(v[2] for k, v in raw.items() if "recv_into" in k[2])
    return {
        "total": total,
        "ours": total - api,
        "ours: label parsing": labels,
        "botocore + urllib3 client": api - moto - wait,
        "  of which response parsing": _cum(stats, is_("botocore/parsers.py", "parse")),
        "  of which timestamp parsing": _cum(
            stats, is_("botocore/parsers.py", "_handle_timestamp")
        ),
        "  of which signing": _cum(stats, is_("botocore/signers.py", "sign")),
        "  of which HTTP (urllib3)": _cum(stats, is_("botocore/endpoint.py", "_send")) - wait,
        "moto (in-process emulation)": moto,
        "waiting on the moto server": wait,
    }


# --- the issue-15 figures ----------------------------------------------------------------

COCO_LABELS = 118_287
VCPU = {1024: 1024 / 1769, 1769: 1.0}  # Lambda: one vCPU at 1,769 MB, CPU in proportion
MAIN_THREAD = "main"


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process: the Python main thread, and all threads."""
    proc = psutil.Process()
    main_id = threading.main_thread().native_id
    threads = proc.threads()
    main = sum(t.user_time + t.system_time for t in threads if t.id == main_id)
    return {MAIN_THREAD: main, "all": time.process_time()}


def _delta(before: dict[str, float]) -> dict[str, float]:
    after = _thread_cpu()
    return {k: after[k] - before[k] for k in after}


def cpu_per_object(n: int) -> dict[str, float]:
    """Read the N label objects twice: our bulk path, then a plain boto3 loop."""
    from yolo_pipeline.aws import clients as aws
    from yolo_pipeline.dataset.storage.s3 import S3Storage

    aws.reset_clients()
    client = aws.client("s3")
    prefix = prefix_for(n)
    storage = S3Storage(BUCKET, prefix, client=client)
    paths = [f.path for f in storage.list_files() if f.path.endswith(".txt") and f.size]
    before = _thread_cpu()
    sizes = sum(len(b) for _, b in storage.map_read(paths, lambda p, b: b))
    ours = _delta(before)
    before = _thread_cpu()
    plain = 0
    for p in paths:
        plain += len(client.get_object(Bucket=BUCKET, Key=prefix + p)["Body"].read())
    boto = _delta(before)
    assert sizes == plain
    return {
        "objects": len(paths),
        "ours_ms": 1000 * ours["all"] / len(paths),
        "ours_main_ms": 1000 * ours[MAIN_THREAD] / len(paths),
        "boto3_ms": 1000 * boto["all"] / len(paths),
    }


def validate_figures(n: int) -> dict[str, float]:
    from yolo_pipeline.aws import clients as aws
    from yolo_pipeline.dataset.storage.s3 import S3Storage
    from yolo_pipeline.dataset.validation import validate_dataset

    aws.reset_clients()
    storage = S3Storage(BUCKET, prefix_for(n), client=aws.client("s3"))
    before, start = _thread_cpu(), time.perf_counter()
    report = validate_dataset(storage)
    wall, cpu = time.perf_counter() - start, _delta(before)
    if not report.valid:
        raise SystemExit(report.render_text())
    labels = report.stats.label_files_read or 0
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu["all"],
        "main_s": cpu[MAIN_THREAD],
        "labels": labels,
    }


def zip_figures(n: int) -> dict[str, float]:
    from yolo_pipeline.aws import clients as aws
    from yolo_pipeline.dataset.storage.s3 import S3ZipObject
    from yolo_pipeline.dataset.storage.zip_storage import ZipStorage
    from yolo_pipeline.dataset.validation import validate_dataset

    aws.reset_clients()
    source = S3ZipObject(BUCKET, ZIP_KEY, client=aws.client("s3"))
    fetched = [0, 0]
    read = source.read_range

    def counting(start: int, end: int) -> bytes:
        data = read(start, end)
        fetched[0] += len(data)
        fetched[1] += 1
        return data

    source.read_range = counting  # type: ignore[method-assign]
    storage = ZipStorage(source)
    before, start = _thread_cpu(), time.perf_counter()
    report = validate_dataset(storage)
    wall, cpu = time.perf_counter() - start, _delta(before)
    if not report.valid:
        raise SystemExit(report.render_text())
    size = source.size()
    labels = report.stats.label_files_read or 0
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu["all"],
        "bytes": fetched[0],
        "requests": fetched[1],
        "size": size,
        "labels": labels,
    }


def _slice(data: bytes, start: int, end: int) -> bytes:
    return data[start:end]


def bomb_figures() -> str:
    """A label entry of 3 GiB of zeros, declared honestly and under a lying header."""
    import io
    import struct
    import tracemalloc
    import zlib

    from yolo_pipeline.dataset.storage.zip_reader import ArchiveError, ZipArchive

    mib = b"\0" * 2**20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    mid = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)  # identical after each full flush
    body = head + mid * 3071 + c.flush()

    def archive(declared: int) -> bytes:
        name = b"labels/a.txt"
        out = io.BytesIO()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(body),
                              declared, len(name), 0) + name + body)  # fmt: skip
        cd = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, 0, len(body),
                         declared, len(name), 0, 0, 0, 0, 0, 0) + name  # fmt: skip
        at = out.tell()
        out.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(cd), at, 0))
        return out.getvalue()

    parts = []
    for what, declared in (("declared 3 GiB", 3 << 30), ("declared 20 bytes", 20)):
        data = archive(declared)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            ZipArchive(functools.partial(_slice, data), len(data)).read("labels/a.txt")
            outcome = "READ (bug)"
        except ArchiveError as exc:
            outcome = f"refused ({exc})"
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        parts.append(f"{what}: {outcome} in {wall * 1000:.0f} ms, peak {peak:.0f} MiB")
    return f"3 GiB-of-zeros label ({len(body) / 2**20:.1f} MiB compressed): " + "; ".join(parts)


def extrapolate(cpu_s: float, main_s: float, labels: float, memory: int) -> float:
    """Seconds for COCO's label count: all CPU shared over the vCPUs, never below the
    Python thread's own share (one thread runs Python at a time)."""
    scale = COCO_LABELS / labels
    return max(cpu_s * scale / VCPU[memory], main_s * scale)


def run_figures(sizes: list[int]) -> None:
    print(bomb_figures())
    server = MotoServer([*sizes, -max(sizes)])
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    try:
        per = cpu_per_object(min(sizes))
        print(
            f"client CPU per label object ({per['objects']} objects, same server, one run): "
            f"ours {per['ours_ms']:.2f} ms (Python thread {per['ours_main_ms']:.2f} ms), "
            f"plain boto3 GetObject loop {per['boto3_ms']:.2f} ms: "
            f"ratio {per['boto3_ms'] / per['ours_ms']:.1f}x"
        )
        last: dict[str, float] = {}
        for n in sizes:
            last = validate_figures(n)
            print(
                f"folder of {n:>6} images: wall {last['wall_s']:6.2f} s, client CPU "
                f"{last['cpu_s']:6.2f} s (Python thread {last['main_s']:.2f} s), "
                f"{last['labels']} label files read (server local, no added latency)"
            )
        z = zip_figures(max(sizes))
        print(
            f"zip of {z['n']} images ({z['size'] / 2**20:.0f} MiB): wall {z['wall_s']:.2f} s, "
            f"client CPU {z['cpu_s']:.2f} s, {z['requests']} ranged GETs, "
            f"{z['bytes'] / 2**20:.2f} MiB fetched = {100 * z['bytes'] / z['size']:.2f}% "
            f"of the archive ({z['labels']} labels read)"
        )
        for memory in (1024, 1769):
            t = extrapolate(last["cpu_s"], last["main_s"], last["labels"], memory)
            zt = COCO_LABELS / z["labels"] * z["cpu_s"] / VCPU[memory]
            print(
                f"COCO scale ({COCO_LABELS:,} label files) at {memory:,} MB "
                f"(~{VCPU[memory]:.2f} vCPU): folder ~{t:.0f} s of the 900 s limit, "
                f"as a zip ~{zt:.0f} s; a folder of up to "
                f"~{int(800 * COCO_LABELS / t):,} label files fits in 800 s"
            )
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.close()


# --- driver -----------------------------------------------------------------------------


def run_mode(
    mode: str, sizes: list[int], latency_s: float, workers: int, repeat: int, profile: bool
) -> list[dict[str, Any]]:
    from moto import mock_aws

    server: MotoServer | None = None
    mock = mock_aws()
    if mode == "server":
        server = MotoServer(sizes)
        os.environ["AWS_ENDPOINT_URL_S3"] = server.endpoint  # botocore's per-service endpoint
    else:
        mock.start()
        for n in sizes:
            populate(n)
    try:
        results = []
        for n in sizes:
            if profile:
                prof = cProfile.Profile()  # one thread, no latency: wall time is CPU time
                r = measure(n, 0.0, 1, prof)
                r["split"] = split_profile(prof)
                results.append(r)
                continue
            runs = [measure(n, latency_s, workers) for _ in range(repeat)]
            r = dict(runs[-1])
            r["walls"] = [x["wall_s"] for x in runs]
            r["wall_s"] = statistics.median(r["walls"])
            r["cpu_s"] = statistics.median(x["cpu_s"] for x in runs)
            results.append(r)
        return results
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_S3", None)
        if server is not None:
            server.close()
        else:
            mock.stop()


def report(mode: str, results: list[dict[str, Any]], latency_ms: float, profile: bool) -> None:
    for r in results:
        if profile:
            print(f"[{mode}] N={r['n']}: seconds under cProfile, 1 thread, latency 0")
            total = r["split"]["total"] or 1.0
            for k, v in r["split"].items():
                print(f"    {k:32} {v:7.2f} s  {100 * v / total:5.1f}%")
            continue
        floor = r["requests"] * latency_ms / 1000
        walls = " ".join(f"{w:.2f}" for w in r["walls"])
        print(
            f"[{mode:9}] N={r['n']:>6}  wall {r['wall_s']:6.2f} s (median of [{walls}])  "
            f"CPU {r['cpu_s']:6.2f} s  requests {r['requests']:>6} {r['by_operation']}  "
            f"sequential floor {floor:5.0f} s  peak RSS {r['peak_rss_mb']:.0f} MB "
            f"({r['rss_before_mb']:.0f} MB before validating)  "
            f"({r['images']} images, {r['background']} background)"
        )
    if not profile and len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"[{mode:9}] time ratio {b['wall_s'] / a['wall_s']:.1f}x for "
            f"{b['n'] / a['n']:.0f}x images (linear: about equal)"
        )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve([int(x) for x in sys.argv[2:]])
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="images (repeatable)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=32, help="label reads in flight")
    parser.add_argument(
        "--mode", choices=["figures", "inprocess", "server", "both"], default="figures"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; median shown")
    parser.add_argument("--profile", action="store_true", help="CPU split, 1 thread, no latency")
    args = parser.parse_args()
    sizes = args.n or [2_000, 20_000]
    if args.mode == "figures":
        os.environ.pop("YOLO_S3_READER", None)  # the product's default: obstore
        run_figures(sizes)
        return 0
    modes = ["inprocess", "server"] if args.mode == "both" else [args.mode]
    # Each mode in its own process: peak RSS is per process, and mock_aws patches globally.
    if len(modes) > 1:
        for mode in modes:
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--mode", mode], check=True)
        return 0
    print(
        f"[{modes[0]}] latency {args.latency_ms:g} ms/request, {args.workers} workers, "
        f"{os.cpu_count()} CPUs"
    )
    results = run_mode(
        modes[0], sizes, args.latency_ms / 1000, args.workers, args.repeat, args.profile
    )
    report(modes[0], results, args.latency_ms, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
