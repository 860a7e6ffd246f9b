"""The email value object, SNS subject rules, console links, and the SNS publish adapter.

SNS Subject rules: ASCII only, no line breaks, under 100 characters. Bodies are plain text.
Message attributes let subscribers filter (e.g. only "Failed").
"""

from __future__ import annotations

import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from yolo_pipeline.text import clean

SUBJECT_MAX = 99  # SNS: "must be less than 100 characters"
# SNS refuses a message over 256 KB (262,144 bytes, attributes included): bodies are cut
# well below that, so a hostile dataset can never turn its answer into a refused publish.
BODY_MAX_BYTES = 200_000
BODY_LINE_MAX = 2000


@dataclass(frozen=True)
class Email:
    subject: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)


def ascii_text(text: str) -> str:
    """Best-effort printable ASCII: strip accents, replace the rest with '?', control
    characters (ESC, NUL, CR/LF, DEL...) become spaces, whitespace collapses."""
    text = text[:4096]  # subjects and attributes are short; never walk a huge value
    decomposed = unicodedata.normalize("NFKD", text)
    out = decomposed.encode("ascii", "ignore").decode("ascii") if decomposed else ""
    if not out.strip() and text.strip():
        out = text.encode("ascii", "replace").decode("ascii")
    out = "".join(c if " " <= c < "\x7f" else " " for c in out)
    return " ".join(out.split())


def body_text(lines: Iterable[str]) -> str:
    """An email body from lines: each line made inert (no CR/LF or control characters
    from user or event text survive; see yolo_pipeline.text), the whole under
    ``BODY_MAX_BYTES``."""
    out: list[str] = []
    size = 0
    for text in lines:
        cleaned = clean(text, BODY_LINE_MAX)
        size += len(cleaned.encode("utf-8")) + 1
        if size > BODY_MAX_BYTES:
            out.append("... (the rest of this message was cut to fit the email size limit)")
            break
        out.append(cleaned)
    return "\n".join(out) + "\n"


def subject_line(prefix: str, status: str, name: str, suffix: str = "") -> str:
    """``[prefix] status: name suffix``, ASCII, one line, < 100 chars.

    The dataset name is the part that gets shortened (with '...'), never the status or
    the metric, because those are what a reader scans an inbox for.
    """
    # Each part is cleaned on its own: ascii_text strips outer whitespace, so cleaning
    # "[p] s: " whole would glue the name to the colon ("Completed:pets").
    head = f"[{ascii_text(prefix)}] {ascii_text(status)}: "
    tail = f" {ascii_text(suffix)}" if ascii_text(suffix) else ""
    room = SUBJECT_MAX - len(head) - len(tail)
    name = ascii_text(name) or "dataset"
    if len(name) > room:
        name = name[: max(room - 3, 1)].rstrip() + "..."
    return (head + name + tail)[:SUBJECT_MAX]


def training_job_console_url(region: str, job_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/jobs/{urllib.parse.quote(job_name)}"
    )


def training_job_logs_url(region: str, job_name: str) -> str:
    """CloudWatch Logs console: log group /aws/sagemaker/TrainingJobs, streams <job>/..."""

    def enc(value: str) -> str:  # the console's own double-encoding ($25 for %)
        return urllib.parse.quote(urllib.parse.quote(value, safe=""), safe="").replace("%", "$")

    group = enc("/aws/sagemaker/TrainingJobs")
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{group}$3FlogStreamNameFilter$3D{enc(job_name)}"
    )


def publish(sns_client: Any, topic_arn: str, email: Email) -> str:
    """Publish ``email`` to the topic; returns the SNS MessageId."""
    response = sns_client.publish(
        TopicArn=topic_arn,
        Subject=email.subject,
        Message=email.body,
        MessageAttributes={
            key: {"DataType": "String", "StringValue": ascii_text(value)[:256] or "-"}
            for key, value in email.attributes.items()
        },
    )
    return str(response["MessageId"])
