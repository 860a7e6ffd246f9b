"""``upload --wait``: the launcher's verdict on the upload just sent, in the terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.uploads import UploadsTable
from yolo_pipeline.cli.stack import Stack, access_problem
from yolo_pipeline.cli.verdict_text import FINAL_FAILURES, verdict_lines
from yolo_pipeline.contract import OUTPUT_UPLOADS_TABLE
from yolo_pipeline.errors import EXIT_OK, DatasetProblem
from yolo_pipeline.names import dataset_name
from yolo_pipeline.text import quote
from yolo_pipeline.upload.verdicts import wait_for_verdict


def show_verdict(
    stack: Stack, destination: str, since: datetime, timeout_s: float, out: TextIO
) -> int:
    """``--wait``: print the launcher's verdict on this upload; exit 1 when it was refused."""
    table_name = stack.require(OUTPUT_UPLOADS_TABLE)
    name = dataset_name(destination, stack.dataset_prefix)
    table = UploadsTable(aws.client("dynamodb"), table_name)
    print(f"Waiting up to {timeout_s:.0f} s for the launcher's verdict on {quote(name)} ...",
          file=out, flush=True)  # fmt: skip

    def changed(verdict: Any) -> None:
        print("\n".join(verdict_lines(verdict)), file=out, flush=True)

    try:
        verdict = wait_for_verdict(table, name, since, timeout_s, on_change=changed)
    except (ClientError, BotoCoreError) as exc:
        raise access_problem("read the uploads table", exc) from exc
    if verdict is None or verdict.state == "settling":
        print(f"No verdict yet; follow it with: yolo-pipeline status {quote(name)}", file=out)
        return EXIT_OK
    if verdict.state in FINAL_FAILURES:
        raise DatasetProblem(
            f"the launcher did not start a job for {quote(name)} ({verdict.state})"
        )
    return EXIT_OK
