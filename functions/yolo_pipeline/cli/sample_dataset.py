"""``yolo-pipeline sample-dataset``: write the small synthetic shapes dataset."""

from __future__ import annotations

import argparse
import sys

from yolo_pipeline.errors import EXIT_OK, EXIT_USAGE


def register(
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

    from yolo_pipeline.cli.local import LocalRunError, write_sample_dataset

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
