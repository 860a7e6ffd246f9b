"""The uploads table as template.yaml declares it, created in moto for the tests."""

from __future__ import annotations

from typing import Any

from yolo_pipeline.aws.uploads import INDEX_QUEUE, INDEX_RECENT


def create_uploads_table(dynamodb: Any, name: str = "uploads") -> str:
    """Keys, indexes and TTL as in template.yaml (UploadsTable)."""
    strings = ("pk", "sk", "kind", "updated_at", "queue", "queued_at")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in strings],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            _index(INDEX_RECENT, "kind", "updated_at"),
            _index(INDEX_QUEUE, "queue", "queued_at"),
        ],
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    return name


def _index(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
