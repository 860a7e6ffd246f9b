"""The ``yolo-pipeline`` command line: one module per command, each with ``register``.

``register(subparsers)`` adds the command's arguments and sets ``handler`` (a function
``(args) -> exit code``). Commands raise; ``main`` dispatches and, in this one place, turns a
``PipelineError`` into its message and exit code. Exit codes: 0 success/valid, 1 invalid or
failed, 2 usage error (argparse exits 2 itself on a malformed command line), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from yolo_pipeline import __version__
from yolo_pipeline.cli import (
    approve,
    download,
    image,
    local,
    models,
    predict,
    sample_dataset,
    serve,
    status,
    upload,
    validate,
)
from yolo_pipeline.errors import PipelineError, exit_code

Handler = Callable[[argparse.Namespace], int]
COMMANDS = (
    validate,
    upload,
    status,
    models,
    download,
    local,
    sample_dataset,
    image,
    approve,
    serve,
    predict,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yolo-pipeline",
        description="Validate YOLO datasets, train them on SageMaker, and follow the jobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except PipelineError as exc:
        print(f"yolo-pipeline {args.command}: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
