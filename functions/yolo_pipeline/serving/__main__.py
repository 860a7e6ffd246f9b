"""``python -m yolo_pipeline.serving serve [--model PATH] [--host H] [--port N]``.

The inference image's entrypoint: SageMaker runs ``<image> serve`` and expects port 8080 and
the model under /opt/ml/model, which are the defaults.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from yolo_pipeline.serving.errors import ModelFileError
from yolo_pipeline.serving.predictor import enable_safe_loading
from yolo_pipeline.serving.server import (
    ALL_INTERFACES,
    SAGEMAKER_MODEL_DIR,
    port_from_env,
    serve,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yolo_pipeline.serving")
    parser.add_argument("command", choices=["serve"], help="what SageMaker runs")
    parser.add_argument("--model", type=Path, default=SAGEMAKER_MODEL_DIR)
    parser.add_argument("--host", default=ALL_INTERFACES)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        enable_safe_loading()
    except ModelFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    serve(args.model, args.host, args.port or port_from_env())
    return 0


if __name__ == "__main__":
    sys.exit(main())
