"""The ``yolo-pipeline`` command line.

One ``add_<name>_command(subparsers)`` per subcommand registers its arguments and sets
``handler`` (a function ``(args) -> exit code``); ``main`` dispatches. To add a command,
write both functions and call the ``add_`` one from ``build_parser``.
Exit codes: 0 success/valid, 1 invalid or failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from yolo_pipeline import __version__

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
Handler = Callable[[argparse.Namespace], int]


def add_validate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check a YOLO dataset (folder, its data.yaml, or s3://bucket/prefix/)",
        description="Check a YOLO dataset the way training will read it. Exit 0 when valid "
        "(warnings allowed), 1 when invalid, 2 on a usage error.",
    )
    p.add_argument(
        "path", metavar="PATH", help="dataset folder, its data.yaml, or s3://bucket/prefix/"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--max-items", type=int, default=20, help="findings listed per section")
    p.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from yolo_pipeline.dataset.validation import validate_location

    path: str = args.path
    if not path.startswith("s3://") and not Path(path).expanduser().exists():
        print(f"yolo-pipeline validate: {path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if path.startswith("s3://") and len(path) <= len("s3://"):
        print(f"yolo-pipeline validate: {path} has no bucket name", file=sys.stderr)
        return EXIT_USAGE
    report = validate_location(path)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.render_text(max_items=max(1, args.max_items)))
    return EXIT_OK if report.valid else EXIT_INVALID


def add_upload_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "upload",
        help="validate a local dataset and upload it to s3://bucket/datasets/<name>/",
        description="Validate PATH, then upload it in parallel with data.yaml last (data.yaml "
        "starts training). Files already in S3 with the same size and checksum are skipped, so "
        "an interrupted upload resumes. Exit 0 done, 1 refused or failed, 2 usage error.",
    )
    p.add_argument("path", metavar="PATH", help="local dataset folder (or its data.yaml)")
    p.add_argument("destination", metavar="S3_URI", help="s3://<DatasetBucket>/datasets/<name>/")
    p.add_argument("--force", action="store_true", help="upload even if validation fails")
    p.add_argument(
        "--retrain",
        action="store_true",
        help="upload data.yaml (and so start a new job) even when nothing changed",
    )
    p.add_argument("--concurrency", type=int, default=8, help="parallel transfers (default 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run_upload)


def run_upload(args: argparse.Namespace) -> int:
    from pathlib import Path

    from yolo_pipeline.cli.upload import upload_dataset

    if not 1 <= args.concurrency <= 64:
        print("yolo-pipeline upload: --concurrency must be between 1 and 64", file=sys.stderr)
        return EXIT_USAGE
    return upload_dataset(
        Path(args.path).expanduser(),
        args.destination,
        force=args.force,
        retrain=args.retrain,
        concurrency=args.concurrency,
        progress=not args.no_progress,
    )


def add_status_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="recent training jobs of this pipeline and where they are",
        description="List the newest SageMaker training jobs named <prefix>-* with status, "
        "secondary status, duration, final mAP and dataset.",
    )
    p.add_argument("--limit", type=int, default=10, help="how many jobs (default 10)")
    p.add_argument("--prefix", help="job name prefix (default $JOB_NAME_PREFIX or 'yolo')")
    p.add_argument("--region", help="AWS region of the stack (default: your AWS config)")
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    import os

    from yolo_pipeline.cli.status import show_status

    if args.limit < 1:
        print("yolo-pipeline status: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    return show_status(limit=args.limit, prefix=args.prefix)


def add_local_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "local",
        help="the whole flow offline: validate, show the job request, train on CPU, email",
        description="Run every stage with the production code on this machine: validation, "
        "the CreateTrainingJob request (placeholder image/role/buckets), training_image/"
        "train.py in a SageMaker folder layout, and the notifier's email. Exit 0 when the "
        "model trained, 1 when validation or training failed, 2 on a usage error.",
    )
    p.add_argument("path", metavar="PATH", help="local dataset folder (or its data.yaml)")
    p.add_argument("--epochs", type=int, help="override epochs (training.yaml or 100)")
    p.add_argument("--workdir", help="SageMaker root for the run (default runs/local/<job>)")
    p.set_defaults(handler=run_local_command)


def run_local_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from yolo_pipeline.cli.local_run import run_local

    if args.epochs is not None and args.epochs < 1:
        print("yolo-pipeline local: --epochs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    workdir = Path(args.workdir).expanduser() if args.workdir else None
    return run_local(Path(args.path).expanduser(), epochs=args.epochs, workdir=workdir)


def add_sample_dataset_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    p = subparsers.add_parser(
        "sample-dataset",
        help="write a small synthetic shapes dataset that trains in minutes on a CPU",
        description="Write DIR/{images,labels}/{train,val}, data.yaml and a training.yaml "
        "with CPU-friendly settings: 3 classes (square, circle, triangle).",
    )
    p.add_argument("directory", metavar="DIR", help="where to write it (new or empty folder)")
    p.add_argument("--train", type=int, default=64, help="training images (default 64)")
    p.add_argument("--val", type=int, default=16, help="validation images (default 16)")
    p.add_argument("--imgsz", type=int, default=160, help="image size in pixels (default 160)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(handler=run_sample_dataset)


def run_sample_dataset(args: argparse.Namespace) -> int:
    from pathlib import Path

    from yolo_pipeline.cli.local_run import LocalRunError, write_sample_dataset

    if min(args.train, args.val) < 1 or args.imgsz < 32:
        print(
            "yolo-pipeline sample-dataset: need --train/--val >= 1, --imgsz >= 32", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        root = write_sample_dataset(
            Path(args.directory).expanduser(), args.train, args.val, args.imgsz, args.seed
        )
    except LocalRunError as exc:
        print(f"yolo-pipeline sample-dataset: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Wrote {args.train} train + {args.val} val images, data.yaml, training.yaml to {root}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yolo-pipeline",
        description="Validate YOLO datasets, train them on SageMaker, and follow the jobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_validate_command(subparsers)
    add_upload_command(subparsers)
    add_status_command(subparsers)
    add_local_command(subparsers)
    add_sample_dataset_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
