"""A waiting upload's prepared start (the CreateTrainingJob request and the start email),
kept in the uploads table so that any check of the queue can start it, pinned to what was
validated, without validating the dataset again.

Item: ``pk = PENDING#<upload id>``, ``sk = PENDING``; emptied once the job starts or the
upload leaves the queue, and expired by TTL after the longest wait in any case.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from yolo_pipeline.aws.email import Email

KEEP_SECONDS = 400 * 24 * 3600


@dataclass(frozen=True)
class Prepared:
    """Everything needed to start one validated upload's job."""

    identity: dict[str, str]  # the upload's identity (launcher/s3_event.py)
    request: dict[str, Any]  # CreateTrainingJob's arguments
    email: Email  # the "Training started" email

    @property
    def job_name(self) -> str:
        return str(self.request["TrainingJobName"])


class PendingStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def put(self, upload: str, prepared: Prepared) -> None:
        email = prepared.email
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                **_key(upload),
                "identity": {"S": json.dumps(prepared.identity, sort_keys=True)},
                "request": {"S": json.dumps(prepared.request, sort_keys=True)},
                "email": {
                    "S": json.dumps(
                        {
                            "subject": email.subject,
                            "body": email.body,
                            "attributes": email.attributes,
                        }
                    )
                },
                "expiration": {"N": str(int(time.time()) + KEEP_SECONDS)},
            },
        )

    def get(self, upload: str) -> Prepared | None:
        item = self.dynamodb.get_item(
            TableName=self.table, Key=_key(upload), ConsistentRead=True
        ).get("Item")
        if not item or "request" not in item:
            return None
        email = json.loads(item["email"]["S"])
        return Prepared(
            identity=json.loads(item["identity"]["S"]),
            request=json.loads(item["request"]["S"]),
            email=Email(email["subject"], email["body"], dict(email["attributes"])),
        )

    def delete(self, upload: str) -> None:
        """Drop the payload (no DeleteItem: the launcher's role never deletes from the
        table); the empty item expires within a day."""
        self.dynamodb.update_item(
            TableName=self.table,
            Key=_key(upload),
            UpdateExpression="REMOVE #request, email, #identity SET expiration = :soon",
            ExpressionAttributeNames={"#request": "request", "#identity": "identity"},
            ExpressionAttributeValues={":soon": {"N": str(int(time.time()) + 24 * 3600)}},
        )


def _key(upload: str) -> dict[str, Any]:
    return {"pk": {"S": f"PENDING#{upload}"}, "sk": {"S": "PENDING"}}
