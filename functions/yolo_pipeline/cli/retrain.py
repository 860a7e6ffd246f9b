"""``yolo-pipeline retrain DATASET [key=value ...]``: train an uploaded dataset again.

Nothing is uploaded from this machine. For a folder, training.yaml gets the overrides (checked
first, with the stack's settings, as the launcher will) and data.yaml is written again with
the completion marker: a fresh PutObject, which the launcher treats as a new, complete
upload. A zip is copied onto itself (one object, complete by nature); overrides need a folder.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.cli.report_text import render_findings
from yolo_pipeline.cli.stack import Stack, access_problem, add_aws_options, open_stack
from yolo_pipeline.contract import (
    DATA_YAML,
    OUTPUT_BUCKET,
    TRAINING_YAML,
    UPLOAD_COMPLETE_METADATA,
    ZIP_SUFFIX,
)
from yolo_pipeline.errors import EXIT_OK, DatasetProblem, UsageError
from yolo_pipeline.names import named_dataset
from yolo_pipeline.text import quote
from yolo_pipeline.training.config import MAX_BYTES, parse_training_config
from yolo_pipeline.upload.overrides import describe_overrides, merged_training_yaml, parse_overrides


def _read(s3: Any, bucket: str, key: str, limit: int) -> bytes | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read(limit + 1))
    except ClientError as exc:
        if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
            return None
        raise


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
            return False
        raise
    return True


def retrain(dataset: str, items: list[str], stack: Stack, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    overrides = parse_overrides(items)
    bucket = stack.require(OUTPUT_BUCKET)
    name = named_dataset(dataset, stack.dataset_prefix)
    if not name:
        raise UsageError(f"{quote(dataset)} names no dataset")
    folder = f"{stack.dataset_prefix}{name}/"
    s3 = aws.client("s3")
    try:
        if _exists(s3, bucket, folder + DATA_YAML):
            _retrain_folder(s3, bucket, folder, overrides, stack, out)
        elif _exists(s3, bucket, f"{stack.dataset_prefix}{name}{ZIP_SUFFIX}"):
            if overrides:
                raise UsageError("overrides need a dataset folder: a zip carries its training.yaml")
            key = f"{stack.dataset_prefix}{name}{ZIP_SUFFIX}"
            s3.copy_object(
                Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                MetadataDirective="REPLACE", Metadata=dict([UPLOAD_COMPLETE_METADATA]),
            )  # fmt: skip
        else:
            raise DatasetProblem(
                f"no dataset {quote(name)} in s3://{bucket}/{stack.dataset_prefix}: upload it "
                "with `yolo-pipeline upload`"
            )
    except (ClientError, BotoCoreError) as exc:
        raise access_problem(f"retrain {quote(name)} in s3://{bucket}", exc) from exc
    print(
        f"Training {quote(name)} again: the launcher checks it now and emails the verdict. "
        f"Follow it with: yolo-pipeline status {quote(name)}",
        file=out,
    )
    return EXIT_OK


def _retrain_folder(
    s3: Any, bucket: str, folder: str, overrides: dict[str, Any], stack: Stack, out: TextIO
) -> None:
    if overrides:
        current = _read(s3, bucket, folder + TRAINING_YAML, MAX_BYTES)
        text = merged_training_yaml(current, overrides)
        config = parse_training_config(text, stack.sagemaker_defaults)
        if config.errors:
            lines = render_findings("Errors", config.errors)
            raise DatasetProblem("the overrides make training.yaml invalid:\n" + "\n".join(lines))
        s3.put_object(Bucket=bucket, Key=folder + TRAINING_YAML, Body=text.encode("utf-8"))
        print(f"training.yaml now has {describe_overrides(overrides)}", file=out)
    data_yaml = _read(s3, bucket, folder + DATA_YAML, 16 * 1024 * 1024) or b""
    s3.put_object(
        Bucket=bucket, Key=folder + DATA_YAML, Body=data_yaml,
        Metadata=dict([UPLOAD_COMPLETE_METADATA]),
    )  # fmt: skip


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "retrain",
        help="train an uploaded dataset again, optionally with key=value overrides",
        description="Start a new job on a dataset already in the stack's bucket. key=value "
        "overrides (epochs=100 model=yolo26s.pt) are written into its training.yaml after the "
        "same check the launcher makes. Exit 0 requested, 1 no such dataset or invalid "
        "overrides, 2 usage or access.",
    )
    p.add_argument("dataset", metavar="DATASET", help="dataset name (or its s3:// URI)")
    p.add_argument("overrides", metavar="key=value", nargs="*", help="training overrides")
    add_aws_options(p)
    p.set_defaults(handler=run_retrain, overrides_dest="overrides")


def run_retrain(args: argparse.Namespace) -> int:
    return retrain(args.dataset, args.overrides, open_stack(args))
