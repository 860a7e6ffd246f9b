"""The uploads table (``UPLOADS_TABLE``): every upload's verdict for the CLI, the launch
queue's order, and the month's spend.

One DynamoDB table, keys ``pk``/``sk`` (strings), TTL attribute ``expiration``:

- an upload: ``pk = DATASET#<dataset name>``, ``sk = UPLOAD#<upload id>`` (the upload id is
  the start of the upload's identity hash, so every delivery of one write finds its item);
  its ``state`` moves forward only (``STATE_RANK``), so a late redelivery never turns
  "started" back into "settling";
- index ``recent`` (``kind`` = ``upload``, ``updated_at``): the newest uploads of all datasets;
- index ``queue`` (``queue`` = ``launch``, ``queued_at``): uploads waiting for a slot, oldest
  first; the attribute exists only while the upload waits (a sparse index);
- spend: ``pk = SPEND#<YYYY-MM>``, ``sk = JOB#<job name>``, ``usd``: one item per finished job,
  written with a put, so a redelivered notification counts once.

docs/architecture.md ("The uploads table") is the contract the CLI reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.text import clean

# Every state an upload can be in, and how far along it is: an update never moves back.
STATE_RANK = {
    "settling": 0,
    "queued": 1,
    "budget_hold": 1,
    "started": 2,
    "rejected": 2,
    "image_missing": 2,
    "expired": 2,
    "superseded": 3,
}
KIND_UPLOAD = "upload"
QUEUE_LAUNCH = "launch"
INDEX_RECENT = "recent"
INDEX_QUEUE = "queue"
KEEP_SECONDS = 90 * 24 * 3600  # what `status` can show: three months of uploads
MAX_PROBLEMS = 200  # a rejection's problems kept for `upload --wait` and `status DATASET`
MAX_TEXT = 500
UPLOAD_ID_LENGTH = 20


def upload_id(identity_hash: str) -> str:
    """The item's id for one upload (a write of data.yaml or of a zip)."""
    return identity_hash[:UPLOAD_ID_LENGTH]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Verdict:
    """What the launcher concluded about one upload, as the CLI shows it."""

    dataset: str
    upload_id: str
    state: str
    uri: str = ""
    detail: str = ""
    job_name: str = ""
    problems: Sequence[str] = field(default_factory=tuple)
    updated_at: str = ""
    first_seen: str = ""
    queued_at: str = ""

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Verdict:
        def text(name: str) -> str:
            value = item.get(name, "")
            return value if isinstance(value, str) else ""

        problems = item.get("problems")
        return cls(
            dataset=text("dataset"),
            upload_id=text("upload_id"),
            state=text("state"),
            uri=text("uri"),
            detail=text("detail"),
            job_name=text("job_name"),
            problems=tuple(p for p in problems if isinstance(p, str))
            if isinstance(problems, list)
            else (),
            updated_at=text("updated_at"),
            first_seen=text("first_seen"),
            queued_at=text("queued_at"),
        )


