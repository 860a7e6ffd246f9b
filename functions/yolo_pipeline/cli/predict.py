"""``yolo-pipeline predict DATASET|ENDPOINT IMAGE... [--json] [--save DIR] [key=value ...]``
through SageMaker's InvokeEndpoint, or ``predict --local URL IMAGE...`` against a server
started with ``yolo-pipeline serve``. Options (``conf=0.5 imgsz=640 iou=0.6 max_det=100``)
travel as SageMaker custom attributes; the answer is printed as a table per image, or as one
JSON object per line with ``--json``; ``--save`` draws the boxes into DIR."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code, error_summary
from yolo_pipeline.cli.approve import dataset_group
from yolo_pipeline.cli.stack import access_problem, add_aws_options, open_stack
from yolo_pipeline.contract import DATASET_PREFIX, ZIP_SUFFIX
from yolo_pipeline.deployer.requests import endpoint_name
from yolo_pipeline.errors import EXIT_INVALID, EXIT_OK, UsageError
from yolo_pipeline.serving.client import ServerError, attributes, content_type_of, invoke
from yolo_pipeline.serving.display import prediction_lines
from yolo_pipeline.serving.errors import ServingError
from yolo_pipeline.serving.request import OPTIONS, option_value


def split_arguments(items: list[str]) -> tuple[list[Path], dict[str, float | int]]:
    """Images and ``key=value`` options (checked as the server checks them)."""
    images: list[Path] = []
    options: dict[str, float | int] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if sep and name in OPTIONS and not Path(item).exists():
            try:
                options[name] = option_value(name, raw)
            except ServingError as exc:
                raise UsageError(str(exc)) from None
            continue
        path = Path(item).expanduser()
        if not path.is_file():
            raise UsageError(f"{item}: no such image file (options: {', '.join(OPTIONS)})")
        images.append(path)
    if not images:
        raise UsageError("give at least one image")
    return images, options


ENDPOINT_RULE = (
    "DATASET is a dataset name (team/cats, cats.zip) or its s3:// URI or key: its endpoint "
    "<prefix>-<dataset slug> answers. An endpoint ARN is an endpoint; so is a plain name "
    "when no dataset's model package group has that name's slug and an endpoint of that "
    "name exists."
)


def resolve_endpoint(
    target: str,
    prefix: str,
    dataset_prefix: str = DATASET_PREFIX,
    *,
    group_exists: Callable[[str], bool] = lambda _group: True,
    endpoint_exists: Callable[[str], bool] = lambda _name: False,
) -> str:
    """The endpoint ``target`` names, by the rule in ENDPOINT_RULE: a dataset wins over an
    endpoint of the same name, so a dataset called like an endpoint still reaches its own."""
    if target.startswith("arn:") and ":endpoint/" in target:
        return target.rsplit("/", 1)[-1]
    group = dataset_group(target, prefix, dataset_prefix)
    dataset_like = "/" in target or target.endswith(ZIP_SUFFIX)
    if dataset_like or group_exists(group) or not endpoint_exists(target):
        return endpoint_name(group)
    return target


def _exists(call: Callable[[], object]) -> bool:
    """Whether a SageMaker Describe call finds its resource (ValidationException: not found)."""
    try:
        call()
    except ClientError as exc:
        if error_code(exc) in ("ValidationException", "ResourceNotFound"):
            return False
        raise
    return True


def endpoint_of(target: str, prefix: str, dataset_prefix: str) -> str:
    """``resolve_endpoint`` asking SageMaker which groups and endpoints exist."""
    sagemaker = aws.client("sagemaker")
    return resolve_endpoint(
        target, prefix, dataset_prefix,
        group_exists=lambda g: _exists(
            lambda: sagemaker.describe_model_package_group(ModelPackageGroupName=g)
        ),
        endpoint_exists=lambda e: _exists(lambda: sagemaker.describe_endpoint(EndpointName=e)),
    )  # fmt: skip


def invoke_endpoint(endpoint: str, path: Path, options: dict[str, float | int]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "ContentType": content_type_of(path),
        "Accept": "application/json",
        "Body": path.read_bytes(),
    }
    if options:
        request["CustomAttributes"] = attributes(options)
    response = aws.client("sagemaker-runtime").invoke_endpoint(**request)
    answer: dict[str, Any] = json.loads(response["Body"].read())
    (prediction,) = answer["predictions"]
    result: dict[str, Any] = prediction
    return result


def draw(path: Path, prediction: dict[str, Any], folder: Path) -> Path:
    """The image with its boxes and labels drawn, saved under ``folder``."""
    # Pillow comes with the training stack, not with a CLI-only install: only --save needs it.
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    with Image.open(path) as source:
        image = source.convert("RGB")
    pen = ImageDraw.Draw(image)
    for item in prediction.get("objects") or []:
        x1, y1, x2, y2 = (float(v) for v in item["box"])
        pen.rectangle((x1, y1, x2, y2), outline=(255, 40, 40), width=2)
        label = f"{item['name']} {item['confidence']:.2f}"
        pen.text((x1 + 2, max(y1 - 11, 0)), label, fill=(255, 40, 40))
    image.save(target)
    return target


def predict(
    target: str | None,
    items: list[str],
    *,
    local: str | None,
    as_json: bool,
    save: Path | None,
    out: TextIO,
    endpoint_for: Callable[[str], str] = lambda target: target,
) -> int:
    images, options = split_arguments(items)
    endpoint = endpoint_for(target) if target and not local else ""
    failures = 0
    for path in images:
        try:
            if local:
                answer = invoke(local, path.read_bytes(), content_type_of(path), options)
                prediction: dict[str, Any] = answer["predictions"][0]
            else:
                prediction = invoke_endpoint(endpoint, path, options)
        except ServerError as exc:
            if exc.status == 0:  # nothing answers: every other image would fail alike
                raise UsageError(str(exc)) from None
            print(f"{path}: {exc}", file=sys.stderr)
            failures += 1
            continue
        if as_json:
            print(json.dumps({"image": str(path), **prediction}), file=out)
        else:
            print("\n".join(prediction_lines(str(path), prediction)), file=out)
        if save:
            print(f"  drawn: {draw(path, prediction, save)}", file=out)
    return EXIT_INVALID if failures else EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict images with a dataset's endpoint (or a local server)",
        description="Send images to the dataset's SageMaker endpoint (or, with --local, to "
        "`yolo-pipeline serve`) and print the objects found. Options: conf=, iou=, imgsz=, "
        f"max_det=. {ENDPOINT_RULE}",
    )
    p.add_argument(
        "items", metavar="DATASET|ENDPOINT IMAGE... [key=value]", nargs="+",
        help="the dataset (or endpoint name) then images; with --local, images only",
    )  # fmt: skip
    p.add_argument("--local", metavar="URL", help="a local server, e.g. http://127.0.0.1:8080")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--save", metavar="DIR", help="draw the boxes on copies of the images in DIR")
    p.add_argument("--prefix", help="job name prefix (default: the stack's JobNamePrefix)")
    add_aws_options(p)
    p.set_defaults(handler=run_predict)


def run_predict(args: argparse.Namespace, out: TextIO | None = None) -> int:
    target, items = (None, args.items) if args.local else (args.items[0], args.items[1:])
    save = Path(args.save).expanduser() if args.save else None
    if args.local:  # a local server: no AWS at all
        return predict(None, items, local=args.local, as_json=args.json, save=save,
                       out=out or sys.stdout)  # fmt: skip
    stack = open_stack(args)
    prefix = args.prefix or stack.job_prefix
    try:
        return predict(
            target, items, local=None, as_json=args.json, save=save, out=out or sys.stdout,
            endpoint_for=lambda t: endpoint_of(t, prefix, stack.dataset_prefix),
        )  # fmt: skip
    except ClientError as exc:
        if error_code(exc) == "ValidationException":
            raise UsageError(
                f"{error_summary(exc)} (no such endpoint yet? approve a version: "
                "yolo-pipeline approve DATASET)"
            ) from None
        raise access_problem("predict with the endpoint", exc) from exc
    except BotoCoreError as exc:
        raise access_problem("predict with the endpoint", exc) from exc
