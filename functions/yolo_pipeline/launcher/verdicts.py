"""Every upload's outcome in the uploads table, where `status` and `upload --wait` read it.

States (aws/uploads.py): settling (the folder is still being written), rejected (with its
problems), image_missing, started (with the job's name), superseded (a newer write of the
same key has its own check). The table only moves an upload forward, so a late
redelivery never turns "started" back into "settling". Without ``UPLOADS_TABLE`` (local
runs) nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from yolo_pipeline.aws.uploads import UploadsTable, Verdict, upload_id
from yolo_pipeline.launcher.s3_event import Upload


class Verdicts:
    """Writes one upload's state; raises on a DynamoDB failure (the record is retried)."""

    def __init__(self, table: UploadsTable | None, dataset_prefix: str) -> None:
        self.table = table
        self.dataset_prefix = dataset_prefix

    def record(
        self,
        up: Upload,
        state: str,
        *,
        detail: str = "",
        job_name: str = "",
        problems: Iterable[object] = (),
    ) -> None:
        if self.table is None:
            return
        self.table.record(
            Verdict(
                dataset=up.dataset_name(self.dataset_prefix),
                upload_id=upload_id(up.identity_hash()),
                state=state,
                uri=up.dataset_uri,
                detail=detail,
                job_name=job_name,
                problems=tuple(str(p) for p in problems),
            )
        )
