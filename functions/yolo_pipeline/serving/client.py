"""Talk to an inference server (``yolo-pipeline predict --local``, the demo, the tests), and
run one as a child process. Standard library only: the CLI needs nothing else to call it.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.serving.request import CUSTOM_ATTRIBUTES, JPEG, PNG
from yolo_pipeline.text import clean

LOCALHOST = "127.0.0.1"
START_TIMEOUT = 180.0  # a cold torch import on a busy 2-core machine takes tens of seconds
REQUEST_TIMEOUT = 120.0


class ServerError(PipelineError):
    """The server answered with an error status, or could not be reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def content_type_of(path: Path) -> str:
    """image/png for .png, else image/jpeg (the server checks the bytes anyway)."""
    return PNG if path.suffix.lower() == ".png" else JPEG


def attributes(options: Mapping[str, Any]) -> str:
    """Options as SageMaker custom attributes: ``conf=0.5;imgsz=640``."""
    return ";".join(f"{name}={value}" for name, value in options.items())


def json_body(images: list[bytes], options: Mapping[str, Any]) -> bytes:
    encoded = [base64.b64encode(data).decode("ascii") for data in images]
    return json.dumps({"images": encoded, **options}).encode()


def invoke(
    url: str,
    body: bytes,
    content_type: str,
    options: Mapping[str, Any] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> dict[str, Any]:
    """POST ``body`` to ``<url>/invocations``; the decoded JSON answer or a ServerError."""
    headers = {"Content-Type": content_type}
    if options:
        headers[CUSTOM_ATTRIBUTES] = attributes(options)
    request = urllib.request.Request(  # noqa: S310 - the URL is the user's own server
        url.rstrip("/") + "/invocations", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        raise ServerError(f"HTTP {exc.code}: {_error_text(exc.read())}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerError(f"cannot reach {clean(url, 200)}: {exc}") from None


def _error_text(body: bytes) -> str:
    try:
        return clean(str(json.loads(body).get("error", "")), 300)
    except (ValueError, AttributeError):
        return clean(body.decode("utf-8", "replace"), 300)


def predict_file(url: str, path: Path, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The answer for one image file (its bytes as they are, options as custom attributes)."""
    answer = invoke(url, path.read_bytes(), content_type_of(path), options)
    (prediction,) = answer["predictions"]
    result: dict[str, Any] = prediction
    return result


def ping(url: str, timeout: float = 5.0) -> int:
    """The status of ``GET <url>/ping`` (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/ping", timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ping(url)
        if status == 200:
            return
        if process.poll() is not None or status == 500:
            raise ServerError(f"the server stopped before it was healthy (ping {status})")
        time.sleep(0.2)
    raise ServerError(f"the server was not healthy within {timeout:.0f} s")


@contextmanager
def server_process(
    model: Path,
    port: int | None = None,
    timeout: float = START_TIMEOUT,
    log_file: Path | None = None,
) -> Iterator[str]:
    """``python -m yolo_pipeline.serving serve`` on localhost as a child process; yields its
    URL once ``/ping`` is healthy, and stops it on exit."""
    port = port or free_port()
    url = f"http://{LOCALHOST}:{port}"
    command = [sys.executable, "-m", "yolo_pipeline.serving", "serve", "--model", str(model)]
    command += ["--host", LOCALHOST, "--port", str(port)]
    functions = str(Path(__file__).resolve().parents[2])  # the package, even when not installed
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [functions, os.environ.get("PYTHONPATH")])),
    }
    with log_file.open("wb") if log_file else open(os.devnull, "wb") as log:  # noqa: PTH123
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(url, process, timeout)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
