"""``yolo-pipeline validate``: judge a dataset (folder, zip or S3) exactly as the launcher will.

The check is the launcher's own (``launcher.check.check_storage``): the dataset, then
training.yaml against the deployed stack's settings (its allowed instance types, runtime cap
and the rest, read from the stack's parameters) when they can be read, else the template's
defaults; the output says which. A dataset that cannot be read (no credentials, access
denied, no such bucket) is an access problem, exit 2, never "invalid".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.cli.report_text import render_findings
from yolo_pipeline.cli.stack import add_aws_options, try_stack, use_aws
from yolo_pipeline.errors import EXIT_INVALID, EXIT_OK, AwsProblem, DatasetProblem, UsageError
from yolo_pipeline.launcher.check import Checked, DatasetUnreadableError, check_storage
from yolo_pipeline.text import clean, quote
from yolo_pipeline.training.config import SageMakerDefaults


@dataclasses.dataclass(frozen=True)
class Settings:
    defaults: SageMakerDefaults
    source: str  # what the user is told training.yaml was checked against


def stack_settings(args: argparse.Namespace) -> Settings:
    """The deployed stack's job settings, or the template's defaults with the reason."""
    if args.no_stack:
        return Settings(SageMakerDefaults(), "the template's defaults (--no-stack)")
    stack = try_stack(args)
    if not stack.found:
        why = clean(stack.why_not, 200)
        return Settings(
            SageMakerDefaults(), f"the template's defaults ({quote(stack.name)}: {why})"
        )
    return Settings(
        stack.sagemaker_defaults, f"stack {quote(stack.name)}'s settings in {stack.region}"
    )


def run_check(path: str, defaults: SageMakerDefaults) -> Checked:
    """The launcher's check on ``path``; unreadable data raises AwsProblem (exit 2)."""
    # Imported when a command validates: the storage backends pull in the image decoders.
    from yolo_pipeline.dataset.storage.opener import open_location
    from yolo_pipeline.dataset.validation.report import listing_every_finding  # (same)

    try:
        storage, data_yaml = open_location(path)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except ValueError as exc:  # a malformed URI is usage; a FIFO in place of data.yaml is data
        raise (UsageError if "://" in path else DatasetProblem)(str(exc)) from exc
    is_zip = path.lower().endswith(".zip")
    try:
        with listing_every_finding():  # the terminal groups them by rule; --json lists all
            return check_storage(storage, defaults, data_yaml, size_guard=not is_zip)
    except DatasetUnreadableError as exc:
        if "://" not in path:  # a local file that cannot be read is the dataset's to fix
            raise DatasetProblem(f"cannot read {quote(path, 300)}: {exc}") from exc
        raise AwsProblem(
            f"cannot read {quote(path, 300)}: {exc}\n"
            "This is access, not the dataset: check your AWS credentials (--profile), the "
            "region (--region) and the bucket name."
        ) from exc


def checked_dict(checked: Checked, settings: Settings) -> dict[str, Any]:
    """Every problem, training.yaml's included, as one JSON-ready object (pure)."""
    report = checked.report.to_dict()
    report["valid"] = not checked.errors
    report["errors"] = [f.to_dict() for f in checked.errors]
    report["warnings"] = [f.to_dict() for f in checked.warnings]
    report["checked_against"] = settings.source
    return report


def checked_text(checked: Checked, settings: Settings, max_rules: int = 20) -> str:
    """The verdict, every problem grouped by rule, then the dataset's figures (pure)."""
    valid = not checked.errors
    bare = dataclasses.replace(checked.report, valid=valid, errors=[], warnings=[])
    head, *stats = bare.render_text().splitlines()
    lines = [head]
    lines += render_findings("Errors", checked.errors, max_rules)
    lines += render_findings("Warnings", checked.warnings, max_rules)
    lines += stats
    lines.append(f"training.yaml checked against {settings.source}.")
    return "\n".join(lines)


def show_validation(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    path: str = args.path
    if path.startswith("s3://") and len(path) <= len("s3://"):
        raise UsageError(f"{quote(path)} has no bucket name")
    if not path.startswith("s3://") and not Path(path).expanduser().exists():
        raise UsageError(f"{quote(path, 300)} does not exist")
    settings = stack_settings(args)
    if path.startswith("s3://") and args.no_stack:
        use_aws(args)  # the data itself is in S3: the profile and region still apply
    checked = run_check(
        str(Path(path).expanduser()) if "://" not in path else path, settings.defaults
    )
    if args.json:
        print(json.dumps(checked_dict(checked, settings), indent=2, default=str), file=out)
    else:
        print(checked_text(checked, settings, max(1, args.max_items)), file=out)
    return EXIT_OK if not checked.errors else EXIT_INVALID


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check a YOLO dataset (folder, its data.yaml, a .zip, or s3://bucket/prefix/)",
        description="Check a YOLO dataset and its training.yaml exactly as the launcher will, "
        "with the deployed stack's settings when they can be read (else the template's "
        "defaults). Exit 0 when valid (warnings allowed), 1 when invalid, 2 on a usage or "
        "access error.",
    )
    p.add_argument(
        "path",
        metavar="PATH",
        help="dataset folder, its data.yaml, a .zip, or s3://bucket/prefix/ (or .../x.zip)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object, every problem")
    p.add_argument("--max-items", type=int, default=20, help="rules listed per section")
    p.add_argument(
        "--no-stack",
        action="store_true",
        help="do not read the stack's settings: check training.yaml against the defaults",
    )
    add_aws_options(p)
    p.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    return show_validation(args)
