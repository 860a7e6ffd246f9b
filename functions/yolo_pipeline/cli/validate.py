"""``yolo-pipeline validate``: judge a dataset (folder, zip or S3) as training will read it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from yolo_pipeline.errors import EXIT_INVALID, EXIT_OK, UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check a YOLO dataset (folder, its data.yaml, a .zip, or s3://bucket/prefix/)",
        description="Check a YOLO dataset the way training will read it. Exit 0 when valid "
        "(warnings allowed), 1 when invalid, 2 on a usage error.",
    )
    p.add_argument(
        "path",
        metavar="PATH",
        help="dataset folder, its data.yaml, a .zip, or s3://bucket/prefix/ (or .../x.zip)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--max-items", type=int, default=20, help="findings listed per section")
    p.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    # Imported when a command validates: the validator pulls in the image decoders.
    from yolo_pipeline.dataset.validation import validate_location

    path: str = args.path
    if not path.startswith("s3://") and not Path(path).expanduser().exists():
        raise UsageError(f"{path} does not exist")
    if path.startswith("s3://") and len(path) <= len("s3://"):
        raise UsageError(f"{path} has no bucket name")
    report = validate_location(path)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.render_text(max_items=max(1, args.max_items)))
    return EXIT_OK if report.valid else EXIT_INVALID
