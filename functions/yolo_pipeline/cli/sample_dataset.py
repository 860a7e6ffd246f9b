"""``yolo-pipeline sample-dataset``: write the small synthetic shapes dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.errors import EXIT_OK
from yolo_pipeline.local.sample import write_sample_dataset


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
    p.add_argument("--train", type=int_in_range(1), default=64, help="training images (default 64)")
    p.add_argument("--val", type=int_in_range(1), default=16, help="validation images (default 16)")
    p.add_argument(
        "--imgsz",
        type=int_in_range(32),
        default=160,
        help="image size in pixels, >= 32 (default 160)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--task",
        choices=("detect", "classify", "semantic", "depth"),
        default="detect",
        help="detect: the shapes (default); classify: colour folders; semantic: rectangle "
        "masks; depth: depth ramps",
    )
    p.set_defaults(handler=run_sample_dataset)


def run_sample_dataset(args: argparse.Namespace) -> int:
    if args.task != "detect":
        # numpy/Pillow: only when asked (the CLI installs without the training stack)
        from yolo_pipeline.dataset.task_samples import write_task_sample

        root = write_task_sample(Path(args.directory).expanduser(), args.task, args.seed)
        print(f"Wrote a tiny {args.task} dataset and its training.yaml to {root}")
        return EXIT_OK
    root = write_sample_dataset(
        Path(args.directory).expanduser(), args.train, args.val, args.imgsz, args.seed
    )
    print(f"Wrote {args.train} train + {args.val} val images, data.yaml, training.yaml to {root}")
    return EXIT_OK
