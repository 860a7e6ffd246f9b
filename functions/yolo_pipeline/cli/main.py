"""The ``yolo-pipeline`` command line: one module per command, each with ``register``.

``register(subparsers)`` adds the command's arguments and sets ``handler`` (a function
``(args) -> exit code``). Commands raise; ``main`` dispatches and, in this one place, turns a
``PipelineError`` into its message and exit code. Exit codes: 0 success/valid, 1 invalid or
failed, 2 usage or access (credentials, region, a missing stack; argparse exits 2 itself on a
malformed command line), 130 interrupted, 141 when the reader of the output went away
(``validate ... | head``), as a shell reports SIGPIPE. No command ends in a traceback:
anything unforeseen is one line (``YOLO_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline import __version__
from yolo_pipeline.cli import (
    approve,
    download,
    image,
    local,
    logs,
    models,
    predict,
    retrain,
    sample_dataset,
    serve,
    status,
    stop,
    upload,
    validate,
)
from yolo_pipeline.errors import EXIT_INVALID, EXIT_USAGE, PipelineError, exit_code
from yolo_pipeline.text import clean

Handler = Callable[[argparse.Namespace], int]
COMMANDS = (
    validate,
    upload,
    status,
    logs,
    stop,
    retrain,
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


EXIT_BROKEN_PIPE = 141


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, letting ``key=value`` overrides follow options too (``local DIR --epochs 2
    imgsz=96``), as Ultralytics' command line does; argparse alone stops at the option."""
    args, extra = parser.parse_known_args(argv)
    dest = getattr(args, "overrides_dest", None)
    if extra and dest and all("=" in item and not item.startswith("-") for item in extra):
        getattr(args, dest).extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _say(command: str, message: str) -> None:
    # Every error line goes out the same way: one prefix, each line made inert.
    text = "\n".join(clean(part, 2000) for part in message.splitlines()[:40])
    print(f"yolo-pipeline {command}: error: {text}", file=sys.stderr)


def _broken_pipe() -> int:
    # The reader went away (`| head`): stop quietly, and keep Python's flush at exit from
    # raising again on the closed stdout.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    handler: Handler = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()
        return code
    except PipelineError as exc:
        _say(args.command, str(exc))
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _broken_pipe()
    except Exception as exc:  # the last guard: one line, never a traceback, unless asked
        return _unforeseen(args.command, exc)


def _unforeseen(command: str, exc: Exception) -> int:
    # botocore's own errors (no region, no credentials, a refused call) are the user's setup.
    if os.environ.get("YOLO_DEBUG"):
        traceback.print_exc()
    if isinstance(exc, ModuleNotFoundError):  # `local` and `sample-dataset` on a [cli] install
        _say(
            command,
            f"this command needs {exc.name or 'a package'}, which comes with the training "
            "extra: pip install '<clone>[cli,training]' (or `make setup` in the clone)",
        )
        return EXIT_USAGE
    if isinstance(exc, BotoCoreError | ClientError):
        _say(command, f"{exc}\nCheck your AWS credentials (--profile) and region (--region).")
        return EXIT_USAGE
    _say(command, f"unexpected {type(exc).__name__}: {exc} (YOLO_DEBUG=1 shows where)")
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
