"""Parse the S3 "Object Created" EventBridge event into the upload it announces.

Keys arrive URL-encoded (``+`` for a space); Powertools' data class decodes them. One
upload (one write of one object) is identified by bucket, key, sequencer, version id
(versioned buckets only) and ETag: a redelivered event carries the same values, a new
write of the same key gets a new sequencer. moto writes ``eTag`` where AWS writes
``etag``, and gives every event the same ``id`` (so ``id`` is never part of the identity).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from yolo_pipeline.contract import DATA_YAML, ZIP_SUFFIX
from yolo_pipeline.names import dataset_name
from yolo_pipeline.text import quote


@dataclass(frozen=True)
class Upload:
    """A data.yaml (or dataset zip) write under the dataset prefix: one training job."""

    bucket: str
    key: str  # decoded, e.g. "datasets/my set/data.yaml"
    sequencer: str
    etag: str = ""
    version_id: str | None = None
    size: int | None = None
    reason: str = ""

    @property
    def is_zip(self) -> bool:
        """A ``<prefix><name>.zip`` upload: one object, complete by nature."""
        return self.key.endswith(ZIP_SUFFIX)

    @property
    def folder(self) -> str:
        """The dataset folder key, with a trailing slash: ``datasets/my set/``.

        For a zip, the key without ``.zip`` and with a slash (the name its job carries).
        """
        if self.is_zip:
            return self.key[: -len(ZIP_SUFFIX)] + "/"
        return self.key[: -len(DATA_YAML)]

    @property
    def dataset_uri(self) -> str:
        """What the job trains on: the folder (``s3://b/datasets/x/``) or the zip object."""
        return self.uri if self.is_zip else self.folder_uri

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def folder_uri(self) -> str:
        return f"s3://{self.bucket}/{self.folder}"

    def dataset_name(self, dataset_prefix: str) -> str:
        """The one dataset name (``my set``, ``team/set`` nested, ``cats`` for ``cats.zip``)."""
        return dataset_name(self.key, dataset_prefix)

    def identity(self) -> dict[str, str]:
        """What makes this write unique; the idempotency payload and the job-name seed."""
        ident = {"bucket": self.bucket, "key": self.key, "sequencer": self.sequencer}
        if self.version_id:
            ident["version_id"] = self.version_id
        if self.etag:
            ident["etag"] = self.etag
        return ident

    def identity_hash(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_identity(cls, ident: dict[str, str]) -> Upload:
        return cls(
            bucket=ident["bucket"],
            key=ident["key"],
            sequencer=ident["sequencer"],
            etag=ident.get("etag", ""),
            version_id=ident.get("version_id"),
        )


def _is_dataset_zip(key: str, prefix: str) -> bool:
    """``<prefix><name>.zip`` directly under the prefix (a zip inside a folder is data).

    Lower-case ``.zip`` only: EventBridge's wildcard is case-sensitive, so the rule never
    delivers ``.ZIP``; `yolo-pipeline upload` refuses such a key for the same reason."""
    name = key[len(prefix) :]
    return name.endswith(ZIP_SUFFIX) and "/" not in name and len(name) > len(ZIP_SUFFIX)


@dataclass(frozen=True)
class Ignored:
    """An event the launcher does not act on, and why (logged, never an error)."""

    reason: str


def _malformed(event: dict[str, Any]) -> str | None:
    """Why ``event`` does not have the shape of an S3 Object Created event, if it does not."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return f"event has no detail object (got {type(detail).__name__})"
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        return "event detail has no bucket or object mapping"
    if not isinstance(bucket.get("name"), str) or not bucket.get("name"):
        return "event has no bucket name"
    for name in ("key", "sequencer"):
        if not isinstance(obj.get(name), str) or not obj.get(name):
            return f"event has no object {name} string"
    size = obj.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        return f"event object size is not a number (got {type(size).__name__})"
    for name in ("etag", "eTag", "version-id"):
        if obj.get(name) is not None and not isinstance(obj.get(name), str):
            return f"event object {name} is not a string"
    if detail.get("reason") is not None and not isinstance(detail.get("reason"), str):
        return "event detail reason is not a string"
    return None


def parse_upload(event: dict[str, Any], dataset_prefix: str) -> Upload | Ignored:
    """The upload in ``event``, or why the event is not a dataset upload; never raises."""
    if not isinstance(event, dict):
        return Ignored("event is not a JSON object")
    if event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
        return Ignored(
            f"not an S3 Object Created event (source={quote(event.get('source'), 60)}, "
            f"detail-type={quote(event.get('detail-type'), 60)})"
        )
    problem = _malformed(event)
    if problem:
        return Ignored(f"malformed event: {problem}")
    try:
        return _upload(S3EventBridgeNotificationEvent(event), dataset_prefix)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a shape we missed
        return Ignored(f"malformed event: {type(exc).__name__}: {quote(str(exc), 100)}")


def _upload(parsed: S3EventBridgeNotificationEvent, dataset_prefix: str) -> Upload | Ignored:
    raw_object = parsed.detail["object"]
    bucket = parsed.detail["bucket"]["name"]
    obj = parsed.detail.object
    key = obj.key
    prefix = dataset_prefix.lstrip("/")
    if not key.startswith(prefix):
        return Ignored(f"key {quote(key, 200)} is outside the dataset prefix {quote(prefix)}")
    if _is_dataset_zip(key, prefix):
        pass  # <prefix><name>.zip
    elif key.rsplit("/", 1)[-1] != DATA_YAML or len(key) <= len(prefix) + len(DATA_YAML) + 1:
        return Ignored(f"key {quote(key, 200)} is not <prefix><dataset>/{DATA_YAML}")
    if not _is_dataset_zip(key, prefix) and not key[len(prefix) : -len(DATA_YAML)].strip("/"):
        return Ignored(f"key {quote(key, 200)} has no dataset folder")
    version = raw_object.get("version-id")
    return Upload(
        bucket=str(bucket),
        key=key,
        sequencer=str(obj.sequencer),
        # AWS writes "etag"; moto writes "eTag". ETags are quoted in some clients.
        etag=str(raw_object.get("etag") or raw_object.get("eTag") or "").strip('"'),
        version_id=str(version) if version not in (None, "", "null") else None,
        size=raw_object.get("size"),
        reason=str(parsed.detail.get("reason") or ""),
    )