class UploadsTable:
    """Reads and writes of the uploads table through one DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def record(self, verdict: Verdict, *, queued: bool | None = None) -> bool:
        """Record ``verdict`` unless the upload is already further along; False if it was.

        ``queued=True`` puts the upload in the launch queue (keeping its first place on a
        repeat), ``False`` takes it out, ``None`` leaves that as it is.
        """
        if verdict.state not in STATE_RANK:
            raise ValueError(f"unknown upload state {verdict.state!r}")
        stamp = verdict.updated_at or now_iso()
        names = {"#state": "state", "#rank": "rank"}
        values: dict[str, Any] = {
            ":state": {"S": verdict.state},
            ":rank": {"N": str(STATE_RANK[verdict.state])},
            ":kind": {"S": KIND_UPLOAD},
            ":dataset": {"S": clean(verdict.dataset, MAX_TEXT)},
            ":id": {"S": verdict.upload_id},
            ":uri": {"S": clean(verdict.uri, MAX_TEXT)},
            ":detail": {"S": clean(verdict.detail, MAX_TEXT)},
            ":job": {"S": verdict.job_name},
            ":problems": {
                "L": [{"S": clean(p, MAX_TEXT)} for p in verdict.problems[:MAX_PROBLEMS]]
            },
            ":now": {"S": stamp},
            ":exp": {"N": str(int(time.time()) + KEEP_SECONDS)},
        }
        sets = [
            "#state = :state", "#rank = :rank", "kind = :kind", "dataset = :dataset",
            "upload_id = :id", "uri = :uri", "detail = :detail", "job_name = :job",
            "problems = :problems", "updated_at = :now", "expiration = :exp",
            "first_seen = if_not_exists(first_seen, :now)",
        ]  # fmt: skip
        removes = []
        if queued:
            names["#queue"] = "queue"
            values[":queue"] = {"S": QUEUE_LAUNCH}
            values[":queued_at"] = {"S": f"{stamp}#{verdict.upload_id}"}
            sets += ["#queue = :queue", "queued_at = if_not_exists(queued_at, :queued_at)"]
        elif queued is False:
            names["#queue"] = "queue"
            removes.append("#queue")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=_upload_key(verdict.dataset, verdict.upload_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#rank) OR #rank <= :rank",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, dataset: str, upload: str) -> Verdict | None:
        item = self.dynamodb.get_item(
            TableName=self.table, Key=_upload_key(dataset, upload), ConsistentRead=True
        ).get("Item")
        return Verdict.from_item(_plain(item)) if item else None

    def history(self, dataset: str, limit: int = 50) -> list[Verdict]:
        """The dataset's uploads, newest first."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :upload)",
            ExpressionAttributeValues={
                ":pk": {"S": f"DATASET#{dataset}"},
                ":upload": {"S": "UPLOAD#"},
            },
        )
        verdicts = [Verdict.from_item(i) for i in items]
        return sorted(verdicts, key=lambda v: v.first_seen, reverse=True)[:limit]

    def recent(self, limit: int = 20) -> list[Verdict]:
        """The newest uploads of every dataset."""
        items = self._query(
            IndexName=INDEX_RECENT,
            KeyConditionExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": KIND_UPLOAD}},
            ScanIndexForward=False,
            limit=limit,
        )
        return [Verdict.from_item(i) for i in items]

    def queue(self, limit: int = 1000) -> list[Verdict]:
        """Uploads waiting for a slot, first queued first."""
        items = self._query(
            IndexName=INDEX_QUEUE,
            KeyConditionExpression="#queue = :queue",
            ExpressionAttributeNames={"#queue": "queue"},
            ExpressionAttributeValues={":queue": {"S": QUEUE_LAUNCH}},
            limit=limit,
        )
        return [Verdict.from_item(i) for i in items]

    def record_spend(self, month: str, job_name: str, usd: float) -> None:
        """One finished job's cost in ``month`` (``YYYY-MM``); a repeat overwrites it."""
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"SPEND#{month}"},
                "sk": {"S": f"JOB#{job_name}"},
                "job_name": {"S": job_name},
                "usd": {"N": str(Decimal(str(round(max(usd, 0.0), 4))))},
                "updated_at": {"S": now_iso()},
                "expiration": {"N": str(int(time.time()) + 400 * 24 * 3600)},
            },
        )

    def month_spend(self, month: str) -> dict[str, float]:
        """job name -> recorded cost in USD for ``month``."""
        items = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SPEND#{month}"}},
        )
        return {str(i.get("job_name", "")): float(i.get("usd", 0)) for i in items}

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        return list(self._pages(kwargs, limit))

    def _pages(self, kwargs: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        count, start = 0, None
        while True:
            page_args = dict(kwargs, TableName=self.table)
            if start:
                page_args["ExclusiveStartKey"] = start
            if limit:
                page_args["Limit"] = limit - count
            page = self.dynamodb.query(**page_args)
            for item in page.get("Items", []):
                yield _plain(item)
                count += 1
            start = page.get("LastEvaluatedKey")
            if not start or (limit and count >= limit):
                return


def _upload_key(dataset: str, upload: str) -> dict[str, Any]:
    return {"pk": {"S": f"DATASET#{dataset}"}, "sk": {"S": f"UPLOAD#{upload}"}}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB item as plain values (S, N, L of S, BOOL)."""
    out: dict[str, Any] = {}
    for name, typed in item.items():
        (kind, value), *_ = typed.items()
        if kind == "N":
            out[name] = float(value)
        elif kind == "L":
            out[name] = [next(iter(v.values())) for v in value]
        else:
            out[name] = value
    return out
