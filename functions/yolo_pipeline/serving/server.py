"""The HTTP layer of SageMaker's hosting contract, on the standard library's threading server.

``GET /ping``: 200 once the model is loaded (503 while it loads, 500 if it could not be).
``POST /invocations``: the JSON answer (``{"predictions": [...]}``, one per image), or a
4xx with ``{"error": "..."}`` for a request the server refuses; the server keeps serving.
The model loads in a background thread so the port answers at once. A body above the limit
is refused by its Content-Length before it is read into memory.

No web framework: the image stays small and the server has one client at a time
(SageMaker serverless sends one request per container at a time).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from yolo_pipeline.serving.errors import (
    LengthRequired,
    ModelNotReady,
    PayloadTooLarge,
    ServingError,
)
from yolo_pipeline.serving.model_files import find_weights
from yolo_pipeline.serving.predictor import Predictor
from yolo_pipeline.serving.request import CUSTOM_ATTRIBUTES, MAX_PIXELS, parse_request

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
SAGEMAKER_MODEL_DIR = Path("/opt/ml/model")
# SageMaker's own payload caps are lower (6 MB real-time, 4 MB serverless); this bounds local use.
MAX_BODY_BYTES = 20 * 1024 * 1024
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a container must answer on its published port
DRAIN_LIMIT = 4 * MAX_BODY_BYTES  # an oversized body up to this is read and dropped, then 413
_CHUNK = 1024 * 1024


@dataclass
class ModelSlot:
    """The model being served, filled by the loading thread."""

    predictor: Predictor | None = None
    error: str = ""
    ready: threading.Event = field(default_factory=threading.Event)

    def load(self, model_path: Path) -> None:
        try:
            self.predictor = Predictor.load(find_weights(model_path))
        except Exception as exc:  # reported on /ping and in the log; the process stays up
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the model could not be loaded")
        finally:
            self.ready.set()


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = MAX_BODY_BYTES
    max_pixels: int = MAX_PIXELS


class InferenceHandler(BaseHTTPRequestHandler):
    server: InferenceServer
    protocol_version = "HTTP/1.1"  # keep-alive: SageMaker's front end reuses connections
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall
    server_version = "yolo-serving"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/ping":
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not found; use GET /ping"})
            return
        slot = self.server.slot
        if slot.predictor is not None:
            self._answer(HTTPStatus.OK, {"status": "healthy", "task": slot.predictor.task})
        elif slot.error:
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": slot.error})
        else:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "loading"})

    def _read_body(self) -> bytes:
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.strip().isdigit():
            self.close_connection = True
            raise LengthRequired("a Content-Length header is required")
        length, limit = int(raw), self.server.limits.max_body_bytes
        if length > limit:
            self._drain(length)
            raise PayloadTooLarge(
                f"the body is {length / 2**20:.1f} MiB; at most {limit / 2**20:.1f} MiB "
                "are accepted"
            )
        return self.rfile.read(length)

    def _drain(self, length: int) -> None:
        """Read and drop an oversized body (so the client sees our 413, not a reset)."""
        if length > DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/invocations":
            self.close_connection = True
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not found; use POST /invocations"})
            return
        try:
            body = self._read_body()
            request = parse_request(
                self.headers.get("Content-Type"),
                body,
                self.headers.get(CUSTOM_ATTRIBUTES),
                self.server.limits.max_pixels,
            )
            predictor = self.server.slot.predictor
            if predictor is None:
                raise ModelNotReady(self.server.slot.error or "the model is still loading")
            answer = {"predictions": predictor.predict(request)}
        except ServingError as exc:
            self._answer(exc.status, {"error": str(exc)})
            return
        except Exception:  # a bug or a model failure: 500, logged, and the server goes on
            log.exception("prediction failed")
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "prediction failed"})
            return
        self._answer(HTTPStatus.OK, answer)


class InferenceServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], slot: ModelSlot, limits: Limits) -> None:
        super().__init__(address, InferenceHandler)
        self.slot = slot
        self.limits = limits


def make_server(
    model_path: Path,
    host: str = ALL_INTERFACES,
    port: int = DEFAULT_PORT,
    limits: Limits | None = None,
) -> InferenceServer:
    """A bound server whose model starts loading now, in the background."""
    slot = ModelSlot()
    server = InferenceServer((host, port), slot, limits or Limits())
    threading.Thread(target=slot.load, args=(model_path,), name="model-load", daemon=True).start()
    return server


def serve(model_path: Path, host: str = ALL_INTERFACES, port: int = DEFAULT_PORT) -> None:
    """Serve until interrupted (SIGTERM ends the process; SageMaker stops containers so)."""
    server = make_server(model_path, host, port)
    log.info("listening on %s:%s, model %s", host, server.server_address[1], model_path)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def port_from_env(default: int = DEFAULT_PORT) -> int:
    """SageMaker sets SAGEMAKER_BIND_TO_PORT on some hosts; 8080 otherwise."""
    raw = os.environ.get("SAGEMAKER_BIND_TO_PORT", "")
    return int(raw) if raw.isdigit() else default
