"""How big a dataset one launcher invocation can check, and the rejection past it.

Measured (benchmarks/validate_scale.py, against moto's server): validating a folder costs
~0.57 ms of client CPU per label file, listing included, half of it on the Python thread
and half in obstore's runtime. At 1,769 MB (one vCPU) COCO's 118,287 label files take
~70 s; 800 of the 900 s limit then hold ~1.4 million. The limit below keeps a margin
for a slower vCPU. A zip is not bound by it: only its central directory and its labels
are read (one entry per label in the central directory, ~100 bytes each).
"""

from __future__ import annotations

from yolo_pipeline.dataset.budget import too_costly
from yolo_pipeline.dataset.storage.base import Storage
from yolo_pipeline.dataset.validation import Report
from yolo_pipeline.findings import error

# A folder's ceiling for one check: see the measurement above.
FOLDER_MAX_LABEL_FILES = 1_000_000


def folder_too_big(storage: Storage) -> Report | None:
    """A rejection when the folder holds more label files than one check can read."""
    labels = sum(1 for f in storage.list_files() if f.path.endswith(".txt"))
    if labels <= FOLDER_MAX_LABEL_FILES:
        return None
    finding = error(
        "labels",
        f"the folder holds {labels:,} label files; one check reads at most "
        f"{FOLDER_MAX_LABEL_FILES:,} within the launcher's 15-minute limit",
        hint="zip the dataset folder and upload the zip instead (yolo-pipeline upload "
        "x.zip s3://<bucket>/datasets/<name>.zip): only its labels are read",
    )
    return Report(location=storage.uri, valid=False, errors=[finding])


def over_budget(uri: str, is_zip: bool) -> Report:
    """The rejection of a check that ran out of the launcher's time: an answer, not a timeout
    (the finding's words are the validator budget's own)."""
    what = "its files could not all be read within the launcher's time limit"
    return Report(location=uri, valid=False, errors=[too_costly(what, is_zip, deadline=True)])
