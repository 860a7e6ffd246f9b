"""``yolo-pipeline serve MODEL [--port N] [--host H]``: the inference image's server on a
local model (a trained run folder, a folder holding best.pt, a ``.pt`` file or a
``model.tar.gz``), answering SageMaker's ``GET /ping`` and ``POST /invocations``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from yolo_pipeline.errors import UsageError
from yolo_pipeline.serving.client import LOCALHOST


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve a trained model over HTTP as the SageMaker endpoint does",
        description="Run the inference server on a local model: GET /ping, POST /invocations "
        "(image/jpeg, image/png or JSON with base64 images). Try it with "
        "`yolo-pipeline predict --local http://127.0.0.1:8080 IMAGE.jpg`.",
    )
    p.add_argument(
        "model", metavar="MODEL", help="run folder, folder with best.pt, .pt, or .tar.gz"
    )
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--host", default=LOCALHOST, help="address to listen on (default 127.0.0.1)")
    p.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    model = Path(args.model).expanduser()
    if not model.exists():
        raise UsageError(f"{model} does not exist")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a port number")
    # The serving stack (Ultralytics, torch) loads only here: a CLI-only install lacks it, and
    # safe loading must be switched on before Ultralytics is first imported.
    from yolo_pipeline.serving.predictor import enable_safe_loading
    from yolo_pipeline.serving.server import serve  # Ultralytics and torch: only to serve

    enable_safe_loading()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(f"Serving {model} on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
    serve(model, args.host, args.port)
    return 0
